"""The merchant client's own CPU per call (docs/performance.md, "The merchant client's CPU per call").

Against a running sandbox merchant (its URL in MERCHANT_SANDBOX_BASE_URL, seeded with
`seed_sandbox_merchant` and `seed_sandbox_bench_customers --stock-plenty`), under the bench's settings:

    DJANGO_SETTINGS_MODULE=config.settings.bench BENCH_REDIS_URL=redis://127.0.0.1:6379/<n> \\
        MERCHANT_SANDBOX_BASE_URL=http://127.0.0.1:<port> python -m ordering.benchmark.merchant_client_cpu 150

repeats the seed turn's four kinds of merchant call (saved products with their products, a product, a checkout
create, an update with a promotion code) and prints this process's CPU time per call (`time.process_time()`:
the sandbox's and Redis's CPU are not in it). Compare two versions by running them alternately.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime, timedelta


def main(rounds: int) -> str:
    import django

    django.setup()
    from catalog_adapters.contract import Address, Buyer, CheckoutRequest, FulfillmentDetails, LineItemRequest
    from catalog_adapters.registry import get_merchant
    from config.tracing import trace_context

    merchant = get_merchant("sandbox")
    buyer = Buyer(email="alice@example.com", first_name="Alice", last_name="Doe")
    address = Address(
        name="Alice Doe", line_one="1 Main St", city="Springfield", state="IL", country="US", postal_code="62701"
    )
    details = FulfillmentDetails(name="Alice Doe", address=address, email="alice@example.com")
    since = datetime.now(UTC) - timedelta(days=30)
    run = f"cpu{os.getpid()}"

    def four_calls(index: int) -> None:
        saved = merchant.catalog.list_saved_products(customer_id="cus_alice", kind="liked", since=since, limit=10)
        product = merchant.catalog.get_product(product_id=saved[0].product.id)
        variant = next(v for v in product.variants if v.available)
        request = CheckoutRequest(
            line_items=(LineItemRequest(id=variant.id, quantity=1),), currency="usd", buyer=buyer,
            fulfillment_details=details,
        )  # fmt: skip
        session = merchant.checkout.create(request=request, operation_id=f"{run}-{index}-create")
        merchant.checkout.update(
            session_id=session.id,
            request=CheckoutRequest(discount_codes=("SAVE10",)),
            operation_id=f"{run}-{index}-promo",
        )

    with trace_context():
        for index in range(5):  # warm-up: connections, the limiter's lease size
            four_calls(-index - 1)
        cpu, wall = time.process_time(), time.perf_counter()
        for index in range(rounds):
            four_calls(index)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    calls = 4 * rounds
    return f"CPU per call {1000 * cpu / calls:.3f} ms, wall per call {1000 * wall / calls:.3f} ms ({calls} calls)"


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")
    sys.stdout.write(main(int(sys.argv[1]) if len(sys.argv) > 1 else 150) + "\n")
