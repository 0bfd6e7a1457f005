"""The turn url is what every waiting widget looks at until its turn ends: it must stay one indexed read of the
turn (plus its messages and the sign-in's own reads), write nothing, and answer 404, never 500, to a bad url.
With `?wait=N` it waits for the worker's word that the turn ended (real Redis, a real thread running the turn
task), times out to the turn's status, answers at once without Redis, and never shows another customer's turn.

The merchant is not the subject: the in-memory fake merchant (one dictionary shared by the threads; only the
thread that runs a turn calls it), with real commits (`transactional_db`) so the turn's thread sees the turn."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from ordering import services, tasks
from ordering.models import Conversation
from ordering.turn_wait import turn_ended_notify
from tests.support.private_servers import PrivateRedis

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def shop(transactional_db, fake_shop):
    return fake_shop


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


# -- the long-poll: `?wait=N` (ordering/turn_wait.py) ----------------------------------------------------------


def _get(client, url: str, **params) -> tuple[int, dict, float]:
    started = time.monotonic()
    response = client.get(url, params)
    return response.status_code, response.json(), time.monotonic() - started


def _finish_later(turn_id: int, *, after: float, ended: dict) -> threading.Thread:
    """A real thread runs the turn task's body (the turn, then the wake-up) after `after` seconds, as a worker
    that takes a queued turn would."""

    def run() -> None:
        try:
            time.sleep(after)
            ended["status"] = tasks.turn_run(turn_id)
            ended["at"] = time.monotonic()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.redis
def test_a_long_poll_answers_as_soon_as_the_worker_ends_the_turn(shop, chat):
    # given a queued turn that a worker ends about a second from now
    turn = _queued_turn(chat)
    url = f"/api/v1/conversations/{chat.id}/turns/{turn.pk}/"
    ended: dict = {}
    worker = _finish_later(turn.pk, after=1.0, ended=ended)

    # when alice's widget looks at the turn, letting the server wait up to 15 s
    status_code, body, elapsed = _get(chat.client, url, wait=15)
    answered_at = time.monotonic()
    worker.join()

    # then the one request waited for the turn and answered with its end as soon as the worker said so
    assert status_code == 200
    assert ended["status"] == "done" and body["turn"]["status"] == "done", body
    assert body["messages"][0]["role"] == "customer"
    assert any(message["role"] == "assistant" for message in body["messages"]), body
    assert elapsed >= 1.0  # it did wait: the turn was not done when the request came
    assert answered_at - ended["at"] < 2.0, "woken by the worker, not by the end of its 15 s"
    # and it answers exactly what a plain poll of the ended turn answers
    assert chat.turn(url) == body


@pytest.mark.redis
def test_a_long_poll_of_a_turn_nobody_ends_answers_its_status_when_the_time_is_up(shop, chat, settings):
    turn = _queued_turn(chat)
    url = f"/api/v1/conversations/{chat.id}/turns/{turn.pk}/"

    status_code, body, elapsed = _get(chat.client, url, wait=1)

    assert status_code == 200
    assert 0.9 <= elapsed < 5, elapsed
    assert body == chat.turn(url) and body["turn"]["status"] == "queued"

    # a longer wait than the server allows is cut to its bound, not refused
    settings.ORDERING_TURN_WAIT_MAX_SECONDS = 1
    status_code, body, elapsed = _get(chat.client, url, wait=600)
    assert status_code == 200 and body["turn"]["status"] == "queued"
    assert 0.9 <= elapsed < 5, elapsed


@pytest.mark.redis
def test_a_finished_turn_and_a_full_process_answer_at_once(shop, chat, settings):
    # given a turn that has already ended
    turn = _queued_turn(chat)
    url = f"/api/v1/conversations/{chat.id}/turns/{turn.pk}/"
    assert tasks.turn_run(turn.pk) == "done"

    status_code, body, elapsed = _get(chat.client, url, wait=10)
    assert status_code == 200 and body["turn"]["status"] == "done" and elapsed < 2

    # and with every wait slot of the process taken, an unfinished turn's poll is a plain read
    other = services.turn_claim(
        conversation=Conversation.objects.get(pk=chat.id), idempotency_key="poll-2", text="and now?", command=None
    )[0]
    settings.ORDERING_TURN_WAIT_SLOTS = 0
    started = time.monotonic()
    response = chat.client.get(f"/api/v1/conversations/{chat.id}/turns/{other.pk}/", {"wait": 10})
    assert response.status_code == 200 and response.json()["turn"]["status"] == "queued"
    assert time.monotonic() - started < 2
    # saying when to ask again, so a busy server is not asked twice a second by every client it cannot hold
    assert response["Retry-After"] == "2"


@pytest.mark.redis
def test_the_long_poll_works_with_redis_down(shop, chat, settings):
    turn = _queued_turn(chat)
    url = f"/api/v1/conversations/{chat.id}/turns/{turn.pk}/"
    with PrivateRedis() as private:
        # given the wake-ups go through a Redis of the test's own, which works at first
        settings.REDIS_URL = private.url(0)
        turn_ended_notify(turn_id=turn.pk)
        status_code, body, elapsed = _get(chat.client, url, wait=10)
        assert status_code == 200 and elapsed < 2  # woken at once by the token in that Redis
        assert body["turn"]["status"] == "queued"  # and still the turn read from the database

        # when that Redis goes down
        private.stop()

        # then a poll answers the turn as it stands at once, without an error
        status_code, body, elapsed = _get(chat.client, url, wait=10)
        assert status_code == 200 and body["turn"]["status"] == "queued"
        assert elapsed < 2, elapsed
        # the worker ends the turn all the same (its wake-up is lost, not its work), and the next poll sees it
        assert tasks.turn_run(turn.pk) == "done"
        status_code, body, elapsed = _get(chat.client, url, wait=10)
        assert status_code == 200 and body["turn"]["status"] == "done" and elapsed < 2


@pytest.mark.redis
def test_a_long_poll_never_shows_or_waits_for_another_customers_turn(shop, chat):
    # given alice's turn and bob's, both queued
    alice_turn = _queued_turn(chat)
    alice_url = f"/api/v1/conversations/{chat.id}/turns/{alice_turn.pk}/"
    bob = APIClient()
    bob.force_login(get_user_model().objects.create_user(username="bob-long-poll", password="x"))
    bob_conversation = bob.post("/api/v1/conversations/", format="json").json()["id"]
    bob_turn, _ = services.turn_claim(
        conversation=Conversation.objects.get(pk=bob_conversation),
        idempotency_key="bob-1",
        text="bob here",
        command=None,
    )
    bob_url = f"/api/v1/conversations/{bob_conversation}/turns/{bob_turn.pk}/"

    # bob asking to wait on alice's turn url is a 404 at once: nothing of hers, no waiting on her key
    status_code, body, elapsed = _get(bob, alice_url, wait=10)
    assert status_code == 404 and elapsed < 2
    assert "bob here" not in str(body) and "hi" not in [m.get("text") for m in body.get("messages", [])]

    # when alice's turn ends while both of them wait on their own turn urls
    answers: dict = {}

    def alice_waits() -> None:
        try:
            answers["alice"] = _get(chat.client, alice_url, wait=15)
        finally:
            connection.close()

    alice = threading.Thread(target=alice_waits)
    alice.start()
    ended: dict = {}
    worker = _finish_later(alice_turn.pk, after=0.5, ended=ended)
    bob_answer = _get(bob, bob_url, wait=3)
    alice.join()
    worker.join()

    # then alice is woken with her answer, and bob is not woken by her turn: his stays his, queued
    assert answers["alice"][0] == 200 and answers["alice"][1]["turn"]["status"] == "done"
    assert answers["alice"][2] < 10
    status_code, body, elapsed = bob_answer
    assert status_code == 200 and body["turn"] == {"id": bob_turn.pk, "status": "queued", "url": bob_url}
    assert [message["text"] for message in body["messages"]] == ["bob here"]
    assert elapsed >= 2.9


@pytest.mark.parametrize("wait", ["abc", "-1", "nan", "inf"])
def test_a_wait_that_is_not_a_number_of_seconds_is_400(shop, chat, wait):
    turn = _queued_turn(chat)

    response = chat.client.get(f"/api/v1/conversations/{chat.id}/turns/{turn.pk}/", {"wait": wait})

    assert response.status_code == 400, response.content
    assert response.json()["error"] == "invalid" and "wait" in response.json()["fields"]


@pytest.mark.redis
def test_a_long_poll_is_reads_only(shop, chat, django_assert_max_num_queries):
    turn = _queued_turn(chat)
    url = f"/api/v1/conversations/{chat.id}/turns/{turn.pk}/"
    chat.turn(url)

    with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(5):
        body = chat.client.get(url, {"wait": 1}).json()

    assert body["turn"]["status"] == "queued"
    statements = [query["sql"].lstrip().upper() for query in queries.captured_queries]
    assert all(statement.startswith("SELECT") for statement in statements), statements


@pytest.mark.redis
def test_a_turn_the_sweep_gives_up_on_wakes_its_long_poll(shop, chat, settings):
    # given a queued turn whose worker was lost, and alice's widget waiting on it for up to 15 s
    turn = _queued_turn(chat)
    url = f"/api/v1/conversations/{chat.id}/turns/{turn.pk}/"
    swept: dict = {}

    def sweep_later() -> None:
        try:
            time.sleep(1.0)
            settings.ORDERING_TURN_GIVE_UP_AFTER_SECONDS = 0
            swept["count"] = services.turns_abandon(conversation_id=chat.id)
            swept["at"] = time.monotonic()
        finally:
            connection.close()

    sweeper = threading.Thread(target=sweep_later)
    sweeper.start()
    status_code, body, elapsed = _get(chat.client, url, wait=15)
    answered_at = time.monotonic()
    sweeper.join()

    # then the sweep's failure reaches the widget at once, not when its 15 s run out
    assert swept["count"] == 1
    assert status_code == 200 and body["turn"]["status"] == "failed", body
    assert elapsed >= 1.0  # it did wait: the turn was still queued when the request came
    assert answered_at - swept["at"] < 2.0, "woken by the sweep, not by the end of the wait"


@pytest.mark.redis
def test_a_conversation_erased_during_a_long_poll_is_404_not_an_error(shop, chat):
    turn = _queued_turn(chat)
    url = f"/api/v1/conversations/{chat.id}/turns/{turn.pk}/"

    def erase_later() -> None:
        try:
            time.sleep(0.5)
            Conversation.objects.filter(pk=chat.id).delete()
        finally:
            connection.close()

    eraser = threading.Thread(target=erase_later)
    eraser.start()
    response = chat.client.get(url, {"wait": 2})
    eraser.join()

    assert not Conversation.objects.filter(pk=chat.id).exists()
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
