"""An Idempotency-Key repeats one request: the same message replays its turn, another message is a 422.

Reusing a key with a different message used to answer the first message's turn (202, replayed) and drop
the new message without a word. Now it is refused, as the sandbox merchant refuses a key reused with
another body (`idempotency_conflict`, 422). Real PostgreSQL, the sandbox merchant over real HTTP.
"""

from __future__ import annotations

import pytest

from ordering.models import ConversationTurn, Message, MessageRole

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def shop(fake_shop):
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


SIZE_43 = {"kind": "set_slot", "slot": "size", "value": "43", "correction": True}


def _post(chat, body: dict, key: str):
    return chat.client.post(
        f"/api/v1/conversations/{chat.id}/messages/", body, format="json", headers={"Idempotency-Key": key}
    )


def test_a_key_reused_with_another_message_is_a_422_and_the_new_message_is_not_dropped_silently(shop, chat, unique):
    chat.start()
    first = _post(chat, {"text": "Buy the Blue Runner in size 42"}, unique)
    assert first.status_code == 202, first.content

    reused = _post(chat, {"text": "Actually, cancel that"}, unique)

    assert reused.status_code == 422, reused.content
    body = reused.json()
    assert body["error"] == "idempotency_conflict"
    assert "already used for a different message" in body["message"]
    assert body["turn_id"] == first.json()["turn"]["id"]
    assert "Idempotent-Replayed" not in reused.headers
    # nothing of the second message was stored or run
    assert ConversationTurn.objects.filter(conversation_id=chat.id).count() == 1
    texts = list(
        Message.objects.filter(conversation_id=chat.id, role=MessageRole.CUSTOMER).values_list("text", flat=True)
    )
    assert texts == ["Buy the Blue Runner in size 42"]

    # the same key with the same message still replays the first turn, byte for byte
    again = _post(chat, {"text": "Buy the Blue Runner in size 42"}, unique)
    assert again.status_code == 202 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    # and the new message goes through with a key of its own
    assert _post(chat, {"text": "Actually, cancel that"}, f"{unique}-2").status_code == 202


def test_the_same_words_with_another_command_are_another_request(shop, chat, unique):
    chat.start()
    chat.say("Buy the Blue Runner in size 42")
    first = _post(chat, {"text": "Blue Runner in size 43", "command": SIZE_43}, unique)
    assert first.status_code == 202, first.content

    # same words, no command: not the same request
    without_command = _post(chat, {"text": "Blue Runner in size 43"}, unique)
    assert without_command.status_code == 422
    assert without_command.json()["error"] == "idempotency_conflict"
    # same words, another command
    other = _post(chat, {"text": "Blue Runner in size 43", "command": {**SIZE_43, "value": "44"}}, unique)
    assert other.status_code == 422

    # the command with its keys in another order is the same request
    reordered = dict(reversed(list(SIZE_43.items())))
    replay = _post(chat, {"text": "Blue Runner in size 43", "command": reordered}, unique)
    assert replay.status_code == 202 and replay.headers["Idempotent-Replayed"] == "true"
    assert ConversationTurn.objects.filter(conversation_id=chat.id, idempotency_key=unique).count() == 1
