"""Risk: a card or shipping address added recently (by a person, not the demo seed) asks for step-up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from consent.demo import consent_demo_seed
from consent.models import Address, PaymentMethod
from consent.services.stepup import stepup_enrol_begin, stepup_enrol_confirm, stepup_verify
from consent.services.wallet import address_add, payment_method_add
from ordering.models import FlowStatus, OrderFlow
from ordering.risk import ALLOW, REVIEW, STEP_UP, risk_assess
from ordering.services import flow_confirm, flow_resume_after_step_up
from tests.support.merchant_state import merchant_order_count

pytestmark = pytest.mark.postgres


@pytest.fixture
def shop(fake_shop, settings):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back. It takes
    American Express too (its card handler's accepted_brands), the brand of the card alice adds."""
    settings.SANDBOX_MERCHANT_ACCEPTED_BRANDS = ["mastercard", "visa", "amex"]
    return fake_shop


WORK = {
    "label": "Work",
    "recipient": "Alice Example",
    "line1": "500 Office Park",
    "city": "Springfield",
    "region": "IL",
    "postal_code": "62704",
    "country": "US",
}


@pytest.fixture
def new_card(shop):
    """A card alice just added herself: in the shop's vault, saved through the merchant check (real HTTP)."""
    shop.sandbox.add_card("pm_alice_amex", customer_id="cus_alice", brand="amex", last4="0005")
    return payment_method_add(user_id=shop.alice.pk, merchant_id="sandbox", vault_reference="pm_alice_amex")


def _established(shop) -> None:
    """Alice places an order to her home with her old card first (needs eager_tasks)."""
    earlier = shop.start_flow()
    flow_confirm(flow_id=earlier.pk, customer_id=shop.alice.pk, preview_hash=earlier.preview_hash)
    assert OrderFlow.objects.get(pk=earlier.pk).status == FlowStatus.PLACED


def _code(device: TOTPDevice, step: int) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=step):06d}"


def _authenticator(user) -> TOTPDevice:
    """A confirmed app whose next codes (drift 1, 2, 3) are all accepted now, whatever the clock does."""
    device = stepup_enrol_begin(user_id=user.pk)
    device.tolerance = 5
    device.save(update_fields=["tolerance"])
    stepup_enrol_confirm(user_id=user.pk, code=_code(device, 0))
    return TOTPDevice.objects.get(pk=device.pk)


def test_the_seeded_card_and_address_do_not_count_as_recent(shop):
    assessment = risk_assess(flow=shop.start_flow())

    assert assessment.decision == ALLOW
    assert assessment.reasons == ["first order", "address not used for an order before"]


@pytest.mark.usefixtures("eager_tasks")
def test_a_card_added_within_the_window_asks_for_step_up(shop, new_card, settings):
    _established(shop)
    assert risk_assess(flow=shop.start_flow()).decision == ALLOW  # the same order with her old card
    flow = shop.start_flow(card="pm_alice_amex")

    assessment = risk_assess(flow=flow)

    assert assessment.decision == STEP_UP
    assert assessment.score == settings.ORDERING_RISK_RECENT_INSTRUMENT_POINTS >= settings.ORDERING_RISK_STEP_UP_SCORE
    assert assessment.reasons == ["card added in the last 24 hours"]
    # older than the window, the same card is just a card
    PaymentMethod.objects.filter(pk=new_card.pk).update(created_at=timezone.now() - timedelta(hours=25))
    assert risk_assess(flow=OrderFlow.objects.get(pk=flow.pk)).decision == ALLOW


def test_an_address_added_within_the_window_asks_for_step_up_and_is_scored_once(shop, settings):
    flow = shop.start_flow()
    flow.shipping_address = address_add(user_id=shop.alice.pk, **WORK)

    assessment = risk_assess(flow=flow)

    assert assessment.decision == STEP_UP
    assert assessment.reasons == ["first order", "shipping address added in the last 24 hours"]
    assert (
        assessment.score == settings.ORDERING_RISK_FIRST_ORDER_POINTS + settings.ORDERING_RISK_RECENT_INSTRUMENT_POINTS
    )
    settings.ORDERING_RISK_RECENT_INSTRUMENT_HOURS = 0
    assert risk_assess(flow=flow).decision == ALLOW


@pytest.mark.usefixtures("eager_tasks")
def test_an_order_paid_with_a_just_added_card_waits_for_a_code_then_places(shop, new_card):
    _established(shop)
    flow = shop.start_flow(card="pm_alice_amex")

    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)

    flow = OrderFlow.objects.get(pk=flow.pk)
    assert (flow.status, flow.waiting_for) == (FlowStatus.REQUIRES_ACTION, "step_up")
    assert merchant_order_count() == 1  # only the earlier order

    # setting up an authenticator now is not enough: that is what a thief holding the session could do
    device = _authenticator(shop.alice)
    with pytest.raises(Exception, match="verify with your authenticator code first"):
        flow_resume_after_step_up(flow_id=flow.pk, customer_id=shop.alice.pk)

    stepup_verify(user_id=shop.alice.pk, code=_code(device, 1))
    flow_resume_after_step_up(flow_id=flow.pk, customer_id=shop.alice.pk)

    assert OrderFlow.objects.get(pk=flow.pk).status == FlowStatus.PLACED
    assert merchant_order_count() == 2  # the earlier one and this one


@pytest.mark.usefixtures("eager_tasks")
def test_a_code_verified_before_the_card_was_added_does_not_vouch_for_it(shop):
    _established(shop)
    device = _authenticator(shop.alice)
    stepup_verify(user_id=shop.alice.pk, code=_code(device, 1))
    shop.sandbox.add_card("pm_alice_amex", customer_id="cus_alice", brand="amex", last4="0005")
    payment_method_add(user_id=shop.alice.pk, merchant_id="sandbox", vault_reference="pm_alice_amex")
    flow = shop.start_flow(card="pm_alice_amex")

    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)

    assert OrderFlow.objects.get(pk=flow.pk).waiting_for == "step_up"
    stepup_verify(user_id=shop.alice.pk, code=_code(device, 2))
    flow_resume_after_step_up(flow_id=flow.pk, customer_id=shop.alice.pk)
    assert OrderFlow.objects.get(pk=flow.pk).status == FlowStatus.PLACED


def test_everything_new_at_once_goes_to_a_person(shop, new_card):
    # a first order, to an address never used, paid with a card added minutes ago: the pattern of a takeover
    assessment = risk_assess(flow=shop.start_flow(card="pm_alice_amex"))

    assert assessment.decision == REVIEW
    assert assessment.reasons == [
        "first order",
        "card added in the last 24 hours",
        "address not used for an order before",
    ]


def test_the_seed_marks_its_rows_as_the_systems(db):
    # The services themselves (the fixtures replay what they wrote: tests/support/seed_replay.py).
    consent_demo_seed()
    alice = get_user_model().objects.get(username="alice")
    assert set(PaymentMethod.objects.filter(user=alice).values_list("added_by", flat=True)) == {"system"}
    assert set(Address.objects.filter(user=alice).values_list("added_by", flat=True)) == {"system"}
