from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.services import AuditExportError, audit_head_export


class Command(BaseCommand):
    help = "Append the audit chain's head {sequence, hash, at} as one JSON line to the anchor file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--path", help="the anchor file (default: AUDIT_HEAD_EXPORT_PATH)")

    def handle(self, *args, path: str | None, **options) -> None:
        try:
            anchor = audit_head_export(path=path)
        except AuditExportError as error:
            raise CommandError(str(error)) from None
        if anchor is None:
            self.stdout.write("the audit log is empty: no head to export")
            return
        self.stdout.write(f"exported audit head: sequence {anchor.sequence} hash {anchor.hash}")
