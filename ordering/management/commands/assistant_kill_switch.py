"""`manage.py assistant_kill_switch on --reason "…"` / `off`: stop (or let again) the assistant take new orders.

The same audited action as the admin's button (ordering.rollout.services.kill_switch_set): new previews
and confirmations are refused in every process within ORDERING_ROLLOUT_CACHE_SECONDS; flows already
confirmed or placing finish. The audit event names the operator (--by, else the login running it).
"""

from __future__ import annotations

import getpass

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.models import ActorType
from ordering.rollout.services import RolloutChangeRefused, kill_switch_set


class Command(BaseCommand):
    help = "Stop (on) or let again (off) the assistant take new orders; audited."

    def add_arguments(self, parser) -> None:
        parser.add_argument("state", choices=["on", "off"])
        parser.add_argument("--reason", default="", help="Why (required to turn it on); kept in the audit log.")
        parser.add_argument("--by", default="", help="Who is doing this (default: the login running the command).")

    def handle(self, *args, state: str, reason: str, by: str, **options) -> None:
        operator = by.strip() or _login()
        try:
            row = kill_switch_set(
                on=state == "on", reason=reason, actor_type=ActorType.SYSTEM, actor_id=None, actor_name=operator
            )
        except RolloutChangeRefused as refusal:
            raise CommandError(refusal.message) from None
        if row.kill_switch:
            self.stdout.write(
                f"Kill switch ON ({row.kill_switch_reason}): the assistant takes no new orders within "
                f"{settings.ORDERING_ROLLOUT_CACHE_SECONDS} s; orders already placing finish."
            )
        else:
            self.stdout.write("Kill switch off: the assistant takes orders again.")


def _login() -> str:
    try:
        return f"command:{getpass.getuser()}"
    except Exception:
        return "command"
