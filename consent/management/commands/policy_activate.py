import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.models import ActorType
from consent.models import PolicyActivation
from consent.policies.active import policy_load
from consent.policies.schema import PolicyError, policy_summary
from consent.policies.services import policy_activate


class Command(BaseCommand):
    help = (
        "Make a policy version (policies/<version>.toml) the one in force, audited (who, when, from -> to). "
        "Every process uses it within ORDERING_POLICY_REFRESH_SECONDS. Roll back by activating the previous version."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("version")
        parser.add_argument("--reason", default="", help="why, for the audit log (e.g. a ticket)")
        parser.add_argument("--by", default="", help="the staff username doing it (recorded as the actor)")

    def handle(self, *args, version: str, reason: str, by: str, **options) -> None:
        actor_type, actor_id = ActorType.SYSTEM, None
        via = f"manage.py policy_activate ({os.environ.get('USER') or 'unknown user'})"[:64]
        if by:
            user = get_user_model().objects.filter(username=by, is_staff=True, is_active=True).first()
            if user is None:
                raise CommandError(f"There is no active staff user {by!r}.")
            actor_type, actor_id = ActorType.STAFF, user.pk
        before = PolicyActivation.objects.filter(active=True).values_list("pk", flat=True).first()
        try:
            activation = policy_activate(
                version=version, actor_type=actor_type, actor_id=actor_id, via=via, reason=reason
            )
        except PolicyError as error:
            raise CommandError(error.message) from None
        if activation.pk == before:
            self.stdout.write(f"Policy {version} is already in force; nothing changed.")
            return
        self.stdout.write(f"Policy {activation.version} is in force (was {activation.previous_version}).")
        for line in policy_summary(policy_load(version)):
            self.stdout.write(f"  {line}")
