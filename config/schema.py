"""What a migrated database's schema depends on, as one key: lets a throw-away database be copied from one
migrated earlier instead of running every migration again (`make eval`'s SQLite file, the test suite's
PostgreSQL template in tests/support/template_db.py).

The key hashes every app's migration files, the settings modules (a migration may read a setting, e.g. the
support group's name) and Django's version; a change to any of them gives a new key.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import django

REPOSITORY = Path(__file__).resolve().parents[1]
MIGRATIONS_GLOB = "*/migrations/*.py"
SETTINGS_GLOB = "config/settings/*.py"


def schema_key(root: Path | None = None) -> str:
    """12 hex digits that change with the migrations, the settings modules or Django's version."""
    root = root or REPOSITORY
    digest = hashlib.sha256(django.get_version().encode())
    for path in sorted([*root.glob(MIGRATIONS_GLOB), *root.glob(SETTINGS_GLOB)]):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
