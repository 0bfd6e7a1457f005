from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.selectors import AnchorFileError, audit_anchors_read, audit_anchors_verify, audit_chain_verify
from audit.services import GENESIS_HASH, audit_seal


class Command(BaseCommand):
    help = (
        "Seal what is committed, then recompute the audit log's hash chain (and, with --anchors, compare it "
        "with the exported heads). Exit 0 with the count when intact; else name the first bad row or anchor."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--after-sequence", type=int, default=0, help="chain positions up to this one were archived (default 0)"
        )
        parser.add_argument(
            "--after-hash", default=GENESIS_HASH, help="the archived hash of that position (default genesis)"
        )
        parser.add_argument(
            "--no-seal",
            action="store_true",
            help="verify without sealing first (for a role that may only read); unsealed events are counted as pending",
        )
        parser.add_argument(
            "--anchors",
            metavar="FILE",
            help="the append-only file of exported chain heads (AUDIT_HEAD_EXPORT_PATH) to check the chain against",
        )

    def handle(
        self, *args, after_sequence: int, after_hash: str, anchors: str | None, no_seal: bool, **options
    ) -> None:
        if not no_seal:
            audit_seal()
        report = audit_chain_verify(after_sequence=after_sequence, after_hash=after_hash)
        if not report.intact:
            where = f"at position {report.first_bad_sequence}" if report.first_bad_sequence else "after its head"
            raise CommandError(
                f"audit chain BROKEN {where}: {report.reason} ({report.count} events before it verified)"
            )
        pending = f"; {report.pending} newer events not sealed yet" if report.pending else ""
        if anchors is None:
            self.stdout.write(f"audit chain intact: {report.count} events verified{pending}")
            return
        try:
            anchor_report = audit_anchors_verify(
                anchors=audit_anchors_read(path=anchors), after_sequence=after_sequence
            )
        except AnchorFileError as error:
            raise CommandError(str(error)) from None
        if not anchor_report.intact:
            anchor = anchor_report.broken_anchor
            raise CommandError(
                f"audit chain does NOT match anchor at {anchors} line {anchor_report.broken_line} "
                f"(sequence {anchor.sequence}, exported {anchor.at}): {anchor_report.reason} "
                f"({anchor_report.checked} anchors before it matched)"
            )
        skipped = f", {anchor_report.skipped} in the archive skipped" if anchor_report.skipped else ""
        self.stdout.write(
            f"audit chain intact: {report.count} events verified; {anchor_report.checked} anchors match{skipped}"
            f"{pending}"
        )
