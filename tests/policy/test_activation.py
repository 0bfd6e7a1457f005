"""Activating a policy version: audited, one active at a time, and decisions follow (and name) the new version."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import AuditEvent
from consent.exceptions import SpendCapExceeded
from consent.models import PolicyActivation
from consent.policies import active_policy
from consent.policies.services import policy_activate, policy_active_version
from consent.selectors import auto_checkout_ceiling, spend_cap_ceilings
from consent.services.ledger import spend_reserve
from escalations.models import Escalation
from ordering.models import FlowStatus, OrderFlow
from ordering.risk import ALLOW, REVIEW, risk_assess
from ordering.services import flow_confirm
from tests.ordering.conftest import fake_shop  # noqa: F401 - the fixture, reused
from tests.policy.conftest import variant

pytestmark = pytest.mark.postgres


@pytest.fixture
def shop(fake_shop):  # noqa: F811 - the fixture, not the import
    """The merchant is not the subject here: the in-memory fake merchant, and the test rolls back."""
    return fake_shop


@pytest.fixture
def ops(db):
    return get_user_model().objects.create_user("olga", password="irrelevant-pass-9", is_staff=True)


def activate(version: str, ops, django_capture_on_commit_callbacks, reason: str = "") -> PolicyActivation:
    """As the admin or the command does it, with the commit's publication run (a test transaction never commits)."""
    with django_capture_on_commit_callbacks(execute=True):
        return policy_activate(version=version, actor_type="staff", actor_id=ops.pk, reason=reason)


def test_activation_is_audited_with_who_when_and_from_to(policy_dir, ops, django_capture_on_commit_callbacks):
    activation = activate("strict", ops, django_capture_on_commit_callbacks, reason="INC-42 card testing")

    assert (activation.version, activation.previous_version, activation.active) == ("strict", "risk-v2", True)
    assert activation.activated_by == ops
    event = AuditEvent.objects.get(action="policy.activated")
    assert (event.actor_type, event.actor_id) == ("staff", str(ops.pk))
    assert (event.target_type, event.target_id) == ("policy", "strict")
    assert event.policy_version == "strict"
    assert event.data["from"] == "risk-v2" and event.data["to"] == "strict" and event.data["from_default"] is True
    assert event.data["reason"] == "INC-42 card testing" and len(event.data["sha256"]) == 64
    assert abs((event.occurred_at - timezone.now()).total_seconds()) < 60

    # and back (a rollback is an activation of the previous version)
    back = activate("risk-v2", ops, django_capture_on_commit_callbacks)
    assert back.previous_version == "strict"
    assert AuditEvent.objects.filter(action="policy.activated").count() == 2
    assert list(PolicyActivation.objects.filter(active=True).values_list("version", flat=True)) == ["risk-v2"]
    assert PolicyActivation.objects.count() == 2  # the history stays


def test_activating_the_active_version_again_changes_nothing(policy_dir, ops, django_capture_on_commit_callbacks):
    first = activate("strict", ops, django_capture_on_commit_callbacks)

    again = activate("strict", ops, django_capture_on_commit_callbacks)

    assert again.pk == first.pk
    assert AuditEvent.objects.filter(action="policy.activated").count() == 1


def test_a_missing_or_invalid_version_is_refused_and_nothing_changes(policy_dir, db):
    variant(policy_dir, "broken", per_day="-1")

    with pytest.raises(CommandError, match=r"There is no policy file .*nope\.toml"):
        call_command("policy_activate", "nope")
    with pytest.raises(CommandError, match=r"broken\.toml is not a valid policy: spend\.per_day: must be zero or more"):
        call_command("policy_activate", "broken")
    with pytest.raises(CommandError, match="is not a policy version"):
        call_command("policy_activate", "../policies/risk-v2")

    assert not PolicyActivation.objects.exists()
    assert not AuditEvent.objects.filter(action="policy.activated").exists()
    assert policy_active_version() == "risk-v2"


def test_the_database_allows_one_active_version_only(policy_dir, ops, django_capture_on_commit_callbacks):
    activate("strict", ops, django_capture_on_commit_callbacks)

    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyActivation.objects.create(version="risk-v2", active=True, activated_at=timezone.now())

    assert PolicyActivation.objects.filter(active=True).count() == 1


def test_the_command_activates_as_a_named_staff_member(policy_dir, ops, capsys):
    call_command("policy_activate", "strict", "--by", "olga", "--reason", "rollout of the strict rules")

    assert "Policy strict is in force (was risk-v2)." in capsys.readouterr().out
    event = AuditEvent.objects.get(action="policy.activated")
    assert (event.actor_type, event.actor_id) == ("staff", str(ops.pk))
    assert event.data["reason"] == "rollout of the strict rules"
    with pytest.raises(CommandError, match="no active staff user 'mallory'"):
        call_command("policy_activate", "risk-v2", "--by", "mallory")

    call_command("policy_activate", "strict")
    assert "already in force; nothing changed" in capsys.readouterr().out


@pytest.mark.usefixtures("eager_tasks")
def test_switching_to_a_stricter_version_sends_the_same_order_to_review_and_the_decision_names_it(
    shop, policy_dir, ops, django_capture_on_commit_callbacks
):
    # given: under the shipped rules alice's first order (20 + 15 for the address) is allowed
    flow = shop.start_flow()
    before = risk_assess(flow=flow)
    assert (before.decision, before.score, before.policy_version) == (ALLOW, 35, "risk-v2")

    # when: strict (review from 30) is activated
    activate("strict", ops, django_capture_on_commit_callbacks)

    # then: the same order goes to a person, and every record of the decision names strict
    after = risk_assess(flow=flow)
    assert (after.decision, after.score, after.policy_version) == (REVIEW, 35, "strict")
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    assert OrderFlow.objects.get(pk=flow.pk).status == FlowStatus.ESCALATED
    assert Escalation.objects.get(flow=flow).reason == "risk_review"
    risk = AuditEvent.objects.get(action="risk.assessed", target_id=str(flow.pk))
    assert risk.policy_version == "strict" and risk.data["decision"] == "review"
    step = OrderFlow.objects.get(pk=flow.pk).steps.get(name="score_risk")
    assert step.result["policy_version"] == "strict" and step.result["decision"] == "review"


def test_ceilings_and_eligibility_follow_the_active_version_and_a_refusal_names_it(
    shop, policy_dir, ops, django_capture_on_commit_callbacks
):
    alice = shop.alice
    assert spend_cap_ceilings()["per_order"] == 50_000 and auto_checkout_ceiling() == 5_000

    activate("frugal", ops, django_capture_on_commit_callbacks)

    assert spend_cap_ceilings() == {"per_order": 2_000, "per_day": 100_000, "per_month": 300_000, "per_session": 50_000}
    assert auto_checkout_ceiling() == 0
    with pytest.raises(SpendCapExceeded) as refused:
        spend_reserve(user_id=alice.pk, amount=2_001, currency="USD", flow_reference="flow-strict")
    assert refused.value.policy_version == "frugal"
    denied = AuditEvent.objects.get(action="spend.reserve_denied", customer_id=alice.pk)
    assert denied.policy_version == "frugal"
    assert (denied.data["cap"], denied.data["limit"], denied.data["policy_version"]) == ("per_order", 2_000, "frugal")


def test_a_legacy_setting_still_overrides_its_key_and_the_decision_says_so(shop, policy_dir, settings):
    settings.ORDERING_RISK_STEP_UP_SCORE = 30

    assessment = risk_assess(flow=shop.start_flow())

    assert assessment.decision == "step_up" and assessment.policy_version == "risk-v2"
    assert assessment.as_dict()["policy_overrides"] == ["risk.step_up_score=30 (ORDERING_RISK_STEP_UP_SCORE)"]
    assert active_policy().risk.review_score == 80  # the rest is the policy's
