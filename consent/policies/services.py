"""Policy writes: activate a version (audited), publish the active version to the processes' shared cache."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import ActorType
from audit.services import Origin, audit_record
from consent.models import PolicyActivation
from consent.policies.active import STAMP_KEY, policy_load
from consent.policies.schema import PolicyError

logger = logging.getLogger(__name__)


class PolicyActivationConflict(PolicyError):
    """Another activation committed while this one ran."""


def policy_active_version() -> str:
    """The version in force according to the database: the active activation's, else ORDERING_POLICY_VERSION."""
    version = PolicyActivation.objects.filter(active=True).values_list("version", flat=True).first()
    return version or settings.ORDERING_POLICY_VERSION


def policy_publish_active() -> str:
    """Tell every process which version is active (the shared cache's stamp); returns it. Idempotent."""
    version = policy_active_version()
    try:
        cache.set(STAMP_KEY, version, timeout=None)
    except Exception:  # the beat publishes again shortly
        logger.warning("could not publish the active policy version %s", version, exc_info=True)
    return version


def policy_activate(
    *,
    version: str,
    actor_type: ActorType | str,
    actor_id: int | None = None,
    via: str = "",
    reason: str = "",
    origin: Origin | None = None,
) -> PolicyActivation:
    """Make `version` the policy in force. The file is read and validated first (PolicyNotFound, PolicyInvalid:
    nothing changes); activating the version already active changes nothing and records nothing. The
    activation and its audit event (from -> to, who, why, the file's sha256) commit together; every process
    uses the new version within ORDERING_POLICY_REFRESH_SECONDS after the commit."""
    policy = policy_load(version)
    reason = reason.strip()[:200]
    try:
        with transaction.atomic():
            current = PolicyActivation.objects.select_for_update().filter(active=True).first()
            if current is not None and current.version == version:
                return current
            previous = current.version if current is not None else settings.ORDERING_POLICY_VERSION
            if current is not None:
                current.active = False
                current.save(update_fields=["active"])
            activation = PolicyActivation.objects.create(
                version=version,
                previous_version=previous,
                active=True,
                activated_at=timezone.now(),
                activated_by_id=actor_id if actor_type == ActorType.STAFF else None,
                activated_via=via[:64],
                reason=reason,
                sha256=policy.sha256,
            )
            audit_record(
                action="policy.activated",
                actor_type=actor_type,
                actor_id=actor_id if actor_id is not None else (via or None),
                target_type="policy",
                target_id=version,
                data={
                    "from": previous,
                    "to": version,
                    "from_default": current is None,
                    "reason": reason,
                    "sha256": policy.sha256,
                },
                origin=origin,
                policy_version=version,
            )
            transaction.on_commit(policy_publish_active)
    except IntegrityError:
        # Two activations at once: the partial unique index let one through.
        raise PolicyActivationConflict(
            f"Another policy activation happened at the same moment; {version} was not activated. "
            "Look at the history and try again."
        ) from None
    logger.info("policy activated", extra={"policy_version": version, "previous_version": previous})
    return activation
