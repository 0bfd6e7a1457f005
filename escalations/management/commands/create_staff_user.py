import getpass
import io
import os

import qrcode
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from escalations.staff import StaffUserExists, staff_user_create

PASSWORD_ENV = "STAFF_PASSWORD"  # noqa: S105 - the name of a variable


class Command(BaseCommand):
    help = (
        "Create a staff user with a TOTP device and print its provisioning URI and a QR code for an "
        f"authenticator app. The password comes from ${PASSWORD_ENV} or a prompt."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument("--superuser", action="store_true", help="also grant every permission")
        parser.add_argument("--support", action="store_true", help="join the support group: work the escalation queue")
        parser.add_argument(
            "--replace-device",
            action="store_true",
            help="the user exists: reset the password and replace their TOTP device",
        )
        parser.add_argument("--no-qr", action="store_true", help="print only the provisioning URI")

    def handle(
        self, *args, username: str, email: str, superuser: bool, support: bool, replace_device: bool, no_qr: bool, **kw
    ):
        password = os.environ.get(PASSWORD_ENV) or self._prompt_password()
        try:
            user, device = staff_user_create(
                username=username,
                password=password,
                email=email,
                superuser=superuser,
                replace_device=replace_device,
                support=support,
            )
        except StaffUserExists:
            raise CommandError(f"User {username!r} exists. Use --replace-device to re-enrol them.") from None
        except ValidationError as error:
            raise CommandError("Password refused: " + " ".join(error.messages)) from None
        self.stdout.write(self.style.SUCCESS(f"Staff user {user.username!r} is ready."))
        self.stdout.write("Add this to an authenticator app, then sign in at /admin/ with its 6-digit code:")
        self.stdout.write(device.config_url)
        if not no_qr:
            self.stdout.write(terminal_qr(device.config_url))

    def _prompt_password(self) -> str:
        if not os.isatty(0):
            raise CommandError(f"No terminal to ask for a password: set ${PASSWORD_ENV}.")
        first = getpass.getpass("Password: ")
        if not first or first != getpass.getpass("Password (again): "):
            raise CommandError("Passwords were empty or did not match.")
        return first


def terminal_qr(data: str) -> str:
    code = qrcode.QRCode(border=1)
    code.add_data(data)
    out = io.StringIO()
    code.print_ascii(out=out, invert=True)
    return out.getvalue()
