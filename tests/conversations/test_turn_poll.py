"""The turn url is what every waiting widget polls twice a second: it must stay one indexed read of the turn
(plus its messages and the sign-in's own reads), write nothing, and answer 404, never 500, to a bad url."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from ordering import services
from ordering.models import Conversation

pytestmark = [pytest.mark.postgres]


def _queued_turn(chat):
    chat.start()
    conversation = Conversation.objects.get(pk=chat.id)
    # the turn as the message endpoint commits it, before any worker picks it up
    turn, fresh = services.turn_claim(conversation=conversation, idempotency_key="poll-1", text="hi", command=None)
    assert fresh
    return turn


def test_polling_a_queued_turn_is_a_few_reads_and_no_write(shop, chat, django_assert_max_num_queries):
    turn = _queued_turn(chat)
    url = f"/api/v1/conversations/{chat.id}/turns/{turn.pk}/"
    chat.turn(url)  # the first request may load what a signed-in client loads once

    with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(4):
        body = chat.turn(url)

    assert body["turn"] == {"id": turn.pk, "status": "queued", "url": url}
    assert [message["text"] for message in body["messages"]] == ["hi"]
    assert body["pending_confirmation"] is None
    statements = [query["sql"].lstrip().upper() for query in queries.captured_queries]
    assert all(statement.startswith("SELECT") for statement in statements), statements


def test_a_poll_of_a_bad_or_foreign_turn_url_is_404(shop, chat):
    turn = _queued_turn(chat)
    bob = APIClient()
    bob.force_login(get_user_model().objects.create_user(username="bob-poll", password="x"))

    assert bob.get(f"/api/v1/conversations/{chat.id}/turns/{turn.pk}/").status_code == 404
    for url in (
        f"/api/v1/conversations/{uuid.uuid4()}/turns/{turn.pk}/",  # the turn, under another conversation id
        f"/api/v1/conversations/not-a-uuid/turns/{turn.pk}/",
        f"/api/v1/conversations/{chat.id}/turns/99999999999999999999999/",  # past a bigint
        f"/api/v1/conversations/{chat.id}/turns/abc/",
    ):
        assert chat.client.get(url).status_code == 404, url
