from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.selectors import audit_chain_verify
from audit.services import GENESIS_HASH


class Command(BaseCommand):
    help = "Recompute the audit log's hash chain. Exit 0 with the count when intact; else name the first bad row."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--after-sequence", type=int, default=0, help="rows up to this sequence were archived (default 0)"
        )
        parser.add_argument(
            "--after-hash", default=GENESIS_HASH, help="the archived hash of row --after-sequence (default genesis)"
        )

    def handle(self, *args, after_sequence: int, after_hash: str, **options) -> None:
        report = audit_chain_verify(after_sequence=after_sequence, after_hash=after_hash)
        if not report.intact:
            raise CommandError(
                f"audit chain BROKEN at sequence {report.first_bad_sequence}: {report.reason} "
                f"({report.count} events before it verified)"
            )
        self.stdout.write(f"audit chain intact: {report.count} events verified")
