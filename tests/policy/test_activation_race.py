"""Two operators activating at the same moment: never two active versions, never an unaudited activation."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connections

from audit.models import AuditEvent
from consent.models import PolicyActivation
from consent.policies.services import PolicyActivationConflict, policy_activate

pytestmark = pytest.mark.postgres


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("already_active", [None, "risk-v2"])
def test_concurrent_activations_leave_exactly_one_active_version(policy_dir, already_active):
    ops = get_user_model().objects.create_user("olga", password="irrelevant-pass-9", is_staff=True)
    if already_active:
        policy_activate(version=already_active, actor_type="staff", actor_id=ops.pk)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def activate(version: str) -> None:
        try:
            barrier.wait()
            policy_activate(version=version, actor_type="staff", actor_id=ops.pk)
            outcomes[version] = "activated"
        except PolicyActivationConflict:
            outcomes[version] = "conflict"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=activate, args=(version,)) for version in ("strict", "frugal")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    active = list(PolicyActivation.objects.filter(active=True).values_list("version", flat=True))
    assert len(active) == 1
    winners = [version for version, outcome in outcomes.items() if outcome == "activated"]
    assert active[-1] in winners and len(outcomes) == 2
    # every activation that took effect is audited, and nothing else is
    audited = list(AuditEvent.objects.filter(action="policy.activated").values_list("target_id", flat=True))
    assert sorted(audited) == sorted([*([already_active] if already_active else []), *winners])
    if len(winners) == 2:  # serialized after all: the later one replaced the earlier one
        assert PolicyActivation.objects.count() == 2 + bool(already_active)
