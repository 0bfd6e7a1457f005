"""The protocol rules every request follows: auth, API-Version, idempotency, echoed headers, the request log."""

import threading
import time

import pytest

from sandbox_merchant.models import CheckoutSession, IdempotencyRecord, ReceivedRequest
from tests.support.sandbox import payment_data

pytestmark = pytest.mark.django_db(transaction=True)

CREATE_BODY = {"currency": "usd", "line_items": [{"id": "var_blue_runner_42", "quantity": 1}]}


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token", "sandbox-dev-token", "Basic c2FuZGJveA=="], ids=str
)
def test_a_missing_or_wrong_bearer_token_is_401(sandbox_merchant, authorization):
    headers = sandbox_merchant.headers()
    del headers["Authorization"]
    if authorization:
        headers["Authorization"] = authorization

    import requests

    response = requests.get(f"{sandbox_merchant.base_url}/products", headers=headers, timeout=10)

    assert response.status_code == 401
    assert response.json()["type"] == "invalid_request"
    assert response.json()["code"] == "unauthorized"


def test_every_configured_token_is_accepted(sandbox_merchant, settings):
    settings.SANDBOX_MERCHANT_API_TOKENS = ["first-token", "second-token"]
    sandbox_merchant.token = "second-token"

    assert sandbox_merchant.get("/products").status_code == 200


def test_a_missing_api_version_is_400_and_an_unknown_one_lists_the_supported_versions(sandbox_merchant):
    missing = sandbox_merchant.get("/products", headers={"API-Version": ""})
    unknown = sandbox_merchant.get("/products", headers={"API-Version": "2020-01-01"})
    older = sandbox_merchant.get("/products", headers={"API-Version": "2025-09-29"})

    assert missing.status_code == 400 and missing.json()["code"] == "missing_api_version"
    assert unknown.status_code == 400 and unknown.json()["code"] == "unsupported_api_version"
    assert unknown.json()["supported_versions"] == ["2026-04-17"]
    # the pre-2026 version's shapes are not implemented, so it is neither advertised nor accepted
    assert older.status_code == 400 and older.json()["code"] == "unsupported_api_version"
    assert older.json()["supported_versions"] == ["2026-04-17"]


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_a_post_without_a_usable_idempotency_key_is_400_and_does_nothing(sandbox_merchant, key):
    response = sandbox_merchant.request(
        "POST", "/checkout_sessions", json=CREATE_BODY, headers={"Idempotency-Key": key}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_required"
    assert CheckoutSession.objects.count() == 0


def test_a_repeated_key_with_an_equal_body_replays_the_answer_without_a_second_session(sandbox_merchant):
    # given a first create
    first = sandbox_merchant.post("/checkout_sessions", CREATE_BODY, idempotency_key="create-1")
    available = sandbox_merchant.available("var_blue_runner_42")

    # when the same body (keys in another order) is sent again with the same key
    reordered = {"line_items": [{"quantity": 1, "id": "var_blue_runner_42"}], "currency": "usd"}
    second = sandbox_merchant.post("/checkout_sessions", reordered, idempotency_key="create-1")

    # then the answer is replayed, flagged, and nothing happened twice
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotency-Key"] == "create-1"
    assert CheckoutSession.objects.count() == 1
    assert sandbox_merchant.available("var_blue_runner_42") == available


def test_a_repeated_key_with_a_different_body_is_422(sandbox_merchant):
    sandbox_merchant.post("/checkout_sessions", CREATE_BODY, idempotency_key="create-2")

    conflict = sandbox_merchant.post(
        "/checkout_sessions",
        {"currency": "usd", "line_items": [{"id": "var_blue_runner_42", "quantity": 2}]},
        idempotency_key="create-2",
    )

    assert conflict.status_code == 422
    assert conflict.json()["code"] == "idempotency_conflict"
    assert CheckoutSession.objects.count() == 1


def _raw_post(sandbox_merchant, path: str, raw_body: str, key: str):
    """POST a body exactly as written (the spelling of its numbers is the point), with the sandbox's headers."""
    headers = sandbox_merchant.headers(**{"Idempotency-Key": key, "Content-Type": "application/json"})
    return sandbox_merchant._session().post(f"{sandbox_merchant.base_url}{path}", data=raw_body, headers=headers)


@pytest.mark.parametrize("spelling", ["7200.0", "7.2e3", "7200.000E0", "72e2"])
def test_a_retry_whose_numbers_are_spelled_otherwise_replays_the_create(sandbox_merchant, spelling):
    # rfc.agentic_checkout §6.2: trailing zeros in numbers (1.0 vs 1) are equivalent
    template = (
        '{"currency": "usd", "line_items": [{"id": "var_blue_runner_42", "unit_amount": %s}],'
        ' "capabilities": {}, "metadata": {"attempt": %s, "score": %s}}'
    )
    first = _raw_post(sandbox_merchant, "/checkout_sessions", template % ("7200", "1", "0.5"), "create-numbers")
    retry = _raw_post(sandbox_merchant, "/checkout_sessions", template % (spelling, "1.0e0", "0.50"), "create-numbers")

    assert (first.status_code, retry.status_code) == (201, 201), retry.text
    assert retry.headers["Idempotent-Replayed"] == "true" and retry.json() == first.json()
    assert CheckoutSession.objects.count() == 1


@pytest.mark.parametrize("spelling", ["1.0", "1.0e0", "10E-1"])
def test_a_retry_whose_numbers_are_spelled_otherwise_replays_the_cancel(sandbox_merchant, spelling):
    session = sandbox_merchant.create_session()
    path = f"/checkout_sessions/{session['id']}/cancel"
    template = '{"intent_trace": {"reason_code": "timing_deferred", "metadata": {"tries": %s}}}'

    first = _raw_post(sandbox_merchant, path, template % "1", "cancel-numbers")
    retry = _raw_post(sandbox_merchant, path, template % spelling, "cancel-numbers")
    different = _raw_post(sandbox_merchant, path, template % "1.5", "cancel-numbers")

    assert (first.status_code, retry.status_code) == (200, 200), retry.text
    assert retry.headers["Idempotent-Replayed"] == "true" and retry.json() == first.json()
    # an unequal number is another request: still a conflict
    assert (different.status_code, different.json()["code"]) == (422, "idempotency_conflict")


def test_an_integral_number_in_an_integer_field_counts_as_that_integer(sandbox_merchant):
    # JSON Schema's integer is any number with no fraction: quantity 2.0 (the leniency's quantity) is 2
    body = '{"currency": "usd", "line_items": [{"id": "var_blue_runner_42", "quantity": 2.0}]}'

    created = _raw_post(sandbox_merchant, "/checkout_sessions", body, "create-two")

    assert created.status_code == 201, created.text
    assert created.json()["line_items"][0]["quantity"] == 2


def test_the_same_key_on_another_endpoint_is_another_request(sandbox_merchant):
    session = sandbox_merchant.post("/checkout_sessions", CREATE_BODY, idempotency_key="shared-key").json()

    update = sandbox_merchant.post(f"/checkout_sessions/{session['id']}", {}, idempotency_key="shared-key")

    assert update.status_code == 200
    assert "Idempotent-Replayed" not in update.headers


def test_a_duplicate_while_the_first_is_still_running_is_409_with_retry_after(sandbox_merchant):
    # given a first request that takes 2 s (injected slowness) and is under way
    results = {}

    def first_request():
        results["first"] = sandbox_merchant.post(
            "/checkout_sessions",
            CREATE_BODY,
            idempotency_key="slow-key",
            headers={"Sandbox-Fault": "slow;delay_ms=2000"},
        )

    thread = threading.Thread(target=first_request)
    thread.start()
    deadline = time.monotonic() + 10
    while not IdempotencyRecord.objects.filter(key="slow-key").exists():
        assert time.monotonic() < deadline, "the first request never claimed its key"
        time.sleep(0.02)

    # when a duplicate arrives meanwhile
    duplicate = sandbox_merchant.post("/checkout_sessions", CREATE_BODY, idempotency_key="slow-key")
    thread.join(timeout=20)

    # then it is told to retry, and only the first one did the work
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "idempotency_in_flight"
    assert duplicate.headers["Retry-After"] == "1"
    assert results["first"].status_code == 201
    assert CheckoutSession.objects.count() == 1
    # and once the first is done, the duplicate gets the replay
    later = sandbox_merchant.post("/checkout_sessions", CREATE_BODY, idempotency_key="slow-key")
    assert later.headers["Idempotent-Replayed"] == "true"
    assert later.json()["id"] == results["first"].json()["id"]


def test_a_5xx_answer_is_not_stored_so_a_retry_with_the_same_key_runs_for_real(sandbox_merchant):
    failed = sandbox_merchant.post(
        "/checkout_sessions", CREATE_BODY, idempotency_key="retry-me", headers={"Sandbox-Fault": "server_error;times=1"}
    )
    retried = sandbox_merchant.post(
        "/checkout_sessions", CREATE_BODY, idempotency_key="retry-me", headers={"Sandbox-Fault": "server_error;times=1"}
    )

    assert failed.status_code == 500
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried.headers
    assert CheckoutSession.objects.count() == 1


def test_a_4xx_answer_is_stored_and_replayed(sandbox_merchant):
    body = {"line_items": [{"id": "var_nope", "quantity": 1}]}

    first = sandbox_merchant.post("/checkout_sessions", body, idempotency_key="bad-variant")
    second = sandbox_merchant.post("/checkout_sessions", body, idempotency_key="bad-variant")

    assert first.status_code == second.status_code == 400
    assert second.headers["Idempotent-Replayed"] == "true"


def test_request_id_and_idempotency_key_are_echoed(sandbox_merchant):
    response = sandbox_merchant.post(
        "/checkout_sessions", CREATE_BODY, idempotency_key="echo-key", headers={"Request-Id": "req-123"}
    )

    assert response.headers["Request-Id"] == "req-123"
    assert response.headers["Idempotency-Key"] == "echo-key"


def test_every_request_is_recorded_with_its_trace_id_even_refused_ones(sandbox_merchant):
    # given
    sandbox_merchant.trace_id = "trace-recorded-0001"

    # when
    session = sandbox_merchant.post(
        "/checkout_sessions", CREATE_BODY, idempotency_key="trace-key", headers={"Request-Id": "req-trace"}
    ).json()
    sandbox_merchant.get(f"/checkout_sessions/{session['id']}")
    sandbox_merchant.get("/products", headers={"Authorization": "Bearer nope"})
    sandbox_merchant.get("/products", headers={"X-Trace-ID": ""})

    # then
    rows = list(ReceivedRequest.objects.order_by("id").values_list("method", "path", "trace_id", "status"))
    assert rows == [
        ("POST", "/sandbox-merchant/checkout_sessions", "trace-recorded-0001", 201),
        ("GET", f"/sandbox-merchant/checkout_sessions/{session['id']}", "trace-recorded-0001", 200),
        ("GET", "/sandbox-merchant/products", "trace-recorded-0001", 401),
        ("GET", "/sandbox-merchant/products", "", 200),
    ]
    first = ReceivedRequest.objects.order_by("id").first()
    assert (first.request_id, first.idempotency_key, first.operation) == ("req-trace", "trace-key", "create")


@pytest.mark.parametrize(
    ("accept_language", "answered_in"),
    [
        (None, "en-US"),  # nothing asked: the first locale
        ("fr-FR", "fr-FR"),
        ("fr-ca, en;q=0.5", "fr-FR"),  # fr-CA is not offered: cut short to fr, which covers fr-FR
        ("de, fr;q=0.4, en-GB;q=0.8", "en-US"),  # by weight: de (not offered), en-GB, then fr
        ("en;q=0, fr;q=0.1", "fr-FR"),  # q=0 is "not this one"
        ("*", "en-US"),
        ("ja-JP", "en-US"),  # nothing offered asked for: answered all the same, in the first locale
        ("not a language!!, ;q=x", "en-US"),  # malformed: disregarded, never a 4xx
    ],
    ids=str,
)
def test_accept_language_picks_the_locale_of_the_answer_and_is_recorded(
    sandbox_merchant, settings, accept_language, answered_in
):
    settings.SANDBOX_MERCHANT_LOCALES = ["en-US", "fr-FR"]
    headers = {"Accept-Language": accept_language} if accept_language is not None else {}

    created = sandbox_merchant.post("/checkout_sessions", CREATE_BODY, headers=headers)
    refused = sandbox_merchant.get("/products", headers={**headers, "Authorization": "Bearer nope"})

    assert created.status_code == 201, created.text
    assert (created.json()["locale"], created.headers["Content-Language"]) == (answered_in, answered_in)
    assert (refused.status_code, refused.headers["Content-Language"]) == (401, answered_in)
    recorded = list(ReceivedRequest.objects.order_by("id").values_list("accept_language", flat=True))
    assert recorded == [accept_language or ""] * 2


def test_an_unsupported_method_is_405_with_allow(sandbox_merchant):
    response = sandbox_merchant.request("DELETE", "/checkout_sessions")

    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert response.json()["code"] == "method_not_allowed"
    assert [(r.method, r.status) for r in sandbox_merchant.received_requests()] == [("DELETE", 405)]


def test_a_body_that_is_not_a_json_object_is_400(sandbox_merchant):
    response = sandbox_merchant.request(
        "POST",
        "/checkout_sessions",
        data="[1, 2",
        headers={"Idempotency-Key": "k-json", "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"


def test_switched_off_the_sandbox_answers_404(sandbox_merchant, settings):
    settings.SANDBOX_MERCHANT_ENABLED = False

    assert sandbox_merchant.get("/products").status_code == 404


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/checkout_sessions", {"line_items": "x"}),
        ("/checkout_sessions", {"line_items": [5]}),
        ("/checkout_sessions", {"line_items": [{"id": 7, "quantity": 1}]}),
        ("/checkout_sessions", {"line_items": [{"id": "var_blue_runner_42", "quantity": True}]}),
        ("/checkout_sessions", {"line_items": [{"id": "var_blue_runner_42"}], "currency": "U$D"}),
        ("/checkout_sessions", {"line_items": [{"id": "var_blue_runner_42"}], "buyer": "alice"}),
        ("/checkout_sessions", {"line_items": [{"id": "var_blue_runner_42"}], "discounts": {"codes": "SAVE10"}}),
        ("/checkout_sessions", {"line_items": [{"id": "var_blue_runner_42"}], "fulfillment_details": {"address": 1}}),
        ("/checkout_sessions", {"line_items": [{"id": "var_blue_runner_42"}], "selected_fulfillment_options": [{}]}),
        ("/agentic_commerce/delegate_payment", {"payment_method": "card"}),
        ("/agentic_commerce/delegate_payment", {}),
        ("/sandbox/faults", {"kind": "server_error", "times": "twice"}),
    ],
)
def test_malformed_bodies_are_400_never_500(sandbox_merchant, path, body):
    response = sandbox_merchant.post(path, body)

    assert response.status_code == 400, response.text
    assert response.json()["type"] == "invalid_request"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"payment_data": "vt_x"},
        {"payment_data": {"instrument": {"credential": {}}}},
        {"payment_data": payment_data(5)},
    ],
)
def test_malformed_complete_bodies_are_400(sandbox_merchant, body):
    session = sandbox_merchant.ready_session()

    response = sandbox_merchant.post(f"/checkout_sessions/{session['id']}/complete", body)

    assert response.status_code == 400, response.text
    assert response.json()["param"].startswith("$.payment_data")


@pytest.mark.parametrize(
    "body",
    [
        {"line_items": [{"id": "var_blue_runner_42"}], "buyer": {"email": "useratexample.com", "first_name": "A"}},
        {"line_items": [{"id": "var_blue_runner_42"}], "fulfillment_details": {"email": "useratexample.com"}},
    ],
)
def test_an_email_that_is_not_one_is_400_naming_the_field(sandbox_merchant, body):
    # It was taken and answered back, in a session that broke the spec's own response schema (schemathesis).
    response = sandbox_merchant.post("/checkout_sessions", body)

    assert response.status_code == 400, response.text
    assert response.json()["type"] == "invalid_request"
    assert response.json()["param"].endswith(".email")
    assert "email" in response.json()["message"]
