"""A flow that stops again for the same thing does not post the same request to the customer again while it is still
the last thing they were told about the order (alice's 3-D Secure card: each verification the merchant refuses used to
add another "Your bank wants to verify this payment…"). At the in-memory fake merchant: the saga's bookkeeping is the
subject, not the wire.
"""

from __future__ import annotations

import pytest

from ordering.models import FlowStatus, Message, MessageRole, OrderFlow
from ordering.saga import resumes
from ordering.services import conversation_post, flow_confirm

BANK_ASKS = "Your bank wants to verify this payment."

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    return fake_shop


@pytest.fixture
def specialists(django_user_model):
    return [
        django_user_model.objects.create_user(name, password="irrelevant-9", is_staff=True)
        for name in ("recorder", "confirmer")
    ]


def _waiting_for_the_bank(shop) -> OrderFlow:
    flow = shop.start_flow(card="pm_alice_3ds")  # its issuer mandates the challenge: specialists are refused
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    flow = OrderFlow.objects.get(pk=flow.pk)
    assert (flow.status, flow.waiting_for) == (FlowStatus.REQUIRES_ACTION, "payment_verification")
    return flow


def _specialists_verify(flow: OrderFlow, specialists) -> OrderFlow:
    recorder, confirmer = specialists
    resumes.flow_staff_verify_payment(flow_id=flow.pk, staff_id=confirmer.pk, recorded_by=recorder.pk, note="phone")
    flow = OrderFlow.objects.get(pk=flow.pk)
    assert flow.status == FlowStatus.REQUIRES_ACTION  # the merchant refused it: the flow waits for the bank again
    return flow


def _requests(flow: OrderFlow) -> list[Message]:
    return list(Message.objects.filter(conversation_id=flow.conversation_id, text__startswith=BANK_ASKS).order_by("id"))


def test_a_refused_verification_does_not_post_the_same_request_again(shop, specialists):
    flow = _waiting_for_the_bank(shop)
    [asked] = _requests(flow)

    flow = _specialists_verify(flow, specialists)
    flow = _specialists_verify(flow, specialists)

    assert flow.payment_attempt == 2
    assert _requests(flow) == [asked]
    assert Message.objects.filter(conversation_id=flow.conversation_id).order_by("id").last() == asked


def test_the_request_is_posted_again_once_something_else_was_said_about_the_order(shop, specialists):
    # given: after the first request, the customer was told something else about this order (a failed bank check)
    flow = _waiting_for_the_bank(shop)
    conversation_post(
        conversation_id=flow.conversation_id,
        role=MessageRole.ASSISTANT,
        text="Your bank did not confirm the payment, so nothing was charged and the order is waiting.",
        data={"kind": "flow_requires_action", "flow_id": str(flow.pk), "code": "payment_verification"},
    )

    # when: the merchant asks for the bank's check again
    flow = _specialists_verify(flow, specialists)

    # then: the request is the last word again, with its link
    first, again = _requests(flow)
    assert again.text == first.text and again.data == first.data
    assert Message.objects.filter(conversation_id=flow.conversation_id).order_by("id").last() == again


def test_a_message_about_another_order_does_not_count(shop, specialists):
    # given: the assistant spoke about another order of the same chat after the request
    flow = _waiting_for_the_bank(shop)
    conversation_post(
        conversation_id=flow.conversation_id,
        role=MessageRole.ASSISTANT,
        text="Your other order is placed.",
        data={"kind": "flow_placed", "flow_id": "00000000-0000-0000-0000-000000000000"},
    )

    flow = _specialists_verify(flow, specialists)

    # then: the last thing said about *this* order is still the request: not posted again
    assert len(_requests(flow)) == 1
