"""Writing many rows at once: executemany on SQLite, COPY on PostgreSQL.

Used by the hotline import (hotline_store.py) and bulk demo data (bulk.py).
Core tables, not the ORM: the ORM's bulk path costs more per row than the
insert itself, and these rows need no ORM events. The work is split in two
so that the conversion, which is pure Python, can run in another process
(bulk demo data prepares rows in a pool while the main process writes):
:func:`values` turns dicts into the tuples the driver takes, converted as
the column types would convert them; :func:`write` sends them. Nothing here
commits.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    JSON,
    Dialect,
    Table,
    UniqueConstraint,
    text,
)
from sqlalchemy.schema import DropConstraint

from app import search
from app.extensions import Base
from app.models.types import UTCDateTime
from app.services import bulk_rebuild
from app.services.types import DbSession

Values = tuple[list[str], list[tuple[Any, ...]]]


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def values(dialect: Dialect, name: str, rows: list[dict[str, Any]]) -> Values:
    """The column names of ``rows`` (those of the first) and each row as a tuple.

    SQLite: each value through its column type's own bind processor, so that
    what is stored is exactly what insert() would store. PostgreSQL (COPY):
    aware times to naive UTC, JSON to text; psycopg adapts the rest.
    """
    if not rows:
        return [], []
    table = _table(name)
    columns = list(rows[0])
    if dialect.name == "postgresql":
        converters = [(i, converter) for i, column in enumerate(columns)
                      if (converter := _pg_converter(table.c[column].type)) is not None]
    else:
        converters = [(i, processor) for i, column in enumerate(columns)
                      if (processor := _sqlite_converter(table.c[column].type, dialect))
                      is not None]
    take = itemgetter(*columns)
    if len(columns) == 1:
        return columns, [(take(row),) for row in rows]
    if not converters:
        return columns, [take(row) for row in rows]
    out = []
    for row in rows:
        items = list(take(row))
        for i, convert in converters:
            items[i] = convert(items[i])
        out.append(tuple(items))
    return columns, out


def write(session: DbSession, name: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Rows from :func:`values`, in the session's transaction.

    psycopg's executemany sends each row as a statement of its own; COPY
    streams them, inside the same transaction, triggers (the search index)
    firing as for INSERT.
    """
    if not rows:
        return
    table = _table(name)
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        # Table and column names come from the models, never from input.
        connection.exec_driver_sql(
            f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608
            f"VALUES ({', '.join('?' * len(columns))})", rows)
        return
    driver = connection.connection.driver_connection
    if driver is None:  # pragma: no cover - a live connection always has one
        raise RuntimeError("no database connection")
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def insert_many(session: DbSession, name: str, rows: list[dict[str, Any]]) -> None:
    """Many rows (dicts with the same keys) at once."""
    if rows:
        write(session, name, *values(session.get_bind().dialect, name, rows))


@contextmanager
def loading(session: DbSession, tables: Sequence[str], *, fresh: bool) -> Iterator[None]:
    """Settings for a large load into ``tables``, restored afterwards.

    SQLite: a 256 MiB page cache (a million clues' indexes do not fit in the
    default 2 MiB, and each miss is a read) and synchronous=NORMAL (in WAL
    mode a crash may lose the last commits, never corrupt the file).
    PostgreSQL: no wait for the WAL flush at each commit (:func:`fast_commit`
    for other connections). A load is re-run after a crash either way.

    ``fresh`` (the tables are empty): their secondary indexes and the
    free-text index are dropped first and built once at the end, which on
    both databases takes a fraction of keeping them current row by row; they
    are rebuilt even when the load fails. On PostgreSQL the foreign keys go
    too, and everything comes back on several connections at once
    (``bulk_rebuild.rebuild``), the tables analysed.
    """
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    settings = (("cache_size", "-262144"), ("synchronous", "NORMAL")) if sqlite else (
        ("synchronous_commit", "off"),)
    before: dict[str, Any] = {}
    for name, value in settings:
        before[name] = connection.exec_driver_sql(
            f"PRAGMA {name}" if sqlite else f"SHOW {name}").scalar()
        connection.exec_driver_sql(f"PRAGMA {name}={value}" if sqlite
                                   else f"SET {name} = {value}")
    indexes = [(name, index) for name in tables for index in _table(name).indexes
               if not index.unique] if fresh else []
    # PostgreSQL checks a foreign key with a query per row (half the cost of
    # a row); added back, each is checked once for the whole table. A unique
    # constraint on random values (receipt hashes) costs a random index page
    # per row; built at the end it is a sort. SQLite cannot drop either.
    keys = [key for name in tables for key in _table(name).foreign_key_constraints
            ] if fresh and not sqlite else []
    uniques = [unique for name in tables for unique in _table(name).constraints
               if isinstance(unique, UniqueConstraint)] if fresh and not sqlite else []
    for constraint in [*keys, *uniques]:
        connection.execute(DropConstraint(constraint))
    for _name, index in indexes:
        index.drop(connection, checkfirst=True)
    if fresh and not sqlite:
        search.uninstall(connection)
    session.commit()
    try:
        yield
    finally:
        session.rollback()
        if sqlite:
            connection = session.connection()
            for _name, index in indexes:
                index.create(connection, checkfirst=True)
        elif fresh:
            bulk_rebuild.rebuild(session, indexes, keys, uniques, tables)
        connection = session.connection()
        for name, value in before.items():
            if sqlite:
                connection.exec_driver_sql(f"PRAGMA {name}={int(value)}")
            else:
                connection.execute(text("SELECT set_config(:name, :value, false)"),
                                   {"name": name, "value": str(value)})
        session.commit()


def fast_commit(session: DbSession) -> None:
    """PostgreSQL: this transaction's commit does not wait for the WAL flush
    (a load that a crash interrupts is run again)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL synchronous_commit = off")


def _sqlite_converter(column_type: Any, dialect: Dialect) -> Any:
    processor = column_type.dialect_impl(dialect).bind_processor(dialect)
    if isinstance(column_type, JSON) and processor is not None:
        return _same_json_once(processor)
    if not isinstance(column_type, UTCDateTime):
        return processor
    # The type's own two steps without its wrappers (a tenth of a bulk load's
    # time went into them): to naive UTC, then the dialect's text form, which
    # is isoformat's when they agree (checked here, on a time with and one
    # without microseconds; otherwise the dialect's own processor is used).
    text_form: Any = column_type.impl_instance.dialect_impl(dialect).bind_processor(dialect)
    samples = (datetime(2025, 5, 1, 1, 2, 3, 456789), datetime(1999, 12, 31, 23, 59, 59))
    iso = all(text_form(moment) == moment.isoformat(" ", "microseconds") for moment in samples)

    def convert(value: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store aware UTC datetimes only")
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        naive = value.replace(tzinfo=None)
        return naive.isoformat(" ", "microseconds") if iso else text_form(naive)

    return convert


def _same_json_once(processor: Any, keep: int = 50_000) -> Any:
    """A JSON converter that serialises each small flat dict once per call of
    values(): event data repeats ({}, or a status and a code) across a load."""
    done: dict[tuple[Any, ...], Any] = {}

    def convert(value: Any) -> Any:
        if not isinstance(value, dict):
            return processor(value)
        # The types are part of the key: 1 and True are equal, their JSON is not.
        key = (*value.items(), *map(type, value.values()))
        try:
            return done[key]
        except KeyError:
            text = done[key] = processor(value)
            if len(done) > keep:
                done.clear()
            return text
        except TypeError:  # a list or a dict inside: not hashable, not cached
            return processor(value)

    return convert


def _pg_converter(column_type: Any) -> Any:
    if isinstance(column_type, UTCDateTime):
        return _pg_time
    if isinstance(column_type, JSON):
        return _same_json_once(_pg_json)
    return None


def _pg_time(value: Any) -> Any:
    if value is None:
        return None
    if value.tzinfo is UTC:  # nearly always: skips astimezone's work
        return value.replace(tzinfo=None)
    if value.tzinfo is None:
        raise ValueError("naive datetime given; store aware UTC datetimes only")
    return value.astimezone(UTC).replace(tzinfo=None)


def _pg_json(value: Any) -> Any:
    return None if value is None else json.dumps(value, ensure_ascii=False)
