from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections

from audit.roles import RoleGrantError, app_role_grant, app_role_grant_plan


class Command(BaseCommand):
    help = (
        "Run as the schema owner after every migrate: give ROLE (the role the web and worker processes use) "
        "DML on the app's tables, only SELECT and INSERT on the audit log, and no ownership anywhere."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role", help="the app's database role (it must already exist and must not own anything)")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="the database alias (default: default)")
        parser.add_argument("--print-sql", action="store_true", help="print the statements instead of running them")

    def handle(self, *args, role: str, database: str, print_sql: bool, **options) -> None:
        connection = connections[database]
        try:
            if print_sql:
                plan = app_role_grant_plan(role=role, connection=connection)
                self.stdout.write(";\n".join(plan.statements) + ";")
                return
            plan = app_role_grant(role=role, connection=connection)
        except RoleGrantError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"granted {role}: read/write on {len(plan.read_write_tables)} tables, "
            f"SELECT+INSERT only on {', '.join(plan.append_only_tables)}, {len(plan.sequences)} sequences"
        )
