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

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model

T = TypeVar("T")
M = TypeVar("M", bound=Model)


def hand_written_sql() -> bool:
    """Whether this connection runs the hand-written PostgreSQL statements."""
    return connection.vendor == "postgresql" and settings.DATABASE_HAND_WRITTEN_SQL


def postgresql_or_orm(*, postgresql: Callable[[], T], orm: Callable[[], T]) -> T:
    """Run the hand-written PostgreSQL statement, or the ORM code that does the same thing."""
    return postgresql() if hand_written_sql() else orm()


Converters = list[list[Callable[..., Any]]]


def _loading(model: type[Model]) -> tuple[list[str], list[str], Converters]:
    """`model`'s concrete columns (quoted), their attnames, and each one's converters as the ORM applies them
    when it loads a row (JSON text parsed, …); once per model and database vendor."""
    key = (model, connection.vendor)
    cached = _LOADING.get(key)
    if cached is None:
        fields = model._meta.concrete_fields
        cached = (
            [connection.ops.quote_name(field.column) for field in fields],
            [field.attname for field in fields],
            [list(field.get_db_converters(connection)) for field in fields],
        )
        _LOADING[key] = cached
    return cached


_LOADING: dict[tuple[type[Model], str], tuple[list[str], list[str], Converters]] = {}


def select_list(model: type[Model], alias: str) -> str:
    """The SELECT list of `model`'s concrete columns, in order, qualified by `alias` (for `row_model`)."""
    return ", ".join(f"{alias}.{column}" for column in _loading(model)[0])


def row_model(model: type[M], row: Sequence[Any]) -> M:
    """An instance of `model` from a row of its concrete columns in order (`select_list`), as the ORM loads it."""
    _columns, attnames, converters = _loading(model)
    db = connections[DEFAULT_DB_ALIAS]  # not the proxy: a thread-local lookup per attribute read
    values = list(row)
    for index, field_converters in enumerate(converters):
        for converter in field_converters:
            values[index] = converter(values[index], None, db)
    return model.from_db(DEFAULT_DB_ALIAS, attnames, values)


def models_select(model: type[M], *, where: str, params: Sequence[Any], tail: str = "") -> list[M]:
    """Instances of `model` as the ORM would load them, read with one hand-written statement:
    `SELECT <its columns> FROM <its table> t WHERE <where> <tail>` (`tail`: ORDER BY, LIMIT, FOR UPDATE).
    No query compilation: for a chat turn's hot reads, where compiling the ORM's query costs several times
    running it. Only our own table and column names and the caller's constant SQL are interpolated."""
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"SELECT {select_list(model, 't')} FROM {table} t WHERE {where} {tail}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [row_model(model, row) for row in rows]
