"""One error shape under /api/: `{"error", "message", …}` as JSON, whatever went wrong and wherever.

A body that is not a JSON object, a body over the size limit, an id that matches no route, a 409 that asks
to wait and a 429 all answer JSON in the API's shape (with Retry-After when they ask to wait); pages
outside /api/ keep Django's HTML error pages. On real PostgreSQL and Redis; the requests go through the
whole middleware stack with CSRF enforced, as the widget's do.
"""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory

from config import error_views
from config.error_views import server_error
from ordering import services
from ordering.models import Conversation, ConversationTurn, Message, MessageRole
from tests.consent.factories import UserFactory

pytestmark = pytest.mark.django_db

NOT_OBJECTS = ["[null, null]", '"x"', "null", "true", "1", "[]", "2.5"]


@pytest.fixture(autouse=True)
def _fresh_throttle():
    # Throttle counts live in the shared cache (this run's own Redis db): start each test at zero.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def alice():
    return UserFactory(username="alice")


@pytest.fixture
def browser(alice) -> Client:
    """Alice's browser: signed in, CSRF enforced, the csrftoken cookie sent back as X-CSRFToken."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.get("/settings/").status_code == 200  # sets the csrftoken cookie, as any page with a form
    client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
    return client


def _assert_error_shape(response, status: int, error: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert isinstance(body.get("error"), str) and body["error"], body
    assert isinstance(body.get("message"), str) and body["message"], body
    if error is not None:
        assert body["error"] == error, body
    return body


def test_revoking_a_grant_with_a_body_that_is_not_an_object_is_a_400_not_a_500(browser, alice):
    from consent.models import GrantChannel, Scope
    from consent.services.grants import consent_grant

    grant = consent_grant(user_id=alice.pk, scope=Scope.PLACE_ORDERS, via=GrantChannel.API)
    url = f"/api/v1/consent/grants/{grant.pk}/revoke/"

    for body in NOT_OBJECTS:
        response = browser.post(url, body, content_type="application/json")
        answer = _assert_error_shape(response, 400, "parse_error")
        assert "must be a JSON object" in answer["message"], answer

    # the grant is untouched, and a well-formed revoke still works
    grant.refresh_from_db()
    assert grant.status == "active"
    response = browser.post(url, json.dumps({"reason": "changed my mind"}), content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "revoked"


def test_every_endpoint_that_takes_a_body_answers_400_json_for_a_body_of_the_wrong_shape(browser, alice):
    conversation = services.conversation_open(customer_id=alice.pk)
    base = f"/api/v1/conversations/{conversation.pk}"
    writes = [
        ("post", "/api/v1/conversations/"),
        ("post", f"{base}/messages/"),
        ("post", f"{base}/confirm/"),
        ("post", f"{base}/csat/"),
        ("post", "/api/v1/consent/grants/"),
        ("patch", "/api/v1/consent/caps/"),
        ("post", "/api/v1/consent/payment-methods/"),
        ("post", "/api/v1/consent/addresses/"),
        ("post", "/api/v1/consent/step-up/enrol/"),
        ("post", "/api/v1/consent/step-up/confirm/"),
        ("post", "/api/v1/consent/step-up/verify/"),
    ]
    for method, url in writes:
        for body in NOT_OBJECTS:
            response = getattr(browser, method)(url, body, content_type="application/json")
            _assert_error_shape(response, 400, "parse_error")
        # not JSON at all is a 400 in the same shape
        response = getattr(browser, method)(url, "{not json", content_type="application/json")
        assert "not valid JSON" in _assert_error_shape(response, 400, "parse_error")["message"]
    assert not Message.objects.filter(conversation=conversation, role=MessageRole.CUSTOMER).exists()
    assert Conversation.objects.filter(customer=alice).count() == 1


def test_ids_that_match_no_route_are_a_json_404_under_api_and_an_html_page_elsewhere(browser):
    for url in [
        "/api/v1/consent/grants/abc/",
        "/api/v1/consent/grants/abc/revoke/",
        "/api/v1/consent/addresses/1.5/",
        "/api/v1/activity/-3/",
        "/api/v1/no-such-thing/",
        "/api/nothing-here",
    ]:
        _assert_error_shape(browser.get(url), 404, "not_found")
    _assert_error_shape(browser.post("/api/v1/consent/grants/abc/revoke/", "{}", content_type="application/json"), 404)
    # an id that matches the route but nothing of the customer's is the same 404 from the view
    assert browser.get("/api/v1/consent/grants/999999/").json()["error"] == "not_found"

    page = browser.get("/settings/grants/abc/revoke/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
    # the site's page says what happened and the way back (Django's was one line: "Not Found")
    assert "There is nothing here" in page.content.decode() and 'href="/"' in page.content.decode()


def test_an_error_page_that_cannot_be_drawn_is_still_its_status_not_a_500(client, monkeypatch):
    # under production settings without `collectstatic` the page's stylesheet has no manifest entry, and drawing the
    # 404 page raised: the 404 became a 500
    def page_not_found(request, exception):
        raise ValueError("Missing staticfiles manifest entry for 'consent/consent.css'")

    def permission_denied(request, exception):
        raise ValueError("Missing staticfiles manifest entry for 'consent/consent.css'")

    monkeypatch.setattr(error_views.defaults, "page_not_found", page_not_found)
    monkeypatch.setattr(error_views.defaults, "permission_denied", permission_denied)
    request = RequestFactory().get("/no-such-page/")

    missing = error_views.page_not_found(request, Exception("nothing here"))
    refused = error_views.permission_denied(request, Exception("not yours"))

    assert (missing.status_code, missing.content) == (404, b"<!doctype html><title>Not Found</title><h1>Not Found</h1>")
    assert refused.status_code == 403 and b"403 Forbidden" in refused.content


def test_an_oversized_body_is_a_json_413_at_every_endpoint_and_an_html_413_on_pages(browser, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    big_json = json.dumps({"text": "x" * 3_000})

    for url in ["/api/v1/conversations/", "/api/v1/consent/grants/", "/api/v1/consent/grants/1/revoke/"]:
        answer = _assert_error_shape(browser.post(url, big_json, content_type="application/json"), 413)
        assert answer["error"] == "request_too_large" and "2,000 bytes" in answer["message"], answer
    # a form body too (Django would measure it only when the CSRF check reads it)
    form = browser.post("/api/v1/consent/grants/", {"scope": "place_orders", "note": "y" * 3_000})
    _assert_error_shape(form, 413, "request_too_large")
    # pages answer in HTML (the test client posts a form as multipart, whose files Django's limit never counts:
    # refused before it is read, config.error_views.RequestSizeLimitMiddleware)
    page = browser.post("/settings/caps/", {"per_order": "1", "note": "y" * 3_000})
    assert page.status_code == 413 and page["Content-Type"].startswith("text/html")

    # under the limit everything is as before
    small = browser.post(
        "/api/v1/consent/grants/", json.dumps({"scope": "place_orders"}), content_type="application/json"
    )
    assert small.status_code == 201, small.content


def test_a_429_states_the_wait_once_and_sends_retry_after(browser, alice, settings):
    settings.ORDERING_CONVERSATIONS_RATE = "2/min"
    for _ in range(2):
        assert browser.post("/api/v1/conversations/").status_code == 201

    response = browser.post("/api/v1/conversations/")

    answer = _assert_error_shape(response, 429, "throttled")
    seconds = answer["retry_after_seconds"]
    assert 1 <= seconds <= 60
    assert response["Retry-After"] == str(seconds)
    assert answer["message"] == (
        f"You've started many conversations in a short time; please wait {seconds} seconds and try again."
    )
    assert answer["message"].count("second") == 1 and "Expected available" not in answer["message"]


def test_a_turn_in_progress_is_a_409_with_retry_after(browser, alice):
    conversation = services.conversation_open(customer_id=alice.pk)
    # a turn of this conversation is queued (its worker has not taken it yet)
    services.turn_claim(conversation=conversation, idempotency_key="", text="first", command=None)

    response = browser.post(
        f"/api/v1/conversations/{conversation.pk}/messages/",
        json.dumps({"text": "second"}),
        content_type="application/json",
    )

    answer = _assert_error_shape(response, 409, "turn_in_progress")
    assert answer["retry_after_seconds"] == 1 and response["Retry-After"] == "1"
    assert ConversationTurn.objects.filter(conversation=conversation).count() == 1


def test_an_unexpected_error_under_api_is_a_json_500_with_its_trace_id_and_pages_keep_html():
    factory = RequestFactory()
    api_request = factory.get("/api/v1/conversations/")
    api_request.trace_id = "trace-for-support-1"
    page_request = factory.get("/settings/")

    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        api_response = server_error(api_request)
        page_response = server_error(page_request)

    assert api_response.status_code == 500 and api_response["Content-Type"] == "application/json"
    body = json.loads(api_response.content)
    assert body["error"] == "server_error" and body["trace_id"] == "trace-for-support-1"
    assert "trace-for-support-1" in body["message"]
    assert page_response.status_code == 500 and b"<h1>Server Error (500)</h1>" in page_response.content


def test_the_3d_secure_pages_under_api_keep_html_error_pages(browser):
    from config.error_views import answers_json

    factory = RequestFactory()
    assert not answers_json(factory.get("/api/v1/flows/00000000-0000-0000-0000-000000000000/payment-verification/"))
    assert answers_json(factory.get("/api/v1/flows/00000000-0000-0000-0000-000000000000/"))
    assert answers_json(factory.get("/api/v1/nowhere/"))
    assert not answers_json(factory.get("/settings/"))
