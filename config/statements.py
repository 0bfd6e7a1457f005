"""Hand-written PostgreSQL statements beside the ORM, and which of the two runs.

A chat turn's hot reads and writes are single PostgreSQL statements where the ORM takes several round trips
(a data-modifying WITH, UPDATE … FROM … FOR UPDATE, json_agg/row_to_json). SQLite, which `make run` and the
evaluation use, has none of these, so every such statement has an ORM path that does the same thing, and
`postgresql_or_orm` picks one: the statement on PostgreSQL, the ORM anywhere else.

DATABASE_HAND_WRITTEN_SQL=0 takes the ORM path on PostgreSQL too: the tests run both paths on the same data
and compare them (tests/conversations/test_turn_statements.py), so the one a deployment does not use cannot
rot; it is also the switch an operator turns if a statement ever misbehaves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import connection

T = TypeVar("T")


def hand_written_sql() -> bool:
    """Whether this connection runs the hand-written PostgreSQL statements."""
    return connection.vendor == "postgresql" and settings.DATABASE_HAND_WRITTEN_SQL


def postgresql_or_orm(*, postgresql: Callable[[], T], orm: Callable[[], T]) -> T:
    """Run the hand-written PostgreSQL statement, or the ORM code that does the same thing."""
    return postgresql() if hand_written_sql() else orm()
