"""3-D Secure the way ACP 2026-04-17 does it: complete answers 400 `requires_3ds` (flat Error, param
$.authentication_result) with the session in `authentication_required` and `authentication_metadata`.
The saga hands the challenge to the customer (ordering.payment_verification), and completes with the
issuer's result as `authentication_result` {outcome, outcome_details}.

"The merchant" is a scripted ACP merchant on a real socket (tests/merchant_client/scripted_shop.py)
answering with the spec's own examples; the saga runs for real (eager tasks, real PostgreSQL).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest

from escalations.models import Escalation
from ordering.models import FlowStatus, OrderFlow
from ordering.payment_verification import flow_payment_challenge_finish, flow_payment_challenge_start
from tests.merchant_client.conftest import FAST, configure_merchant  # noqa: F401 (fixture)
from tests.merchant_client.scripted import Reply
from tests.merchant_client.scripted_shop import confirmed_flow, scripted_shop_running
from tests.support.acp_schema import assert_valid, example

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis]
AUTH = "examples.delegate_authentication.json"


@pytest.fixture
def shop(configure_merchant, settings, eager_tasks):  # noqa: F811
    settings.ORDERING_STEP_RETRY_BASE_SECONDS = 0
    settings.ORDERING_STEP_MAX_ATTEMPTS = 3
    with scripted_shop_running(configure_merchant) as server:
        yield server


def needs_3ds(shop) -> dict:
    """The merchant's session after the 400: authentication_required, with the spec's metadata."""
    session = dict(shop.session)
    session["status"] = "authentication_required"
    session["authentication_metadata"] = example("checkout_session_authentication_required")["authentication_metadata"]
    return session


def signed_cres(*, authentication_session_id: str, checkout_session_id: str, secret: str) -> tuple[str, str]:
    """What the issuer sends the customer back with: the CRes, signed by the merchant (Merchant-Signature form)."""
    cres = (
        base64.urlsafe_b64encode(
            json.dumps(
                {
                    "authentication_session_id": authentication_session_id,
                    "checkout_session_id": checkout_session_id,
                    "status": "authenticated",
                }
            ).encode()
        )
        .rstrip(b"=")
        .decode()
    )
    timestamp = int(time.time())
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + cres.encode(), hashlib.sha256).hexdigest()
    return cres, f"t={timestamp},v1={digest}"


def test_requires_3ds_hands_the_challenge_to_the_customer_and_completes_with_her_result(shop):
    shop.complete_answers.append((Reply(400, example("error_400_requires_3ds")), needs_3ds(shop)))

    # when alice confirms and the merchant answers complete with 400 requires_3ds
    flow = confirmed_flow(shop)

    # then nothing is placed: the order waits for her bank, and the chat gives her the way there
    assert (flow.status, flow.waiting_for) == (FlowStatus.REQUIRES_ACTION, "payment_verification")
    assert Escalation.objects.filter(flow=flow).exists()
    (first,) = shop.requests_to("POST", f"/checkout_sessions/{shop.session_id}/complete")
    assert "authentication_result" not in first.json()

    # when she opens the challenge: an official delegate_authentication request, from the session's metadata
    acs_url = flow_payment_challenge_start(
        flow_id=flow.pk, customer_id=flow.customer_id, notification_url="https://assistant.example/3ds/back"
    )
    assert acs_url == "https://acs.issuer.com/challenge"
    (opened,) = shop.requests_to("POST", "/delegate_authentication")
    assert_valid(opened.json(), "DelegateAuthenticationCreateRequest", bundle="delegate_authentication")
    assert opened.json()["acquirer_details"]["acquirer_merchant_id"] == "merchant_789"
    assert opened.json()["amount"] == {"value": 1305, "currency": "USD"}

    # and comes back from her bank with the merchant-signed result
    shop.session = {**shop.session, "status": "ready_for_payment"}
    shop.session.pop("authentication_metadata", None)
    cres, signature = signed_cres(
        authentication_session_id="auth_session_abc123",
        checkout_session_id=shop.session_id,
        secret=FAST["WEBHOOK_SECRET"],
    )
    flow, paid = flow_payment_challenge_finish(
        flow_id=flow.pk, customer_id=flow.customer_id, cres=cres, signature=signature
    )

    # then the order is placed, completed with the issuer's result as the spec's authentication_result
    assert paid
    flow = OrderFlow.objects.get(pk=flow.pk)
    assert flow.status == FlowStatus.PLACED and flow.merchant_order_id == "ord_scripted_1"
    second = shop.requests_to("POST", f"/checkout_sessions/{shop.session_id}/complete")[-1].json()
    assert_valid(second, "CheckoutSessionCompleteRequest")
    issuer = example("retrieve_session_response_authenticated", file=AUTH)["authentication_result"]
    assert second["authentication_result"] == {
        "outcome": "authenticated",
        "outcome_details": {
            "three_ds_cryptogram": issuer["three_ds_cryptogram"],
            "electronic_commerce_indicator": issuer["electronic_commerce_indicator"],
            "transaction_id": issuer["transaction_id"],
            "version": issuer["version"],
        },
    }
    assert second["payment_data"]["handler_id"] == "card_tokenized"


def test_a_requires_3ds_error_without_an_authentication_session_stays_an_error(shop):
    # The merchant says requires_3ds but its session does not: nothing to hand over, the order fails safely.
    shop.complete_answers.append(Reply(400, example("error_400_requires_3ds")))

    flow = confirmed_flow(shop)

    assert flow.status in (FlowStatus.FAILED, FlowStatus.COMPENSATING, FlowStatus.COMPENSATED)
    assert flow.failure_code == "requires_3ds"
    assert flow.merchant_order_id == ""
