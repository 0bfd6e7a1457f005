"""The spend ledger: caps at their boundaries, idempotent reserve/commit/release, expiry, and the race."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from audit.models import AuditEvent
from consent.exceptions import (
    SpendCapExceeded,
    SpendCurrencyMismatch,
    SpendReservationConflict,
    SpendReservationNotFound,
    SpendReservationSettled,
)
from consent.models import SpendEntry, SpendKind
from consent.selectors import spend_used
from consent.services.grants import spend_caps_set
from consent.services.ledger import spend_commit, spend_release, spend_release_expired, spend_reserve
from consent.tasks import release_expired_reservations
from tests.consent.factories import UserFactory


def reserve(user, amount, ref, session="chat-1", **kwargs):
    return spend_reserve(
        user_id=user.pk, amount=amount, currency="USD", flow_reference=ref, chat_session_reference=session, **kwargs
    )


# -- boundaries ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cap", "limit"),
    [("per_order", 7_000), ("per_day", 9_000), ("per_month", 11_000), ("per_session", 8_000)],
)
def test_each_cap_allows_exactly_its_limit_and_denies_one_cent_more(alice, cap, limit):
    # given: only `cap` is tight; the others are at their (much higher) ceilings
    spend_caps_set(user_id=alice.pk, caps={cap: limit})
    first = limit // 2
    if cap != "per_order":
        reserve(alice, first, "flow-a")

    # when: one cent over the cap
    with pytest.raises(SpendCapExceeded) as denied:
        reserve(alice, limit - (0 if cap == "per_order" else first) + 1, "flow-over")

    # then: the denial names the cap, and exactly the limit still fits
    assert denied.value.cap == cap
    assert denied.value.limit == limit
    assert "cap" in denied.value.message
    reserve(alice, limit - (0 if cap == "per_order" else first), "flow-exact")
    used = spend_used(user_id=alice.pk, chat_session_reference="chat-1")
    if cap != "per_order":
        assert used[cap] == limit
    assert not SpendEntry.objects.filter(flow_reference="flow-over").exists()


def test_the_session_cap_counts_only_that_chat_session(alice):
    spend_caps_set(user_id=alice.pk, caps={"per_session": 10_000})
    reserve(alice, 10_000, "flow-1", session="chat-1")

    with pytest.raises(SpendCapExceeded) as denied:
        reserve(alice, 1, "flow-2", session="chat-1")
    assert denied.value.cap == "per_session"

    reserve(alice, 10_000, "flow-3", session="chat-2")


def test_committed_spend_counts_and_released_spend_does_not(alice):
    spend_caps_set(user_id=alice.pk, caps={"per_day": 10_000})
    reserve(alice, 6_000, "flow-1")
    spend_commit(flow_reference="flow-1", amount=5_000)  # the final total came out lower
    reserve(alice, 4_000, "flow-2")
    spend_release(flow_reference="flow-2")

    assert spend_used(user_id=alice.pk)["per_day"] == 5_000
    reserve(alice, 5_000, "flow-3")
    with pytest.raises(SpendCapExceeded):
        reserve(alice, 1, "flow-4")


def test_a_denied_reservation_is_recorded_for_the_customer_and_writes_no_ledger_row(alice):
    spend_caps_set(user_id=alice.pk, caps={"per_order": 1_000})

    with pytest.raises(SpendCapExceeded):
        reserve(alice, 1_001, "flow-big")

    assert not SpendEntry.objects.exists()
    event = AuditEvent.objects.filter(customer_id=alice.pk, action="spend.reserve_denied").get()
    assert event.outcome == "denied"
    assert event.data["cap"] == "per_order"


def test_a_reservation_in_another_currency_is_refused(alice):
    with pytest.raises(SpendCurrencyMismatch):
        spend_reserve(user_id=alice.pk, amount=100, currency="EUR", flow_reference="flow-eur")


# -- duplicate submissions -----------------------------------------------------------------------


def test_reserving_twice_with_the_same_flow_reference_returns_the_same_reservation(alice):
    first = reserve(alice, 2_500, "flow-1")
    second = reserve(alice, 2_500, "flow-1")

    assert first.pk == second.pk
    assert SpendEntry.objects.filter(kind=SpendKind.RESERVE).count() == 1
    assert spend_used(user_id=alice.pk)["per_day"] == 2_500
    assert AuditEvent.objects.filter(action="spend.reserved").count() == 1


def test_a_flow_reference_cannot_be_reused_for_another_amount_or_customer(alice):
    bob = UserFactory(username="bob")
    reserve(alice, 2_500, "flow-1")

    with pytest.raises(SpendReservationConflict):
        reserve(alice, 2_600, "flow-1")
    with pytest.raises(SpendReservationConflict):
        reserve(bob, 2_500, "flow-1")


def test_commit_is_idempotent(alice):
    reserve(alice, 2_500, "flow-1")

    first = spend_commit(flow_reference="flow-1")
    second = spend_commit(flow_reference="flow-1")

    assert first.pk == second.pk
    assert SpendEntry.objects.filter(kind=SpendKind.COMMIT).count() == 1
    assert spend_used(user_id=alice.pk)["per_day"] == 2_500


def test_release_is_idempotent_and_tolerates_a_reservation_that_never_happened(alice):
    reserve(alice, 2_500, "flow-1")

    first = spend_release(flow_reference="flow-1")
    second = spend_release(flow_reference="flow-1")

    assert first.pk == second.pk
    assert SpendEntry.objects.filter(kind=SpendKind.RELEASE).count() == 1
    assert spend_used(user_id=alice.pk)["per_day"] == 0
    assert spend_release(flow_reference="flow-never-reserved") is None


def test_a_reservation_settles_once_commit_or_release_never_both(alice):
    reserve(alice, 2_500, "flow-1")
    spend_release(flow_reference="flow-1")
    # A charge that completes after all is still recorded, as a late commit (tests/consent/test_spend_held.py).
    late = spend_commit(flow_reference="flow-1")
    assert late.reservation.flow_reference == "flow-1:late"
    assert SpendEntry.objects.filter(reservation__flow_reference="flow-1").count() == 1

    reserve(alice, 2_500, "flow-2")
    spend_commit(flow_reference="flow-2")
    with pytest.raises(SpendReservationSettled):
        spend_release(flow_reference="flow-2")
    with pytest.raises(SpendReservationNotFound):
        spend_commit(flow_reference="flow-unknown")


# -- expiry --------------------------------------------------------------------------------------


def test_expired_reservations_stop_counting_and_the_beat_task_releases_them(alice):
    spend_caps_set(user_id=alice.pk, caps={"per_day": 10_000})
    reserve(alice, 10_000, "flow-1")
    SpendEntry.objects.filter(flow_reference="flow-1").update(expires_at=timezone.now() - timedelta(seconds=1))

    # then: at once, before any sweeper ran, the expired reservation no longer blocks
    assert spend_used(user_id=alice.pk)["per_day"] == 0
    reserve(alice, 10_000, "flow-2")

    # and the task writes the release fact, once
    assert release_expired_reservations() == 1
    assert spend_release_expired() == 0
    release = SpendEntry.objects.get(kind=SpendKind.RELEASE)
    assert release.flow_reference == "flow-1"
    assert release.reason == "expired"


def test_the_beat_schedule_runs_the_release_task():
    from django.conf import settings

    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["consent-release-expired-reservations"]
    assert entry["task"] == "consent.release_expired_reservations"
    app.loader.import_default_modules()
    assert "consent.release_expired_reservations" in app.tasks


# -- the race ------------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_reservations_never_exceed_the_daily_cap():
    # given: a daily cap of $100.00 and twenty $7.00 orders racing (sum $140.00): exactly 14 fit
    user = UserFactory(username="racer")
    spend_caps_set(user_id=user.pk, caps={"per_day": 10_000})
    barrier = threading.Barrier(20)
    accepted: list[str] = []
    denied: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def attempt(index: int) -> None:
        reference = f"race-{index}"
        try:
            barrier.wait(timeout=30)
            spend_reserve(
                user_id=user.pk,
                amount=700,
                currency="USD",
                flow_reference=reference,
                chat_session_reference=f"chat-{index}",
            )
            with lock:
                accepted.append(reference)
        except SpendCapExceeded:
            with lock:
                denied.append(reference)
        except BaseException as error:
            with lock:
                errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(index,)) for index in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then
    assert not errors, errors
    assert len(accepted) == 14
    assert len(denied) == 6
    assert spend_used(user_id=user.pk)["per_day"] == 9_800
    assert set(SpendEntry.objects.filter(kind=SpendKind.RESERVE).values_list("flow_reference", flat=True)) == set(
        accepted
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("cap", ["per_month", "per_session"])
def test_concurrent_reservations_never_exceed_the_monthly_or_the_session_cap(cap):
    # given: a $50.00 cap of one kind (the others at the ceiling), $7.00 already committed in the window,
    # and twelve $7.00 orders of one chat session racing (sum $84.00): exactly 6 more fit
    user = UserFactory(username=f"racer-{cap}")
    spend_caps_set(user_id=user.pk, caps={cap: 5_000})
    spend_reserve(user_id=user.pk, amount=700, currency="USD", flow_reference="earlier", chat_session_reference="chat")
    spend_commit(flow_reference="earlier")

    results, errors = run_concurrently(
        [
            lambda index=index: spend_reserve(
                user_id=user.pk,
                amount=700,
                currency="USD",
                flow_reference=f"race-{cap}-{index}",
                chat_session_reference="chat",
            )
            for index in range(12)
        ]
    )

    # then: the refusals name the cap, and the windows' sums (one aggregate) agree with the ledger
    assert len(results) == 6
    assert len(errors) == 6 and all(isinstance(error, SpendCapExceeded) and error.cap == cap for error in errors)
    used = spend_used(user_id=user.pk, chat_session_reference="chat")
    assert used[cap] == 700 + 6 * 700
    assert SpendEntry.objects.filter(kind=SpendKind.RESERVE, flow_reference__startswith="race-").count() == 6


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_release_task_runs_in_a_real_worker_and_releases_expired_reservations(celery_worker):
    import time

    from config.celery import app

    user = UserFactory(username="dave")
    spend_reserve(user_id=user.pk, amount=1_000, currency="USD", flow_reference="flow-stale", ttl_seconds=60)
    SpendEntry.objects.filter(flow_reference="flow-stale").update(expires_at=timezone.now() - timedelta(seconds=1))

    app.send_task("consent.release_expired_reservations")

    # The task keeps no result (beat fires it every minute); its effect is the ledger row.
    deadline = time.monotonic() + 60
    while not SpendEntry.objects.filter(kind=SpendKind.RELEASE).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    release = SpendEntry.objects.get(kind=SpendKind.RELEASE, flow_reference="flow-stale")
    assert release.reason == "expired"


def run_concurrently(calls) -> tuple[list, list[BaseException]]:
    """Start every call at the same moment, each thread on its own database connection."""
    barrier = threading.Barrier(len(calls))
    results: list = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(call) -> None:
        try:
            barrier.wait(timeout=30)
            result = call()
            with lock:
                results.append(result)
        except BaseException as error:
            with lock:
                errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_duplicate_reservations_make_one():
    user = UserFactory(username="twin")

    results, errors = run_concurrently(
        [
            lambda: spend_reserve(user_id=user.pk, amount=1_234, currency="USD", flow_reference="flow-dup")
            for _ in range(10)
        ]
    )

    assert errors == []
    assert len({entry.pk for entry in results}) == 1
    assert SpendEntry.objects.filter(kind=SpendKind.RESERVE).count() == 1
    assert spend_used(user_id=user.pk)["per_day"] == 1_234


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_commits_and_releases_settle_a_reservation_exactly_once():
    user = UserFactory(username="settler")
    spend_reserve(user_id=user.pk, amount=5_000, currency="USD", flow_reference="flow-race")

    results, errors = run_concurrently(
        [lambda: spend_commit(flow_reference="flow-race") for _ in range(5)]
        + [lambda: spend_release(flow_reference="flow-race", reason="compensation") for _ in range(5)]
    )

    settlements = SpendEntry.objects.filter(reservation__flow_reference="flow-race")
    assert settlements.count() == 1
    winner = settlements.get()
    # A commit always counts, once: on the reservation when it won, as one late commit when a release did.
    commits = SpendEntry.objects.filter(kind=SpendKind.COMMIT, flow_reference__startswith="flow-race")
    assert commits.count() == 1
    commit = commits.get()
    assert all(result.pk in (winner.pk, commit.pk) for result in results)
    # a release that came after the commit is told the reservation was committed
    assert all(isinstance(error, SpendReservationSettled) for error in errors)
    assert len(results) + len(errors) == 10
    assert len(errors) == (5 if winner.kind == SpendKind.COMMIT else 0)
    assert spend_used(user_id=user.pk)["per_day"] == 5_000
