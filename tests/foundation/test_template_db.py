"""Test databases copied from one migrated template (tests/support/template_db.py)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.support import template_db


def test_the_key_changes_with_a_migration_or_a_setting_and_not_otherwise(tmp_path, monkeypatch):
    (tmp_path / "shop" / "migrations").mkdir(parents=True)
    (tmp_path / "config" / "settings").mkdir(parents=True)
    migration = tmp_path / "shop" / "migrations" / "0001_initial.py"
    migration.write_text("operations = []\n")
    (tmp_path / "config" / "settings" / "test.py").write_text("DEBUG = False\n")
    (tmp_path / "shop" / "views.py").write_text("x = 1\n")
    monkeypatch.setattr(template_db, "REPOSITORY", tmp_path)

    first = template_db.template_key()
    assert template_db.template_key() == first
    (tmp_path / "shop" / "views.py").write_text("x = 2\n")  # not schema: same template
    assert template_db.template_key() == first
    migration.write_text("operations = ['changed']\n")
    assert template_db.template_key() != first
    changed = template_db.template_key()
    (tmp_path / "config" / "settings" / "test.py").write_text("DEBUG = True\n")
    assert template_db.template_key() != changed


def test_a_template_name_fits_postgresqls_63_bytes():
    assert len(template_db.template_name("x" * 80, "0123456789ab")) <= 63
    assert template_db.template_name("ordering", "0123456789ab") == "tpl_ordering_0123456789ab"


@pytest.mark.postgres
@pytest.mark.django_db
def test_this_runs_database_came_from_the_current_template_with_every_migration_applied(request):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    executor = MigrationExecutor(connection)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []
    if request.config.getvalue("reuse_db"):
        # `--reuse-db` keeps the databases of an earlier run (migrated by pytest-django), so no template is named.
        assert "TEMPLATE" not in settings.DATABASES["default"].get("TEST", {})
        return
    template = settings.DATABASES["default"]["TEST"]["TEMPLATE"]
    # (NAME is the test database's own name by now: the template carries the name it was configured with.)
    assert template.startswith("tpl_") and template.endswith(f"_{template_db.template_key()}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template])
        assert cursor.fetchone() == (1,)
