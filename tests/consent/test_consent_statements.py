"""The consent module's hand-written PostgreSQL statements and their ORM paths answer and write the same (#15).

A placement asks `consent_require` three times, reserves and commits spend, and checks its reservation before paying:
on PostgreSQL those reads and writes are hand-written (`config.statements.postgresql_or_orm`); SQLite, and PostgreSQL
with DATABASE_HAND_WRITTEN_SQL=0, take the ORM path. Each test runs the same calls both ways on the same rows and
compares what comes back and what was written, so the path a deployment does not run cannot drift.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from consent.exceptions import ConsentExpired, ConsentMissing, ConsentRevoked
from consent.models import ConsentGrant, GrantStatus, Scope, SpendEntry, SpendKind
from consent.selectors import _latest_grants, consent_require, spend_reservation_unsettled
from consent.services.grants import consent_revoke
from consent.services.ledger import (
    LATE_COMMIT_SUFFIX,
    _lock_profile,
    spend_commit,
    spend_release,
    spend_release_expired,
    spend_reserve,
)
from tests.consent.factories import grant

pytestmark = [pytest.mark.postgres]

ALL_SCOPES = [Scope.PLACE_ORDERS, Scope.USE_SAVED_PAYMENT, Scope.USE_SAVED_ADDRESS]


def _both_ways(settings, call):
    """(the hand-written statement's answer, the ORM's answer) of `call()` on the same rows."""
    settings.DATABASE_HAND_WRITTEN_SQL = True
    statement = call()
    settings.DATABASE_HAND_WRITTEN_SQL = False
    orm = call()
    return statement, orm


def _grant_rows(latest: dict[str, ConsentGrant]) -> dict[str, tuple]:
    return {
        scope: (grant.pk, grant.scope, grant.status, grant.granted_at, grant.expires_at, grant.user_id)
        for scope, grant in latest.items()
    }


def _denial(user_id, scopes):
    try:
        return [grant.pk for grant in consent_require(user_id=user_id, scopes=scopes)]
    except (ConsentMissing, ConsentRevoked, ConsentExpired) as denied:
        return type(denied).__name__, denied.scope, str(denied)


def test_the_newest_grant_per_scope_is_the_same_row_either_way(alice, settings):
    # given a history: a superseded grant, a live one, a revoked one, and one scope never granted
    grant(alice, Scope.PLACE_ORDERS, expires_at=timezone.now() + timedelta(days=1))
    grant(alice, Scope.PLACE_ORDERS, expires_at=timezone.now() + timedelta(days=2))  # supersedes the first
    revoked = grant(alice, Scope.USE_SAVED_PAYMENT)
    consent_revoke(user_id=alice.pk, grant_id=revoked.pk, via="api")
    assert ConsentGrant.objects.filter(user=alice).count() == 3

    for scopes in (ALL_SCOPES, [Scope.PLACE_ORDERS], [Scope.USE_SAVED_ADDRESS, Scope.PLACE_ORDERS]):
        statement, orm = _both_ways(settings, lambda scopes=scopes: _latest_grants(user_id=alice.pk, scopes=scopes))
        assert _grant_rows(statement) == _grant_rows(orm)
    assert statement[Scope.PLACE_ORDERS].status == GrantStatus.ACTIVE


@pytest.mark.parametrize("case", ["live", "revoked", "expired", "missing"])
def test_consent_require_grants_and_denies_alike_either_way(alice, settings, case):
    for scope in ALL_SCOPES:
        made = grant(alice, scope)
        if case == "revoked" and scope == Scope.USE_SAVED_PAYMENT:
            consent_revoke(user_id=alice.pk, grant_id=made.pk, via="api")
        if case == "expired" and scope == Scope.USE_SAVED_ADDRESS:
            ConsentGrant.objects.filter(pk=made.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    if case == "missing":
        ConsentGrant.objects.filter(user=alice, scope=Scope.USE_SAVED_ADDRESS).delete()

    statement, orm = _both_ways(settings, lambda: _denial(alice.pk, ALL_SCOPES))

    assert statement == orm
    if case == "live":
        assert len(statement) == 3
    else:
        assert statement[0] == {"revoked": "ConsentRevoked", "expired": "ConsentExpired"}.get(case, "ConsentMissing")


def test_consent_require_is_one_query_either_way(alice, settings):
    for scope in ALL_SCOPES:
        grant(alice, scope)
    for hand_written in (True, False):
        settings.DATABASE_HAND_WRITTEN_SQL = hand_written
        with CaptureQueriesContext(connection) as queries:
            consent_require(user_id=alice.pk, scopes=ALL_SCOPES)
        assert len(queries) == 1


def _entry_rows(user) -> list[tuple]:
    return list(
        SpendEntry.objects.filter(user=user)
        .order_by("id")
        .values_list("kind", "amount", "currency", "flow_reference", "reservation__flow_reference", "reason")
    )


def test_the_unsettled_reservation_is_the_same_either_way(alice, settings):
    reserve = {
        ref: spend_reserve(user_id=alice.pk, amount=1_000, currency="USD", flow_reference=ref)
        for ref in ("open", "committed", "released")
    }
    spend_commit(flow_reference="committed")
    spend_release(flow_reference="released")

    for ref in ("open", "committed", "released", "never-reserved"):
        statement, orm = _both_ways(settings, lambda ref=ref: spend_reservation_unsettled(flow_reference=ref))
        assert (statement and (statement.pk, statement.expires_at, statement.amount)) == (
            orm and (orm.pk, orm.expires_at, orm.amount)
        )
        assert (statement.pk if statement else None) == (reserve["open"].pk if ref == "open" else None)


def test_the_profile_lock_reads_the_same_profile_either_way(alice, settings):
    spend_reserve(user_id=alice.pk, amount=1_000, currency="USD", flow_reference="first")  # makes the profile

    def locked():
        from django.db import transaction

        with transaction.atomic():
            profile = _lock_profile(alice.pk)
            return profile.pk, profile.currency, profile.cap_per_order, profile.updated_at

    statement, orm = _both_ways(settings, locked)
    assert statement == orm


def _settlements(user, settings, hand_written: bool, prefix: str) -> tuple[list, list]:
    """Every way a settlement can go, run on fresh reservations: what each call answered, and the rows written."""
    settings.DATABASE_HAND_WRITTEN_SQL = hand_written
    answers: list = []
    for ref in ("commit", "commit-twice", "release", "release-twice", "commit-after-release", "release-after-commit",
                "commit-less", "commit-more", "commit-more-after-commit"):  # fmt: skip
        spend_reserve(user_id=user.pk, amount=1_000, currency="USD", flow_reference=f"{prefix}{ref}")
    calls = [
        ("commit", lambda r: spend_commit(flow_reference=r)),
        ("commit-twice", lambda r: (spend_commit(flow_reference=r), spend_commit(flow_reference=r))),
        ("release", lambda r: spend_release(flow_reference=r, reason="flow_failed")),
        ("release-twice", lambda r: (spend_release(flow_reference=r), spend_release(flow_reference=r))),
        ("commit-after-release", lambda r: (spend_release(flow_reference=r), spend_commit(flow_reference=r))),
        ("release-after-commit", lambda r: (spend_commit(flow_reference=r), spend_release(flow_reference=r))),
        ("commit-less", lambda r: spend_commit(flow_reference=r, amount=600)),
        ("commit-more", lambda r: spend_commit(flow_reference=r, amount=1_001)),
        ("commit-more-after-commit",
         lambda r: (spend_commit(flow_reference=r), spend_commit(flow_reference=r, amount=1_001))),
        ("never-reserved", lambda r: spend_release(flow_reference=r)),
    ]  # fmt: skip
    for ref, call in calls:
        try:
            answer = call(f"{prefix}{ref}")
        except Exception as refused:  # the refusal is the answer compared
            answer = type(refused).__name__
        entries = answer if isinstance(answer, tuple) else (answer,)
        answers.append(
            tuple(
                entry if isinstance(entry, str | None) else (entry.kind, entry.amount, entry.reason)
                for entry in entries
            )
        )
    rows = [
        (kind, amount, currency, reference.removeprefix(prefix), (reserved or "").removeprefix(prefix), reason)
        for kind, amount, currency, reference, reserved, reason in _entry_rows(user)
        if reference.startswith(prefix)
    ]
    events = list(
        AuditEvent.objects.filter(action__startswith="spend.", data__flow_reference__startswith=prefix)
        .order_by("id")
        .values_list("action", "data__amount", "data__reason")
    )
    return answers, rows + events


def test_every_settlement_answers_and_writes_the_same_either_way(alice, settings):
    statement = _settlements(alice, settings, True, "s:")
    orm = _settlements(alice, settings, False, "o:")

    assert statement == orm
    answers, _ = statement
    assert answers[0] == (("commit", 1_000, ""),)
    assert answers[7] == ("SpendCommitExceedsReservation",)
    assert answers[8] == (("commit", 1_000, ""), ("commit", 1_000, ""))  # the commit stands: it is the answer
    assert answers[4][1][0] == "commit"  # a charge after its release is committed late
    assert SpendEntry.objects.filter(flow_reference=f"s:commit-after-release{LATE_COMMIT_SUFFIX}").count() == 2
    assert answers[9] == (None,)


def test_a_commit_is_two_statements_after_the_reservation_lock_on_postgresql(alice, settings):
    spend_reserve(user_id=alice.pk, amount=1_000, currency="USD", flow_reference="flow-1")
    settings.DATABASE_HAND_WRITTEN_SQL = True

    with CaptureQueriesContext(connection) as queries:
        spend_commit(flow_reference="flow-1")

    ledger = [query["sql"] for query in queries if "consent_spendentry" in query["sql"]]
    # the locking read, then the commit inserted unless a settlement stands (no read of the settlement first)
    assert len(ledger) == 2, "\n".join(ledger)
    assert "FOR UPDATE" in ledger[0] and "NOT EXISTS" in ledger[1]


def test_the_sweeper_still_releases_only_expired_reservations_no_flow_holds(alice, settings):
    settings.DATABASE_HAND_WRITTEN_SQL = True
    spend_reserve(user_id=alice.pk, amount=1_000, currency="USD", flow_reference="stale")
    SpendEntry.objects.filter(flow_reference="stale").update(expires_at=timezone.now() - timedelta(minutes=1))

    assert spend_release_expired() == 1
    assert spend_reservation_unsettled(flow_reference="stale") is None
    assert SpendEntry.objects.filter(flow_reference="stale", kind=SpendKind.RELEASE, reason="expired").count() == 1
