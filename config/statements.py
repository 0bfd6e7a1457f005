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
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections
from django.db.models import Model
from django.db.models.signals import post_save, pre_save

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


def fields_update(instance: Model, names: Sequence[str]) -> None:
    """`instance.save(update_fields=names)` without building its UPDATE each time: the same SET list (each field's
    `pre_save`, so `auto_now` is set) and the same refusal when no row was updated (DatabaseError), from SQL built
    once per model, fields and database vendor. Only for a model whose save() is the ORM's own and that no
    pre_save/post_save receiver listens to (the ORM's save() runs otherwise, as it does where the hand-written
    statements are switched off): the ORM spent about 1 ms of Python building each such UPDATE, several times
    what running it costs."""
    if not names:
        return  # as save(update_fields=[]): nothing to write
    if not fields_update_hand_written(instance):
        instance.save(update_fields=list(names))
        return
    sql, params = fields_update_statement(instance, names)
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql, params)
        updated = cursor.rowcount
    fields_update_check(updated)


def fields_update_hand_written(instance: Model) -> bool:
    """Whether `fields_update` writes `instance` with its own statement (else it calls the ORM's save())."""
    model = type(instance)
    return hand_written_sql() and model.save is Model.save and not _save_listened(model)


def fields_update_statement(instance: Model, names: Sequence[str]) -> tuple[str, list[Any]]:
    """The UPDATE that `fields_update` runs and its parameters, for a caller that runs it as part of a statement of
    its own (a data-modifying WITH); the caller checks that it updated the row (`fields_update_check`)."""
    model = type(instance)
    db = connections[DEFAULT_DB_ALIAS]  # not the proxy: a thread-local lookup per attribute read
    key = (model, tuple(names), db.vendor)
    built = _UPDATES.get(key)
    if built is None:
        options = model._meta
        fields = [options.get_field(name) for name in dict.fromkeys(names)]
        quote = db.ops.quote_name
        assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)  # type: ignore[union-attr]
        # Only our own table and column names are interpolated; values are parameters.
        sql = f"UPDATE {quote(options.db_table)} SET {assignments} WHERE {quote(options.pk.column)} = %s"  # noqa: S608
        built = _UPDATES[key] = (sql, fields)
    sql, fields = built
    params = [field.get_db_prep_save(field.pre_save(instance, False), db) for field in fields]  # type: ignore[union-attr]
    params.append(model._meta.pk.get_db_prep_value(instance.pk, db))
    return sql, params


def fields_update_check(updated: int) -> None:
    """save(update_fields=…)'s refusal of a row that is gone."""
    if not updated:
        raise DatabaseError("Save with update_fields did not affect any rows.")


_UPDATES: dict[tuple[type[Model], tuple[str, ...], str], tuple[str, list[Any]]] = {}


def _save_listened(model: type[Model]) -> bool:
    return pre_save.has_listeners(model) or post_save.has_listeners(model)
