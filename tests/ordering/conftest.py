"""A shop for flow tests, alice's demo wallet seeded, the registry pointed at it: `fake_shop` (the in-memory
fake merchant, the test rolls back) or `shop` (the sandbox merchant over HTTP on a live socket, real commits).
The wallet is `consent_demo_seed()`'s, written by the real services once per process and replayed after that
(tests/support/seed_replay.py).

Which one: `fake_shop` wherever the merchant is incidental to what the test is about (what the assistant
understands and answers, caps and consent, policies, the saga's own bookkeeping). `shop` where the subject
is the merchant over the wire: the HTTP client, retries, timeouts and faults (`add_fault`), what the sandbox
received (`received_requests`), webhooks, races between threads or processes, the browser, and the
end-to-end paths the project keeps on real HTTP. A module switches to the fake by overriding `shop`:

    @pytest.fixture
    def shop(fake_shop):
        return fake_shop
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model

from catalog_adapters.registry import get_merchant, reset_merchants
from consent.models import Address, PaymentMethod
from ordering.models import OrderFlow
from ordering.services import conversation_start, flow_preview, flow_start
from tests.support.checkout_requests import home_checkout_request
from tests.support.sandbox import BLUE_RUNNER_42
from tests.support.seed_replay import consent_demo_restore

QUICK_MERCHANT = {
    "CONNECT_TIMEOUT": 1.0,
    "READ_TIMEOUT": 2.0,
    "MAX_ATTEMPTS": 3,
    "BACKOFF_BASE": 0.01,
    "BACKOFF_CAP": 0.02,
    "RETRY_AFTER_CAP": 1.0,
    "BREAKER_THRESHOLD": 50,
    "RATE_LIMIT": 0.0,
}


@dataclass
class Shop:
    sandbox: object
    alice: object

    def card(self, vault_reference: str = "pm_alice_visa") -> PaymentMethod:
        return PaymentMethod.objects.get(user=self.alice, vault_reference=vault_reference)

    def held(self, session_id: str) -> int:
        """Units the merchant holds for this checkout session now (open, not lapsed), where it keeps them."""
        return self.sandbox.session_held(session_id)

    def home(self) -> Address:
        return Address.objects.get(user=self.alice, label="Home")

    def merchant_prefers_3ds(self) -> None:
        """From now on the merchant's own risk check asks every complete for 3-D Secure: a challenge it prefers
        (flow_preference challenge/preferred), not one the card's issuer mandates (as for `pm_alice_3ds`), so it
        takes a payment verified out of band (`not_supported`, our two specialists) without a liability shift."""
        if hasattr(self.sandbox, "fault"):  # the fake merchant
            self.sandbox.fault("requires_3ds")
        else:
            self.sandbox.add_fault("requires_3ds", "complete")

    def start_flow(
        self, *, card: str = "pm_alice_visa", variant: str = BLUE_RUNNER_42, quantity: int = 1, codes=(), user=None
    ) -> OrderFlow:
        """A previewed flow in a conversation of its own: a real checkout session at the sandbox, priced by it
        (alice's unless another demo `user` is given)."""
        return previewed_flow(user=user or self.alice, card=card, variant=variant, quantity=quantity, codes=codes)


def previewed_flow(*, user, card: str, variant: str, quantity: int = 1, codes=()) -> OrderFlow:
    request, home = home_checkout_request(user, ((variant, quantity),), shipping="ship_standard", codes=tuple(codes))
    session = get_merchant("sandbox").checkout.create(request=request, operation_id=f"test-create-{uuid.uuid4().hex}")
    conversation = conversation_start(customer_id=user.pk)
    flow = flow_start(conversation=conversation, merchant_id="sandbox", checkout_session_id=session.id)
    return flow_preview(
        flow_id=flow.pk,
        customer_id=user.pk,
        session=session,
        payment_method_id=PaymentMethod.objects.get(user=user, vault_reference=card).pk,
        address_id=home.pk,
    )


@pytest.fixture
def fake_shop(production_commits, fake_merchant, settings) -> Shop:
    """Alice's shop on the in-memory fake merchant (tests/support/fake_merchant.py), in a test that rolls back
    (`db`), on_commit callbacks run where production commits (`production_commits`). `shop.sandbox` is the
    `FakeMerchant`: `set_stock`, `set_price`, `available`, `fault`, `calls`, `sessions`, `orders_by_id`."""
    settings.ORDERING_STEP_RETRY_BASE_SECONDS = 0
    settings.ORDERING_STEP_MAX_ATTEMPTS = 3
    consent_demo_restore()
    return Shop(sandbox=fake_merchant, alice=get_user_model().objects.get(username="alice"))


@pytest.fixture
def shop(sandbox_merchant, live_server, settings):
    """Alice's shop on the sandbox merchant over HTTP (live server, real commits): for tests about the wire."""
    settings.SANDBOX_MERCHANT_WEBHOOK_URL = f"{live_server.url}/webhooks/merchants/sandbox/"
    settings.MERCHANTS = {
        **settings.MERCHANTS,
        "sandbox": {**settings.MERCHANTS["sandbox"], **QUICK_MERCHANT, "BASE_URL": sandbox_merchant.base_url},
    }
    settings.ORDERING_STEP_RETRY_BASE_SECONDS = 0
    settings.ORDERING_STEP_MAX_ATTEMPTS = 3
    reset_merchants()
    consent_demo_restore()
    yield Shop(sandbox=sandbox_merchant, alice=get_user_model().objects.get(username="alice"))
    merchant = get_merchant("sandbox")
    merchant.http.breaker.reset()
    merchant.http.rate_limiter.reset()
    reset_merchants()
