from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands.flush import Command as DjangoFlush
from django.db import DEFAULT_DB_ALIAS, connections

from audit import triggers


class Command(DjangoFlush):
    help = DjangoFlush.help + " Refused outside test settings: it would erase the append-only audit log."

    def handle(self, **options) -> None:
        # Django's test runner flushes every table between transactional tests; that is the one
        # place where emptying the audit log is expected, so only test settings allow it.
        if not getattr(settings, "AUDIT_ALLOW_FLUSH", False):
            raise CommandError(
                "flush would delete the append-only audit log. To start over locally, delete the "
                "database file (var/db.sqlite3) or drop the database and migrate again."
            )
        connection = connections[options.get("database") or DEFAULT_DB_ALIAS]
        triggers.uninstall(connection)
        try:
            super().handle(**options)
        finally:
            triggers.install(connection)
