"""Consent grants: the flows' check, revocation at once, and the hooks that fire only after commit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from consent import hooks
from consent.exceptions import ConsentExpired, ConsentMissing, ConsentRevoked, InvalidGrant
from consent.models import ConsentGrant, GrantChannel, GrantStatus, Scope
from consent.selectors import consent_allows, consent_require
from consent.services.grants import consent_revoke
from tests.consent.factories import grant


@pytest.fixture
def received():
    """Handlers registered on both hooks for the test, recording what they were sent."""
    events: dict[str, list] = {"revoked": [], "notice": []}

    def on_revoked(event):
        events["revoked"].append(event)

    def on_notice(event):
        events["notice"].append(event)

    hooks.grant_revoked.register(on_revoked)
    hooks.customer_notice.register(on_notice)
    yield events
    hooks.grant_revoked.unregister(on_revoked)
    hooks.customer_notice.unregister(on_notice)


def test_a_live_grant_allows(alice):
    granted = grant(alice)

    assert consent_require(user_id=alice.pk, scopes=[Scope.PLACE_ORDERS]) == [granted]
    assert consent_allows(user_id=alice.pk)


def test_no_grant_denies_with_reason_missing(alice):
    with pytest.raises(ConsentMissing) as denied:
        consent_require(user_id=alice.pk)
    assert denied.value.reason == "missing"
    assert "not allowed" in denied.value.message


def test_a_revoked_grant_denies_at_once_with_reason_revoked(alice):
    granted = grant(alice)

    consent_revoke(user_id=alice.pk, grant_id=granted.pk, via=GrantChannel.SETTINGS_PAGE)

    with pytest.raises(ConsentRevoked) as denied:
        consent_require(user_id=alice.pk)
    assert denied.value.reason == "revoked"
    assert denied.value.grant_id == granted.pk
    assert "revoked" in denied.value.message
    assert not consent_allows(user_id=alice.pk)


def test_an_expired_grant_denies_with_reason_expired(alice):
    granted = grant(alice, expires_at=timezone.now() + timedelta(hours=1))
    ConsentGrant.objects.filter(pk=granted.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(ConsentExpired) as denied:
        consent_require(user_id=alice.pk)
    assert denied.value.reason == "expired"
    assert "expired" in denied.value.message


def test_each_scope_is_checked(alice):
    grant(alice, Scope.PLACE_ORDERS)

    with pytest.raises(ConsentMissing) as denied:
        consent_require(user_id=alice.pk, scopes=[Scope.PLACE_ORDERS, Scope.USE_SAVED_PAYMENT])
    assert denied.value.scope == Scope.USE_SAVED_PAYMENT


def test_granting_again_after_expiry_supersedes_the_old_grant(alice):
    old = grant(alice, expires_at=timezone.now() + timedelta(hours=1))
    ConsentGrant.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    new = grant(alice)

    old.refresh_from_db()
    assert old.status == GrantStatus.SUPERSEDED
    assert consent_require(user_id=alice.pk) == [new]


def test_granting_what_is_already_granted_changes_nothing(alice):
    first = grant(alice)
    second = grant(alice)

    assert first.pk == second.pk
    assert AuditEvent.objects.filter(action="consent.grant_created").count() == 1


def test_an_expiry_in_the_past_is_refused(alice):
    with pytest.raises(InvalidGrant):
        grant(alice, expires_at=timezone.now() - timedelta(minutes=1))


def test_revoking_twice_is_a_no_op(alice, django_capture_on_commit_callbacks, received):
    granted = grant(alice)

    with django_capture_on_commit_callbacks(execute=True):
        consent_revoke(user_id=alice.pk, grant_id=granted.pk, via=GrantChannel.API)
    with django_capture_on_commit_callbacks(execute=True):
        consent_revoke(user_id=alice.pk, grant_id=granted.pk, via=GrantChannel.API)

    assert AuditEvent.objects.filter(action="consent.grant_revoked").count() == 1
    assert len(received["revoked"]) == 1


def test_revoking_another_customers_grant_finds_nothing(alice, bob):
    bobs = grant(bob)

    with pytest.raises(ConsentGrant.DoesNotExist):
        consent_revoke(user_id=alice.pk, grant_id=bobs.pk, via=GrantChannel.API)
    bobs.refresh_from_db()
    assert bobs.status == GrantStatus.ACTIVE


def test_the_hooks_are_called_after_commit_with_the_customer_and_grant(
    alice, django_capture_on_commit_callbacks, received
):
    granted = grant(alice)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        consent_revoke(user_id=alice.pk, grant_id=granted.pk, via=GrantChannel.SETTINGS_PAGE)
        # not before the commit
        assert received["revoked"] == []
    for callback in callbacks:
        callback()

    (event,) = received["revoked"]
    assert event.customer_id == alice.pk
    assert event.grant_id == granted.pk
    assert event.scope == Scope.PLACE_ORDERS
    (notice,) = received["notice"]
    assert notice.customer_id == alice.pk
    assert notice.kind == "grant_revoked"
    assert "stopped" in notice.text


def test_the_hooks_are_not_called_when_the_revocation_rolls_back(alice, django_capture_on_commit_callbacks, received):
    granted = grant(alice)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        consent_revoke(user_id=alice.pk, grant_id=granted.pk, via=GrantChannel.SETTINGS_PAGE)
        raise RuntimeError("the surrounding work failed")

    assert received == {"revoked": [], "notice": []}
    granted.refresh_from_db()
    assert granted.status == GrantStatus.ACTIVE
    consent_require(user_id=alice.pk)


@pytest.mark.django_db(transaction=True)
def test_the_hook_fires_on_a_real_commit_and_a_failing_handler_does_not_stop_others(received):
    from tests.consent.factories import UserFactory

    user = UserFactory(username="carol")
    granted = grant(user)

    def broken(event):
        raise RuntimeError("handler bug")

    hooks.grant_revoked._handlers.insert(0, broken)  # runs before the recording handler, and fails
    try:
        consent_revoke(user_id=user.pk, grant_id=granted.pk, via=GrantChannel.API)
    finally:
        hooks.grant_revoked.unregister(broken)

    assert [event.grant_id for event in received["revoked"]] == [granted.pk]
