"""`manage.py seed_demo`: the demo's people on our side, the support user and the customers alice and bob.

It lives in escalations, the top of the app tree (escalations → ordering → consent), because it composes
two apps: the staff account is escalations' (escalations/staff.py), the customers are consent's
(consent.demo). `make run` (scripts/run) calls it through run_prepare.
"""

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.plugins.otp_totp.models import TOTPDevice

from consent.demo import consent_demo_seed
from escalations.management.commands.create_staff_user import terminal_qr
from escalations.staff import staff_user_create

DEMO_STAFF_USERNAME = "support"
DEMO_STAFF_PASSWORD_ENV = "DEMO_STAFF_PASSWORD"  # noqa: S105 - a variable name
DEMO_STAFF_PASSWORD_DEFAULT = "support-demo-2026"  # noqa: S105 - demo only, DEBUG only


class Command(BaseCommand):
    help = (
        "Load our side's demo data (idempotent): a support user with a TOTP device, and the demo customers "
        "alice and bob. The sandbox shop seeds its own (seed_sandbox_merchant)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="seed even when DEBUG is off")

    def handle(self, *args, force: bool, **options) -> None:
        if not settings.DEBUG and not force:
            raise CommandError("Demo data has known passwords; refusing without DEBUG=1 or --force.")
        if not settings.SANDBOX_MERCHANT_ENABLED:
            raise CommandError(
                "The demo customers are customers of the sandbox merchant, which is off here "
                "(production turns it off unless DEMO_MODE=1)."
            )
        password = os.environ.get(DEMO_STAFF_PASSWORD_ENV, DEMO_STAFF_PASSWORD_DEFAULT)
        device = TOTPDevice.objects.filter(user__username=DEMO_STAFF_USERNAME).first()
        if device is None:
            _, device = staff_user_create(
                username=DEMO_STAFF_USERNAME,
                password=password,
                email="support@shop.example",
                superuser=True,
                replace_device=True,
                support=True,
            )
            self.stdout.write("Scan this with an authenticator app to sign in to /admin/ as the demo support user:")
            self.stdout.write(terminal_qr(device.config_url))
        self.stdout.write(f"Demo staff login: {DEMO_STAFF_USERNAME} / {password} (TOTP required)")
        self.stdout.write(f"  TOTP provisioning URI: {device.config_url}")
        for customer in consent_demo_seed():
            self.stdout.write(f"Demo customer login: {customer.username} / {customer.password} (at /accounts/login/)")
        # The shop's side (catalog, its customers cus_alice and cus_bob, their vault cards) is the sandbox's
        # own data: `manage.py seed_sandbox_merchant`, which scripts/run runs before starting the sandbox.
