"""The shop's side of `make bench`'s customers (ordering/benchmark/customers.py): shoppers of the sandbox
with an address, an approving card and the blue running shoes liked a week ago, and stock plenty for a
whole run. The bench reaches this through the management command `seed_sandbox_bench_customers`, as
`make run` reaches the demo seed, never by importing the sandbox."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from sandbox_merchant.models import (
    CardBehaviour,
    Customer,
    CustomerAddress,
    SavedItem,
    SavedItemKind,
    Variant,
    VaultCard,
)


def bench_stock_plenty() -> None:
    """Every variant in stock for the whole run: 200 sessions buying the same shoes must not run out."""
    Variant.objects.update(stock=1_000_000)


@transaction.atomic
def bench_customers_seed(names: list[str]) -> None:
    """One shop customer per name: `cus_<name>` with card `pm_<name>_visa` (approves), a home address in
    San Francisco and the Blue Runner in 42 liked six days ago."""
    now = timezone.now()
    for name in names:
        customer = Customer.objects.create(
            id=f"cus_{name}", email=f"{name}@bench.example", first_name="Bench", last_name=name
        )
        CustomerAddress.objects.create(
            customer=customer, label="home", is_default=True, name=f"Bench {name}", line_one="1 Market Street",
            city="San Francisco", state="CA", country="US", postal_code="94105",
        )  # fmt: skip
        VaultCard.objects.create(
            reference=f"pm_{name}_visa", customer=customer, brand="visa", last4="4242", exp_month=12,
            exp_year=now.year + 3, behaviour=CardBehaviour.APPROVE,
        )  # fmt: skip
        SavedItem.objects.create(
            customer=customer, kind=SavedItemKind.LIKED, product_id="prod_blue_runner",
            variant_id="var_blue_runner_42", saved_at=now - timedelta(days=6),
        )  # fmt: skip
