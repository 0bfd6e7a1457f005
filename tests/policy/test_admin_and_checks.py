"""The staff console's policy page (OTP staff; activation needs its own permission, and is audited) and the
system checks that stop a process from starting with a broken policy."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.checks import run_checks
from django.test import Client

from audit.models import AuditEvent
from consent.models import PolicyActivation
from tests.policy.conftest import variant

pytestmark = pytest.mark.postgres

PAGE = "/admin/consent/policyactivation/"
ACTIVATE = "/admin/consent/policyactivation/activate/"


def _staff(username: str, *permissions: str):
    user = get_user_model().objects.create_user(username, password="irrelevant-pass-9", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="consent", codename__in=permissions))
    return user


@pytest.fixture
def operator(db, otp_login):
    return otp_login(_staff("opal", "view_policyactivation", "activate_policy"))


def test_the_page_lists_versions_with_the_active_one_marked_and_activates_with_an_audit(policy_dir, operator):
    page = operator.get(PAGE)

    assert page.status_code == 200
    html = page.content.decode()
    assert '<strong id="policy-active">risk-v2</strong>' in html and "nothing has been activated" in html
    assert "Activate strict" in html and "Activate risk-v2" not in html  # the active one has no button

    response = operator.post(ACTIVATE, {"version": "strict", "reason": "card testing wave"})

    assert response.status_code == 302
    event = AuditEvent.objects.get(action="policy.activated")
    opal = get_user_model().objects.get(username="opal")
    assert (event.actor_type, event.actor_id, event.origin_channel) == ("staff", str(opal.pk), "admin")
    assert (event.data["from"], event.data["to"], event.data["reason"]) == ("risk-v2", "strict", "card testing wave")
    html = operator.get(PAGE).content.decode()
    assert '<strong id="policy-active">strict</strong>' in html
    assert "Activate risk-v2" in html and "card testing wave" in html  # rollback button, history row


def test_an_invalid_file_is_shown_with_its_problems_and_cannot_be_activated(policy_dir, operator):
    variant(policy_dir, "typo", review_score="10")

    html = operator.get(PAGE).content.decode()
    assert "risk.review_score: 10 is below risk.step_up_score 50" in html
    assert "Activate typo" not in html

    operator.post(ACTIVATE, {"version": "typo"})
    assert not PolicyActivation.objects.exists()
    messages = operator.get(PAGE).content.decode()
    assert "typo.toml is not a valid policy" in messages


def test_staff_who_may_only_look_cannot_activate(policy_dir, db, otp_login):
    viewer = otp_login(_staff("vic", "view_policyactivation"), client=Client())

    assert "Activate strict" not in viewer.get(PAGE).content.decode()
    assert viewer.post(ACTIVATE, {"version": "strict"}).status_code == 403
    assert not PolicyActivation.objects.exists()


def test_staff_without_a_verified_authenticator_are_sent_to_sign_in(policy_dir, db, client):
    client.force_login(_staff("nick", "view_policyactivation", "activate_policy"))

    for response in (client.get(PAGE), client.post(ACTIVATE, {"version": "strict"})):
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert not PolicyActivation.objects.exists()


def _check_ids(settings) -> dict[str, str]:
    return {message.id: message.msg for message in run_checks() if message.id.startswith("consent.")}


def test_startup_checks_fail_on_an_invalid_default_or_directory_file_and_warn_on_legacy_overrides(policy_dir, settings):
    assert _check_ids(settings) == {}

    variant(policy_dir, "typo", per_order="-1")
    settings.ORDERING_POLICY_VERSION = "typo"
    found = _check_ids(settings)
    assert found["consent.E010"].startswith("Policy typo (ORDERING_POLICY_VERSION, in force when none is activated)")
    assert "spend.per_order: must be zero or more, not -1" in found["consent.E010"]

    settings.ORDERING_POLICY_VERSION = "risk-v2"
    settings.ORDERING_RISK_REVIEW_SCORE = 70
    found = _check_ids(settings)
    assert found["consent.E011"].startswith("Policy typo (in ")
    assert found["consent.W010"] == "ORDERING_RISK_REVIEW_SCORE=70 overrides risk.review_score of every policy version."
