"""`manage.py run_prepare DIR`: what `make run` (scripts/run) does before it starts its servers, in one process.

It migrates, seeds the sandbox shop when it is on (seed_sandbox_merchant) and our side's demo people (seed_demo),
exactly as those commands do when run one by one; each of them would start Django again (most of a second of CPU
apiece, before any of their work). It lives in escalations beside seed_demo, the top of the app tree.

What the banner shows goes to files in DIR: `sandbox_enabled` (1 or 0), `sandbox_seeded` (seed_sandbox_merchant's
line, empty when the shop is off) and `demo_logins` (seed_demo's lines). Migrate's progress goes to stdout.
"""

import io
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    # migrate runs the system checks (with its database checks), as `manage.py migrate` does
    requires_system_checks = []
    help = "Migrate and seed the demo for `make run` in one process; writes what its banner shows to DIR."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", help="where to write sandbox_enabled, sandbox_seeded and demo_logins")

    def handle(self, *args, directory: str, **options) -> None:
        notes = Path(directory)
        notes.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, skip_checks=False, stdout=self.stdout, stderr=self.stderr)
        enabled = bool(settings.SANDBOX_MERCHANT_ENABLED)
        seeded = io.StringIO()
        if enabled:
            call_command("seed_sandbox_merchant", stdout=seeded)
        logins = io.StringIO()
        call_command("seed_demo", stdout=logins)
        (notes / "sandbox_enabled").write_text(f"{int(enabled)}\n")
        (notes / "sandbox_seeded").write_text(seeded.getvalue())
        (notes / "demo_logins").write_text(logins.getvalue())
