"""Escalation fixtures: support staff signed in with OTP, and real escalated flows at the merchant (the sandbox
over HTTP, or the in-memory fake merchant where a module overrides `shop`)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from config.tracing import trace_context
from escalations.models import Escalation
from escalations.staff import support_group_ensure
from ordering.models import OrderFlow
from ordering.services import flow_confirm
from tests.ordering import conftest as ordering_fixtures

# The order-flow tests' sandbox shop on a live socket (`eager_tasks` is suite-wide), and the fake merchant's
# (`fake_shop`) for modules whose subject is not the merchant wire.
shop = ordering_fixtures.shop
fake_shop = ordering_fixtures.fake_shop

CHANGELIST = "/admin/escalations/escalation/"


def detail_url(escalation: Escalation) -> str:
    return f"{CHANGELIST}{escalation.pk}/change/"


def act_url(escalation: Escalation, action: str) -> str:
    return f"{CHANGELIST}{escalation.pk}/act/{action}/"


def press(client, escalation: Escalation, action: str, data: dict | None = None) -> list[str]:
    """Press a console button; returns the messages shown on the detail page it lands on."""
    response = client.post(act_url(escalation, action), data or {}, follow=True)
    assert response.redirect_chain == [(detail_url(escalation), 302)]
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"]]


def fresh(instance):
    return type(instance).objects.get(pk=instance.pk)


@pytest.fixture
def make_staff(db):
    """`make_staff(username, support=True)`: a staff user, in the support group unless support=False."""

    def make(username: str, *, support: bool = True, email: str | None = None):
        user = get_user_model().objects.create_user(
            username,
            email=f"{username}@support.example" if email is None else email,
            password="irrelevant-pass-9",
            is_staff=True,
        )
        if support:
            user.groups.add(support_group_ensure())
        return user

    return make


@pytest.fixture
def sam(make_staff):
    return make_staff("sam")


@pytest.fixture
def sam_client(sam, otp_login):
    return otp_login(sam)


def _confirm(shop, *, card: str = "pm_alice_visa") -> OrderFlow:
    """Start and confirm a flow for alice under one trace, as the chat widget's requests would."""
    with trace_context():
        flow = shop.start_flow(card=card)
        flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    return fresh(flow)


@pytest.fixture
def payment_verification(shop, eager_tasks):
    """A flow the card issuer stopped for 3-D Secure (a mandated challenge): requires_action, with its escalation.
    Only the customer's bank verification can pay it; two specialists' verification is refused by the merchant."""
    flow = _confirm(shop, card="pm_alice_3ds")
    assert flow.status == "requires_action"
    return Escalation.objects.get(flow=flow, reason="payment_verification")


@pytest.fixture
def payment_verification_unannounced(shop, eager_tasks):
    """As `payment_verification` (the issuer mandates its own challenge, so two specialists' verification is
    refused), at a merchant that does not say so (ACP's `flow_preference` is optional): the console cannot tell, so it
    offers the first verification. The in-memory fake merchant only (`fake_shop`)."""
    shop.sandbox.announces_challenge = False
    flow = _confirm(shop, card="pm_alice_3ds")
    assert flow.status == "requires_action"
    return Escalation.objects.get(flow=flow, reason="payment_verification")


@pytest.fixture
def payment_verification_preferred(shop, eager_tasks):
    """A flow the merchant (not the card's issuer) stopped for 3-D Secure, as its own preference: requires_action,
    with its escalation. Two specialists' verification can pay it (the merchant takes `not_supported`)."""
    shop.merchant_prefers_3ds()
    flow = _confirm(shop, card="pm_alice_visa")
    assert flow.status == "requires_action"
    return Escalation.objects.get(flow=flow, reason="payment_verification")


@pytest.fixture
def risk_review(shop, eager_tasks, settings):
    """A first order scored for human review: escalated, with its escalation."""
    settings.ORDERING_RISK_REVIEW_SCORE = 10
    flow = _confirm(shop)
    assert flow.status == "escalated"
    return Escalation.objects.get(flow=flow, reason="risk_review")


@pytest.fixture
def compensation_failed(shop, eager_tasks, settings):
    """A declined order whose stock hold could not be released (the merchant's cancel keeps failing)."""
    settings.ORDERING_UNDO_GIVE_UP_SECONDS = 0  # no deadline: it gives up at its first failure
    shop.sandbox.add_fault("server_error", operation="cancel", times=50)
    flow = _confirm(shop, card="pm_alice_decline")
    assert flow.status == "escalated"
    return Escalation.objects.get(flow=flow, reason="compensation_failed")
