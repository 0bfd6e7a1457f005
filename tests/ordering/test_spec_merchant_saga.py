"""The placement saga against a merchant that answers as the ACP 2026-04-17 spec's examples do
(tests/support/spec_merchant.py on a real socket; eager tasks, real PostgreSQL and Redis, real commits):

- payment handlers listed only on the create answer (later answers say `"handlers": []`) still pay (audit 3);
- no token revoke endpoint (a sandbox extension): a decline, a price change or a refused mint ends as with the
  sandbox, without a revoke call, a re-mint or an escalation; a 404 from a revoke is "not offered" (audit 5);
- complete answered complete_in_progress / pending_approval / requires_escalation is no failure: the flow waits,
  the reservation stands, the session stays open, and a later completed session or order webhook places it
  once, also when the webhook arrives while a read of the session runs (audit 6).
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass

import pytest
import requests
from django.contrib.auth import get_user_model
from django.db import connection

from audit.models import AuditEvent
from catalog_adapters.registry import get_merchant
from consent.demo import consent_demo_seed
from consent.models import PaymentMethod
from escalations.models import Escalation
from ordering.models import CompensationStatus, FlowCompensation, FlowStatus, OrderFlow
from ordering.saga.engine import flow_run
from ordering.services import conversation_start, flow_confirm, flow_preview, flow_start
from tests.ordering.saga_reads import ledger, messages
from tests.support import spec_merchant
from tests.support.checkout_requests import home_checkout_request
from tests.webhooks.conftest import deliver, order_event

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis]

SECRET = "whsec-webhooks-test"  # what tests.webhooks.conftest.deliver signs with
QUICK = {
    "TOKEN": spec_merchant.TOKEN,
    "API_VERSION": "2026-04-17",
    "WEBHOOK_SECRET": SECRET,
    "CONNECT_TIMEOUT": 1.0,
    "READ_TIMEOUT": 5.0,
    "MAX_ATTEMPTS": 1,
    "BACKOFF_BASE": 0.01,
    "BACKOFF_CAP": 0.02,
    "RETRY_AFTER_CAP": 1.0,
    "BREAKER_THRESHOLD": 50,
    "RATE_LIMIT": 0.0,
    "CAPABILITIES": ["checkout", "vault"],
    "SANDBOX": True,  # rollout phase 0 places orders only with test merchants
}


@dataclass
class Spec:
    url: str
    merchant_id: str
    alice: object

    def control(self, **values) -> None:
        spec_merchant.control(self.url, **values)

    def wire(self) -> list[tuple[str, str, int]]:
        log = requests.get(f"{self.url}/__log", timeout=5).json()["log"]
        return [(entry["method"], entry["path"], entry.get("status")) for entry in log]

    def session(self, session_id: str) -> dict:
        return requests.get(f"{self.url}/__sessions", timeout=5).json()[session_id]

    def confirmed(self) -> OrderFlow:
        """Alice's previewed flow on a new session at the spec merchant, confirmed (the saga runs)."""
        request, home = home_checkout_request(self.alice, (("item_123", 1),))
        card = PaymentMethod.objects.filter(user=self.alice, brand="visa").order_by("pk").first()
        session = get_merchant(self.merchant_id).checkout.create(
            request=request, operation_id=f"spec-create-{uuid.uuid4().hex}"
        )
        flow = flow_start(
            conversation=conversation_start(customer_id=self.alice.pk),
            merchant_id=self.merchant_id,
            checkout_session_id=session.id,
        )
        flow = flow_preview(
            flow_id=flow.pk, customer_id=self.alice.pk, session=session, payment_method_id=card.pk, address_id=home.pk
        )
        flow_confirm(flow_id=flow.pk, customer_id=self.alice.pk, preview_hash=flow.preview_hash)
        return OrderFlow.objects.get(pk=flow.pk)


@pytest.fixture
def spec(spec_url, settings, eager_tasks):
    spec_merchant.reset()
    merchant_id = f"spec{uuid.uuid4().hex[:10]}"  # its own breaker and rate state
    settings.MERCHANTS = {**settings.MERCHANTS, merchant_id: {**QUICK, "ID": merchant_id, "BASE_URL": spec_url}}
    settings.ORDERING_STEP_RETRY_BASE_SECONDS = 0
    settings.ORDERING_STEP_MAX_ATTEMPTS = 3
    settings.ORDERING_MERCHANT_WAIT_POLL_BASE_SECONDS = 5
    consent_demo_seed()
    yield Spec(url=spec_url, merchant_id=merchant_id, alice=get_user_model().objects.get(username="alice"))
    spec_merchant.reset()


def calls(spec: Spec, path_part: str) -> list[tuple[str, str, int]]:
    return [call for call in spec.wire() if path_part in call[1]]


def escalations(flow: OrderFlow) -> int:
    return Escalation.objects.filter(flow_id=flow.pk).count()


def revoke_undo(flow: OrderFlow) -> FlowCompensation:
    return FlowCompensation.objects.get(flow=flow, action="revoke_token")


# -- audit 3: payment handlers listed only on the create answer ------------------------------------------------------


def test_handlers_listed_only_on_the_create_answer_still_pay_and_the_order_is_placed(spec):
    spec.control(handlers_on="create")

    flow = spec.confirmed()

    assert flow.status == FlowStatus.PLACED, (flow.failure_code, flow.failure_detail)
    assert flow.merchant_order_id == spec.session(flow.checkout_session_id)["order"]["id"]
    assert ledger(flow)["commit"] == flow.total_amount
    # the GET the price check read listed no handler; the complete paid with the one the create answer listed
    log = requests.get(f"{spec.url}/__log", timeout=5).json()["log"]
    gets = [entry for entry in log if entry["method"] == "GET"]
    assert gets and all(entry["answer"]["capabilities"]["payment"]["handlers"] == [] for entry in gets)
    (complete,) = [entry for entry in log if entry["path"].endswith("/complete")]
    assert json.loads(complete["raw"])["payment_data"]["handler_id"] == "card_tokenized"


# -- audit 5: no token revoke at a spec merchant ---------------------------------------------------------------------


def test_a_decline_ends_as_with_the_sandbox_without_a_revoke_call_or_an_escalation(spec):
    spec.control(handlers_on="all", complete="declined")

    flow = spec.confirmed()

    assert flow.status == FlowStatus.COMPENSATED, (flow.status, flow.failure_code)
    assert flow.failure_code == "payment_declined"
    assert "declined, so nothing was charged" in messages(flow)[-1]["text"]
    assert escalations(flow) == 0
    assert not calls(spec, "/revoke")
    assert len(calls(spec, "/delegate_payment")) == 1  # minted once, never again to revoke it
    undo = revoke_undo(flow)
    assert undo.status == CompensationStatus.NOT_NEEDED and undo.attempts == 1
    assert ledger(flow)["release"] == flow.total_amount
    note = AuditEvent.objects.get(target_id=str(flow.pk), action="compensation.revoke_token").data["note"]
    assert "bounded by its allowance" in note
    assert spec.session(flow.checkout_session_id)["status"] == "canceled"


def test_a_price_change_asks_again_without_a_revoke_call_or_an_escalation(spec):
    spec.control(handlers_on="all", complete="price_change")

    flow = spec.confirmed()

    assert flow.status == FlowStatus.PREVIEWED, (flow.status, flow.failure_code)
    assert "price changed" in messages(flow)[-1]["text"]
    assert escalations(flow) == 0
    assert not calls(spec, "/revoke")
    assert revoke_undo(flow).status == CompensationStatus.NOT_NEEDED
    assert ledger(flow)["release"] == ledger(flow)["reserve"]


def test_a_refused_mint_is_not_minted_again_by_the_undo(spec):
    refused = {
        "type": "invalid_request",
        "code": "invalid_card",
        "message": "Invalid card number provided",
        "param": "payment_method.number",
    }
    spec.control(handlers_on="all", queue={"delegate": [{"status": 400, "body": refused}]})

    flow = spec.confirmed()

    assert flow.status == FlowStatus.COMPENSATED, (flow.status, flow.failure_code)
    assert escalations(flow) == 0
    assert len(calls(spec, "/delegate_payment")) == 1
    assert revoke_undo(flow).status == CompensationStatus.NOT_NEEDED
    assert revoke_undo(flow).attempts == 1


def test_a_merchant_said_to_offer_revoke_that_answers_404_is_not_offered_and_nothing_escalates(spec, settings):
    merchant = settings.MERCHANTS[spec.merchant_id]
    settings.MERCHANTS = {
        **settings.MERCHANTS,
        spec.merchant_id: {**merchant, "CAPABILITIES": ["checkout", "vault", "token_revoke"]},
    }
    spec.control(handlers_on="all", complete="declined")

    flow = spec.confirmed()

    assert flow.status == FlowStatus.COMPENSATED, (flow.status, flow.failure_code)
    assert escalations(flow) == 0
    assert [status for _, _, status in calls(spec, "/revoke")] == [404]
    undo = revoke_undo(flow)
    assert undo.status == CompensationStatus.NOT_NEEDED and undo.attempts == 1


# -- audit 6: a complete the merchant took but has not finished ------------------------------------------------------


def order_created(flow: OrderFlow, order_id: str, *, total: int | None = None, status: str = "confirmed") -> dict:
    return order_event(
        order_id,
        total=flow.total_amount if total is None else total,
        status=status,
        event_type="order_create",
        checkout_session_id=flow.checkout_session_id,
    )


def completed_patch(flow: OrderFlow, order_id: str) -> dict:
    return {
        "status": "completed",
        "order": {
            "id": order_id,
            "checkout_session_id": flow.checkout_session_id,
            "permalink_url": f"https://www.testshop.com/orders/{order_id}",
        },
    }


def assert_waiting(spec: Spec, flow: OrderFlow) -> None:
    """Placing, nothing undone, the reservation standing, the session open, no "nothing was charged"."""
    assert flow.status == FlowStatus.PLACING, (flow.status, flow.failure_code, flow.failure_detail)
    assert flow.next_step == "complete_checkout"
    assert ledger(flow) == {"reserve": flow.total_amount, "commit": 0, "release": 0, "refund": 0}
    assert not FlowCompensation.objects.filter(flow=flow).exclude(status=CompensationStatus.PENDING).exists()
    assert not calls(spec, "/cancel")
    assert all("nothing was charged" not in message["text"] for message in messages(flow))


def placed_events(flow: OrderFlow) -> int:
    return AuditEvent.objects.filter(target_id=str(flow.pk), action="flow.placed").count()


def test_complete_in_progress_waits_and_a_later_completed_session_places_the_order(spec, wall_clock):
    spec.control(handlers_on="all", complete="in_progress")

    flow = spec.confirmed()

    assert_waiting(spec, flow)
    assert spec.session(flow.checkout_session_id)["status"] == "complete_in_progress"
    assert "still processing this order" in messages(flow)[-1]["text"]
    assert len(calls(spec, "/complete")) == 1

    # a read before the merchant is done: still waiting, the shopper not told again
    wall_clock.advance(10)
    flow_run(flow_id=flow.pk)
    flow = OrderFlow.objects.get(pk=flow.pk)
    assert_waiting(spec, flow)
    told = len(messages(flow))

    # the merchant finishes; the next read places the order, counted against the caps
    spec.control(queue={"get": [{"patch": completed_patch(flow, "ord_async_1")}]})
    wall_clock.advance(30)
    flow_run(flow_id=flow.pk)
    flow = OrderFlow.objects.get(pk=flow.pk)

    assert flow.status == FlowStatus.PLACED and flow.merchant_order_id == "ord_async_1"
    assert ledger(flow) == {"reserve": flow.total_amount, "commit": flow.total_amount, "release": 0, "refund": 0}
    assert len(messages(flow)) == told + 1 and "ord_async_1" in messages(flow)[-1]["text"]
    assert len(calls(spec, "/complete")) == 1  # never completed twice
    assert placed_events(flow) == 1


def test_pending_approval_says_the_shop_reviews_it_and_a_canceled_session_ends_it_as_failed(spec, wall_clock):
    spec.control(handlers_on="all", complete="pending_approval")

    flow = spec.confirmed()

    assert_waiting(spec, flow)
    assert "The shop is reviewing this order" in messages(flow)[-1]["text"]

    spec.control(queue={"get": [{"patch": {"status": "canceled"}}]})
    wall_clock.advance(10)
    flow_run(flow_id=flow.pk)
    flow = OrderFlow.objects.get(pk=flow.pk)

    assert flow.status == FlowStatus.COMPENSATED, (flow.status, flow.failure_code)
    assert flow.failure_code == "merchant_not_completed"
    assert "did not go through with this order" in messages(flow)[-1]["text"]
    assert all("nothing was charged" not in message["text"] for message in messages(flow))
    assert ledger(flow)["release"] == flow.total_amount and ledger(flow)["commit"] == 0
    assert escalations(flow) == 0


def test_requires_escalation_passes_on_the_shops_words_and_its_link(spec):
    spec.control(handlers_on="all", complete="escalation")

    flow = spec.confirmed()

    assert_waiting(spec, flow)
    last = messages(flow)[-1]
    assert "The shop is reviewing this order" in last["text"] and "Please finish on our site." in last["text"]
    assert last["data"]["link"]["url"].endswith(flow.checkout_session_id)


def test_the_order_webhook_places_a_waiting_flow_once_whatever_is_delivered_twice(spec, client):
    spec.control(handlers_on="all", complete="in_progress")
    flow = spec.confirmed()
    assert_waiting(spec, flow)

    event = order_created(flow, "ord_hook_1")
    for _ in range(2):
        assert deliver(client, spec.merchant_id, event).status_code == 200
    assert deliver(client, spec.merchant_id, {**event, "type": "order_update"}).status_code == 200

    flow = OrderFlow.objects.get(pk=flow.pk)
    assert flow.status == FlowStatus.PLACED and flow.merchant_order_id == "ord_hook_1"
    assert ledger(flow) == {"reserve": flow.total_amount, "commit": flow.total_amount, "release": 0, "refund": 0}
    assert placed_events(flow) == 1
    assert sum("ord_hook_1" in message["text"] for message in messages(flow)) == 1
    assert flow.merchant_order_status == "confirmed"


def test_an_order_webhook_at_another_total_places_nothing(spec, client):
    spec.control(handlers_on="all", complete="in_progress")
    flow = spec.confirmed()

    assert deliver(client, spec.merchant_id, order_created(flow, "ord_other", total=1)).status_code == 200

    assert_waiting(spec, OrderFlow.objects.get(pk=flow.pk))


def test_the_order_webhook_arriving_while_a_read_of_the_session_runs_records_one_order(spec, client, wall_clock):
    spec.control(handlers_on="all", complete="in_progress")
    flow = spec.confirmed()
    assert_waiting(spec, flow)
    # the merchant finishes; its answer to the next read is slow, and its webhook comes meanwhile
    spec.control(queue={"get": [{"delay": 1.5, "patch": completed_patch(flow, "ord_race_1")}]})
    wall_clock.advance(10)
    outcome: list[str] = []

    def poll() -> None:
        try:
            outcome.append(flow_run(flow_id=flow.pk))
        finally:
            connection.close()

    reader = threading.Thread(target=poll)
    reader.start()
    while not any(method == "GET" for method, *_ in spec.wire()[-1:]):
        threading.Event().wait(0.02)
    assert deliver(client, spec.merchant_id, order_created(flow, "ord_race_1")).status_code == 200
    reader.join(timeout=20)

    flow = OrderFlow.objects.get(pk=flow.pk)
    assert flow.status == FlowStatus.PLACED and flow.merchant_order_id == "ord_race_1"
    assert placed_events(flow) == 1
    assert ledger(flow) == {"reserve": flow.total_amount, "commit": flow.total_amount, "release": 0, "refund": 0}
    assert sum("ord_race_1" in message["text"] for message in messages(flow)) == 1
    steps = list(flow.steps.filter(name="complete_checkout").values_list("status", "error_class"))
    assert steps[-1] == ("failed", "superseded"), steps


def test_the_read_placing_first_leaves_the_late_webhook_to_record_the_orders_status(spec, client, wall_clock):
    spec.control(handlers_on="all", complete="in_progress")
    flow = spec.confirmed()
    spec.control(queue={"get": [{"patch": completed_patch(flow, "ord_race_2")}]})
    wall_clock.advance(10)
    flow_run(flow_id=flow.pk)

    assert deliver(client, spec.merchant_id, order_created(flow, "ord_race_2")).status_code == 200

    flow = OrderFlow.objects.get(pk=flow.pk)
    assert flow.status == FlowStatus.PLACED and flow.merchant_order_id == "ord_race_2"
    assert placed_events(flow) == 1
    assert ledger(flow)["commit"] == flow.total_amount
    assert flow.merchant_order_status == "confirmed"


def test_reads_that_fail_keep_waiting_past_the_steps_attempts_and_a_person_is_asked_once_in_time(
    spec, settings, wall_clock
):
    settings.ORDERING_MERCHANT_WAIT_ESCALATE_SECONDS = 600
    spec.control(handlers_on="all", complete="in_progress")
    flow = spec.confirmed()
    down = {"status": 500, "body": {"type": "processing_error", "code": "internal", "message": "down"}}
    spec.control(queue={"get": [down] * 5})

    # more failed reads than ORDERING_STEP_MAX_ATTEMPTS (3): the outcome is unknown, not a failure
    for _ in range(5):
        wall_clock.advance(200)
        flow_run(flow_id=flow.pk)

    flow = OrderFlow.objects.get(pk=flow.pk)
    assert_waiting(spec, flow)
    assert [status for method, _, status in spec.wire() if method == "GET"][-5:] == [500] * 5
    assert escalations(flow) == 1
    assert "a specialist is checking with them" in messages(flow)[-1]["text"]

    wall_clock.advance(400)
    flow_run(flow_id=flow.pk)
    assert escalations(flow) == 1  # asked once
