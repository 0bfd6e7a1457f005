"""The sandbox's hot reads, built by the ORM once per process and then only run.

Building a query costs the ORM 0.3 to 0.5 ms of Python on a 2-core machine (the fault rules' read: 0.5 ms built
each time, 0.17 ms run from its SQL), more than PostgreSQL spends answering it; the sandbox answers every request
with a few reads of a fixed shape (the fault rules, a session or product by id, its lines). Each of those is built
here the first time it is asked for, with placeholders for the values that change (`text("id")`, `moment("now")`),
and kept as its SQL, parameters and column converters; every later call binds its values, runs the same SQL and
makes the model instances as the ORM's own iterator does (`Model.from_db`, the columns converted; `FOR UPDATE`
included, so locks are taken as before). A query that joins (`select_related`) fills its related instances the same
way, through the ORM's own related populators (the complete's locking reads: the lines with their variants and
products, the token with its card).

For lookups whose value reaches the database as it is (`exact`, `in`, comparisons of datetimes) or escaped for LIKE
(`iexact` on SQLite, `icontains`, `startswith`, …: the placeholder is found escaped inside the parameter, and a value
is escaped the same way when bound). A value changed any other way would not be found, and `statement` says so at
once (ValueError) instead of running a different query.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from django.db.transaction import TransactionManagementError

M = TypeVar("M", bound=Model)

# The underscore is what LIKE escaping changes: a placeholder found escaped was escaped by the lookup, and its value
# is escaped the same way when bound.
_TEXT = "\x00sandbox_slot:"
# A moment no real row holds, one microsecond apart per placeholder (at most 999,999 per statement).
_MOMENT_BASE = datetime(1901, 2, 3, 4, 5, 6, tzinfo=UTC)


def text(name: str) -> str:
    """A placeholder for a text value: `exact`, `in`, and the LIKE lookups (`iexact`, `icontains`, …)."""
    return f"{_TEXT}{name}\x00"


_moments: dict[str, datetime] = {}


def moment(name: str) -> datetime:
    """A placeholder for a datetime compared with a column."""
    return _moments.setdefault(name, _MOMENT_BASE.replace(microsecond=len(_moments) + 1))


@dataclass(frozen=True)
class Compiled:
    sql: str
    params: tuple[Any, ...]
    texts: tuple[tuple[int, str], ...]  # parameter index, placeholder name: the value as it is
    patterns: tuple[tuple[int, str, str], ...]  # index, name, the parameter with the escaped placeholder in it
    moments: tuple[tuple[int, str], ...]
    # The columns' converters (JSON, …) by position, as the ORM applies them; and, for a query of one model's own
    # columns in their order, their attnames (None otherwise: such rows are read through raw()).
    converters: tuple[tuple[int, tuple[Callable, ...], Any], ...] = ()
    attnames: tuple[str, ...] | None = None
    # For a select_related query: the main model's column span and attnames, and the ORM's populators of its related
    # instances (stateless: they read each row by position), as `ModelIterable` builds them per query.
    joined: tuple[int, int, tuple[str, ...], tuple[Any, ...]] | None = None
    # A locking read (`select_for_update`): refused outside a transaction, as the ORM refuses it, since its lock
    # would end with the statement.
    locks: bool = False

    def convert(self, row: tuple) -> tuple | list:
        if not self.converters:
            return row
        values = list(row)
        for index, converters, expression in self.converters:
            value = values[index]
            for converter in converters:
                value = converter(value, expression, connection)
            values[index] = value
        return values

    def bind(self, values: dict[str, Any]) -> list[Any]:
        params = list(self.params)
        for index, name in self.texts:
            params[index] = str(values[name])
        for index, name, param in self.patterns:
            escaped = connection.ops.prep_for_like_query(text(name))
            params[index] = param.replace(escaped, connection.ops.prep_for_like_query(values[name]))
        for index, name in self.moments:
            params[index] = connection.ops.adapt_datetimefield_value(values[name])
        return params


_compiled: dict[tuple[str, Hashable], Compiled] = {}
# Shapes with a list in them (`id__in` of n ids) are one statement per length: past this many statements a new shape
# is built each time, as the ORM would, and not kept.
MAX_STATEMENTS = 200


def statement(key: Hashable, build: Callable[[], QuerySet], names: Iterable[str]) -> Compiled:
    """The statement of `build()` (the same for every call with this `key`), its placeholders located."""
    cache_key = (connection.vendor, key)
    found = _compiled.get(cache_key)
    if found is not None:
        return found
    queryset = build()
    compiler = queryset.query.get_compiler(using=queryset.db)
    sql, params = compiler.as_sql()
    columns = [column for column, _, _ in compiler.select]
    converters = tuple(
        (index, tuple(found), expression) for index, (found, expression) in compiler.get_converters(columns).items()
    )
    attnames = tuple(getattr(getattr(column, "target", None), "attname", "") for column in columns)
    own_columns = tuple(field.attname for field in queryset.model._meta.concrete_fields)
    klass_info = compiler.klass_info
    plain = klass_info is not None and not klass_info.get("related_klass_infos")
    joined = None
    if klass_info is not None and not plain and not compiler.annotation_col_map:
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        init_list = tuple(item[0].target.attname for item in compiler.select[start:end])
        populators = tuple(get_related_populators(klass_info, compiler.select, queryset.db))
        joined = (start, end, init_list, populators)
    adapted = {connection.ops.adapt_datetimefield_value(value): name for name, value in _moments.items()}
    texts = []
    patterns = []
    moments = []
    for index, param in enumerate(params):
        if isinstance(param, str) and param.startswith(_TEXT) and param.endswith("\x00"):
            texts.append((index, param[len(_TEXT) : -1]))
        elif isinstance(param, str) and connection.ops.prep_for_like_query(_TEXT) in param:
            _, _, rest = param.partition(connection.ops.prep_for_like_query(_TEXT))
            name = rest.partition("\x00")[0].replace("\\_", "_")
            patterns.append((index, name, param))
        elif isinstance(param, datetime | str) and param in adapted:
            moments.append((index, adapted[param]))
        elif isinstance(param, str) and _TEXT in param:
            raise ValueError(f"{key!r}: a placeholder changed in a way this module does not know: {param!r}")
    # A placeholder may be used more than once (one word matched against three columns).
    placed = {name for _, name in texts} | {name for _, name, _ in patterns} | {name for _, name in moments}
    if placed != set(names):
        raise ValueError(f"{key!r}: placeholders {sorted(placed)} in the statement, {sorted(names)} expected")
    found = Compiled(
        sql=sql,
        params=tuple(params),
        texts=tuple(texts),
        patterns=tuple(patterns),
        moments=tuple(moments),
        converters=converters,
        attnames=attnames if plain and attnames == own_columns else None,
        joined=joined,
        locks=bool(queryset.query.select_for_update) and connection.features.has_select_for_update,
    )
    if len(_compiled) < MAX_STATEMENTS:
        _compiled[cache_key] = found
    return found


def rows(model: type[M], key: Hashable, build: Callable[[], QuerySet[M]], **values: Any) -> list[M]:
    """The rows `build()` would read, as model instances, with `values` in its placeholders."""
    compiled = statement(key, build, values)
    if compiled.locks and connection.get_autocommit() and connection.features.supports_transactions:
        raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
    if compiled.joined is not None:
        start, end, init_list, populators = compiled.joined
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, compiled.bind(values))
            fetched = cursor.fetchall()
        found = []
        for row in fetched:
            converted = compiled.convert(row)
            instance = model.from_db(connection.alias, init_list, converted[start:end])
            for populator in populators:
                populator.populate(converted, instance)
            found.append(instance)
        return found
    if compiled.attnames is None:
        return list(model._default_manager.raw(compiled.sql, compiled.bind(values)))
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, compiled.bind(values))
        fetched = cursor.fetchall()
    # As the ORM's own iterator makes them: Model.from_db with the columns converted.
    return [model.from_db(connection.alias, compiled.attnames, compiled.convert(row)) for row in fetched]


def tuples(key: Hashable, build: Callable[[], QuerySet], **values: Any) -> list[tuple]:
    """The rows of a `values_list()` query `build()`, as tuples (converted as the ORM would)."""
    compiled = statement(key, build, values)
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, compiled.bind(values))
        return [tuple(compiled.convert(row)) for row in cursor.fetchall()]


# -- writes ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Write:
    sql: str
    fields: tuple[Any, ...]
    returns_pk: bool


_writes: dict[tuple[str, Hashable], _Write] = {}


def _insert_statement(model: type[Model], names: tuple[str, ...]) -> _Write:
    cache_key = (connection.vendor, ("insert", model._meta.label, names))
    found = _writes.get(cache_key)
    if found is None:
        quote = connection.ops.quote_name
        fields = tuple(model._meta.get_field(name) for name in names)
        returns_pk = connection.features.can_return_columns_from_insert
        # Names from the model, quoted; every value a parameter.
        columns = ", ".join(quote(field.column) for field in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608
        if returns_pk:
            returning, _ = connection.ops.return_insert_columns([model._meta.pk])
            sql += f" {returning}"
        found = _writes[cache_key] = _Write(sql=sql, fields=fields, returns_pk=returns_pk)
    return found


def insert(model: type[Model], **values: Any) -> Any:
    """INSERT one row of exactly these columns (no defaults are filled in: give every column without a database
    default) and return its primary key: what `Model(**values).save(force_insert=True)` writes, without building
    the statement each time."""
    write = _insert_statement(model, tuple(values))
    params = [field.get_db_prep_save(values[field.name], connection) for field in write.fields]
    with connection.cursor() as cursor:
        cursor.execute(write.sql, params)
        if write.returns_pk:
            return cursor.fetchone()[0]
        return connection.ops.last_insert_id(cursor, model._meta.db_table, model._meta.pk.column)


def _update_statement(model: type[Model], names: tuple[str, ...]) -> _Write:
    cache_key = (connection.vendor, ("update", model._meta.label, names))
    write = _writes.get(cache_key)
    if write is None:
        quote = connection.ops.quote_name
        fields = tuple(model._meta.get_field(name) for name in names)
        assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
        table, key_column = quote(model._meta.db_table), quote(model._meta.pk.column)
        sql = f"UPDATE {table} SET {assignments} WHERE {key_column} = %s"  # noqa: S608
        write = _writes[cache_key] = _Write(sql=sql, fields=fields, returns_pk=False)
    return write


def _update_params(model: type[Model], write: _Write, pk: Any, values: dict[str, Any]) -> list[Any]:
    params = [field.get_db_prep_save(values[field.name], connection) for field in write.fields]
    params.append(model._meta.pk.get_db_prep_value(pk, connection))
    return params


def update(model: type[Model], pk: Any, **values: Any) -> int:
    """UPDATE these columns of the row `pk`; the number of rows changed (0 or 1)."""
    write = _update_statement(model, tuple(values))
    with connection.cursor() as cursor:
        cursor.execute(write.sql, _update_params(model, write, pk, values))
        return cursor.rowcount


def update_and_insert(
    model: type[Model], pk: Any, changes: dict[str, Any], *, insert: type[Model], values: dict[str, Any]
) -> Any:
    """`update(model, pk, **changes)` and `insert(insert, **values)` in one statement (PostgreSQL: a data-modifying
    WITH, so on its own it is one commit, not two); the inserted row's primary key."""
    changing = _update_statement(model, tuple(changes))
    inserting = _insert_statement(insert, tuple(values))
    if not inserting.returns_pk:
        raise ValueError("update_and_insert needs INSERT … RETURNING (PostgreSQL)")
    params = _update_params(model, changing, pk, changes)
    params += [field.get_db_prep_save(values[field.name], connection) for field in inserting.fields]
    with connection.cursor() as cursor:
        cursor.execute(f"WITH changed AS ({changing.sql}) {inserting.sql}", params)
        return cursor.fetchone()[0]


def create(model: type[M], **values: Any) -> M:
    """`model.objects.create(**values)` without building its INSERT each time: the instance made as the ORM makes it
    (defaults filled in, `auto_now_add` set), every concrete column inserted, the instance marked saved. For the
    sandbox's models, which have no save() override and no signal receivers."""
    instance = model(**values)
    columns = {}
    for field in model._meta.concrete_fields:
        if field.primary_key and getattr(instance, field.attname) is None:
            continue  # an automatic key: the database gives it
        columns[field.name] = field.pre_save(instance, True)
    key = insert(model, **columns)
    if model._meta.pk.attname not in columns:
        setattr(instance, model._meta.pk.attname, key)
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


def save(instance: Model) -> None:
    """`instance.save()` for a row read from the database and still there (a locked one): the UPDATE of every
    concrete column, `auto_now` set, as the ORM writes it, without building it each time. A row that has gone is
    saved the ORM's way (which inserts it again)."""
    model = type(instance)
    values = {
        field.name: field.pre_save(instance, False) for field in model._meta.concrete_fields if not field.primary_key
    }
    if not update(model, instance.pk, **values):
        instance.save()
