"""The conversation API's limits: ownership, throttling, message length, idempotent retries, the schema."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient

from ordering.models import ConversationTurn, Message, MessageRole, OrderFlow

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


@pytest.fixture
def bob_client(shop) -> APIClient:
    client = APIClient()
    client.force_login(get_user_model().objects.get(username="bob"))
    return client


def test_another_customers_conversation_and_flow_are_not_found(shop, chat, bob_client):
    # given alice has a conversation with a preview
    chat.start()
    pending = chat.say("Buy the Blue Runner in size 42")["pending_confirmation"]
    base = f"/api/v1/conversations/{chat.id}"

    # then bob gets 404 for every part of it, and changes nothing
    assert bob_client.get(f"{base}/").status_code == 404
    assert bob_client.get(f"{base}/events/").status_code == 404
    assert bob_client.post(f"{base}/messages/", {"text": "yes"}, format="json").status_code == 404
    confirm = bob_client.post(
        f"{base}/confirm/", {"preview_hash": pending["preview_hash"], "decision": "confirm"}, format="json"
    )
    assert confirm.status_code == 404
    assert confirm.json()["error"] == "conversation_not_found"
    assert bob_client.post(f"{base}/csat/", {"score": 1}, format="json").status_code == 404
    assert bob_client.get(f"/api/v1/flows/{pending['flow_id']}/").status_code == 404
    assert OrderFlow.objects.get(pk=pending["flow_id"]).confirmations == 0
    assert not Message.objects.filter(conversation_id=chat.id, text="yes").exists()
    # unknown or malformed ids are 404 too, and anonymous callers are refused
    assert chat.client.get("/api/v1/conversations/not-a-uuid/").status_code == 404
    assert chat.client.get("/api/v1/flows/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert APIClient().get(f"{base}/").status_code == 403


def test_turns_are_throttled_per_customer_with_a_clear_429(shop, chat, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"conversation_turns": "3/min"},
    }
    chat.start()
    for _ in range(3):
        chat.say("hello")

    response = chat.client.post(f"/api/v1/conversations/{chat.id}/messages/", {"text": "hello"}, format="json")

    assert response.status_code == 429
    body = response.json()
    assert body["error"] == "throttled"
    assert "please wait" in body["message"] and body["retry_after_seconds"] >= 1
    assert response.headers["Retry-After"]
    assert Message.objects.filter(conversation_id=chat.id, role=MessageRole.CUSTOMER).count() == 3
    # reading is not a turn: the transcript stays available
    assert chat.client.get(f"/api/v1/conversations/{chat.id}/").status_code == 200


def test_a_message_over_the_length_limit_is_a_clear_400_and_no_turn(shop, chat, settings):
    settings.ORDERING_MESSAGE_MAX_CHARS = 50
    chat.start()

    response = chat.client.post(f"/api/v1/conversations/{chat.id}/messages/", {"text": "x" * 51}, format="json")

    assert response.status_code == 400
    assert response.json()["message"] == (
        "Text: A message can be at most 50 characters long; this one has 51. Please shorten it."
    )
    assert not ConversationTurn.objects.filter(conversation_id=chat.id).exists()
    empty = chat.client.post(f"/api/v1/conversations/{chat.id}/messages/", {"text": "  "}, format="json")
    assert empty.status_code == 400
    assert chat.say("x" * 50)["messages"][0]["text"] == "x" * 50


def test_a_retried_post_with_the_same_idempotency_key_replays_the_answer(shop, chat, unique):
    chat.start()

    first = chat.client.post(
        f"/api/v1/conversations/{chat.id}/messages/",
        {"text": "Buy the Blue Runner in size 42"},
        format="json",
        headers={"Idempotency-Key": unique},
    )
    second = chat.client.post(
        f"/api/v1/conversations/{chat.id}/messages/",
        {"text": "Buy the Blue Runner in size 42"},
        format="json",
        headers={"Idempotency-Key": unique},
    )

    assert first.status_code == second.status_code == 202
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert ConversationTurn.objects.filter(conversation_id=chat.id).count() == 1
    assert Message.objects.filter(conversation_id=chat.id, role=MessageRole.CUSTOMER).count() == 1
    assert OrderFlow.objects.filter(conversation_id=chat.id).count() == 1
    assert first.json()["messages"][0]["role"] == "customer"
    # a new key is a new turn
    chat.say("make it 2", key=f"{unique}-2")
    assert ConversationTurn.objects.filter(conversation_id=chat.id).count() == 2


def test_csat_takes_1_to_5(shop, chat):
    chat.start()
    url = f"/api/v1/conversations/{chat.id}/csat/"
    assert chat.client.post(url, {"score": 6}, format="json").status_code == 400
    assert chat.client.post(url, {"score": 0}, format="json").status_code == 400
    response = chat.client.post(url, {"score": 5, "comment": "quick"}, format="json")
    assert response.status_code == 201 and response.json() == {"score": 5, "comment": "quick"}
    assert chat.client.post(url, {"score": 4}, format="json").json()["score"] == 4
    from ordering.models import ConversationRating

    assert ConversationRating.objects.get(conversation_id=chat.id).score == 4


def test_session_auth_enforces_csrf(shop):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(shop.alice)
    response = client.post("/api/v1/conversations/", format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]


def test_the_openapi_schema_validates_and_documents_every_endpoint(db):
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out)
    import json

    schema = json.loads(out.getvalue())
    paths = schema["paths"]
    for path, method in [
        ("/api/v1/conversations/", "post"),
        ("/api/v1/conversations/{conversation_id}/", "get"),
        ("/api/v1/conversations/{conversation_id}/messages/", "post"),
        ("/api/v1/conversations/{conversation_id}/confirm/", "post"),
        ("/api/v1/conversations/{conversation_id}/events/", "get"),
        ("/api/v1/conversations/{conversation_id}/csat/", "post"),
        ("/api/v1/flows/{flow_id}/", "get"),
    ]:
        assert method in paths[path], path
    confirm = paths["/api/v1/conversations/{conversation_id}/confirm/"]["post"]["responses"]
    assert {"200", "202", "409"} <= set(confirm)
    preview = schema["components"]["schemas"]["PreviewOut"]["properties"]
    assert {"lines", "subtotal", "discount", "promo_codes", "tax", "shipping", "total", "currency"} <= set(preview)
