"""Bench customers: a customer of the sandbox shop (an address, an approving card, the blue running
shoes liked a week ago) and our user linked to it with the demo's grants, signed in.

The sandbox's rows are written by the shop's own bench seed (`manage.py seed_sandbox_bench_customers`,
sandbox_merchant/benchmark.py), as `make run` calls its demo seed: nothing of ours imports the sandbox. Our side goes
through the same services as the demo seed (consent.demo.demo_wallet_give).

Run as a script (`python -m ordering.benchmark.customers COUNT PREFIX`) it does the same in the
database of its own settings and prints the sessions as JSON: how `make run`'s SQLite database gets
its customers.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.crypto import get_random_string

SANDBOX = "sandbox"


@dataclass(frozen=True)
class SignedIn:
    user_id: int
    username: str
    cookie: str  # the Cookie header: session and CSRF cookie
    csrf: str  # the X-CSRFToken header


def shop_stock_plenty() -> None:
    """Every variant in stock for the whole run: 200 sessions buying the same shoes must not run out."""
    from django.core.management import call_command

    call_command("seed_sandbox_bench_customers", stock_plenty=True, verbosity=0)


def customers_create(count: int, *, prefix: str = "bench") -> list[SignedIn]:
    from django.core.management import call_command
    from django.test import Client

    from consent.demo import demo_wallet_give

    user_model = get_user_model()
    signed_in = []
    names = [f"{prefix}{index:05d}" for index in range(count)]
    if names:
        call_command("seed_sandbox_bench_customers", *names, verbosity=0)
    for index in range(count):
        name = f"{prefix}{index:05d}"
        customer_id, card = f"cus_{name}", f"pm_{name}_visa"
        email = f"{name}@bench.example"
        user = user_model.objects.create(username=name, email=email, first_name="Bench")
        spec = {
            "customer_ref": customer_id,
            "email": email,
            "cards": [(card, "visa", "4242", True)],
            "addresses": [
                {
                    "label": "Home", "recipient": f"Bench {name}", "line1": "1 Market Street",
                    "city": "San Francisco", "region": "CA", "postal_code": "94105", "country": "US",
                }
            ],
        }  # fmt: skip
        demo_wallet_give(user_id=user.pk, spec=spec)
        client = Client()
        client.force_login(user)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        csrf = get_random_string(32)
        cookie = f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={csrf}"
        signed_in.append(SignedIn(user_id=user.pk, username=name, cookie=cookie, csrf=csrf))
    return signed_in


def main() -> None:
    import django

    django.setup()
    count, prefix = int(sys.argv[1]), sys.argv[2]
    from django.core.management import call_command

    call_command("seed_sandbox_merchant", verbosity=0)
    shop_stock_plenty()
    print(json.dumps([asdict(item) for item in customers_create(count, prefix=prefix)]))


if __name__ == "__main__":
    main()
