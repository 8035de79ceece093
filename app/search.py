"""Free-text search over clues, with an index on each database.

SQLite: an FTS5 table with the trigram tokenizer (substring search that works
for Chinese, which has no spaces), kept current by triggers. PostgreSQL: a
pg_trgm GIN index that serves ``LIKE '%…%'``. Both find any substring of at
least three characters through the index; shorter terms fall back to a scan.
The same DDL is run by the migration and by the tests.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, column, func, or_, select, table, text
from sqlalchemy.engine import Connection

from app.models import Clue
from app.services.types import DbSession

SEARCH_OBJECTS = {"clues_fts", "clues_fts_data", "clues_fts_idx", "clues_fts_docsize",
                  "clues_fts_config", "ix_clues_description_trgm", "ix_clues_agency_trgm"}

SQLITE_DDL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS clues_fts USING fts5("
    "description, agency, content='clues', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS clues_fts_ai AFTER INSERT ON clues BEGIN "
    "INSERT INTO clues_fts(rowid, description, agency) "
    "VALUES (new.id, new.description, new.agency); END",
    "CREATE TRIGGER IF NOT EXISTS clues_fts_ad AFTER DELETE ON clues BEGIN "
    "INSERT INTO clues_fts(clues_fts, rowid, description, agency) "
    "VALUES ('delete', old.id, old.description, old.agency); END",
    "CREATE TRIGGER IF NOT EXISTS clues_fts_au AFTER UPDATE OF description, agency ON clues "
    "BEGIN INSERT INTO clues_fts(clues_fts, rowid, description, agency) "
    "VALUES ('delete', old.id, old.description, old.agency); "
    "INSERT INTO clues_fts(rowid, description, agency) "
    "VALUES (new.id, new.description, new.agency); END",
    "INSERT INTO clues_fts(clues_fts) VALUES ('rebuild')",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS clues_fts_ai", "DROP TRIGGER IF EXISTS clues_fts_ad",
               "DROP TRIGGER IF EXISTS clues_fts_au", "DROP TABLE IF EXISTS clues_fts"]
POSTGRES_DDL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_clues_description_trgm ON clues "
    "USING gin (description gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_clues_agency_trgm ON clues USING gin (agency gin_trgm_ops)",
]
POSTGRES_DROP = ["DROP INDEX IF EXISTS ix_clues_description_trgm",
                 "DROP INDEX IF EXISTS ix_clues_agency_trgm"]


def install(connection: Connection) -> None:
    statements = SQLITE_DDL if connection.dialect.name == "sqlite" else POSTGRES_DDL
    for statement in statements:
        connection.execute(text(statement))


def uninstall(connection: Connection) -> None:
    statements = SQLITE_DROP if connection.dialect.name == "sqlite" else POSTGRES_DROP
    for statement in statements:
        connection.execute(text(statement))


def bulk_rows_added(connection: Connection, first_id: int) -> None:
    """SQLite: index the clues from ``first_id`` on, written with the insert trigger
    paused (:func:`pause_trigger`), and restore the trigger.

    Why: the trigger indexes row by row, which costs seven times the insert
    itself; one INSERT … SELECT per batch of thousands does the same work at a
    fraction. Both calls belong in the writer's transaction, which on SQLite
    holds the only write lock: no other writer can add a clue in between.
    """
    if connection.dialect.name != "sqlite":
        return
    connection.execute(text("INSERT INTO clues_fts(rowid, description, agency) "
                            "SELECT id, description, agency FROM clues WHERE id >= :first"),
                       {"first": first_id})
    connection.execute(text(SQLITE_DDL[1]))


def pause_trigger(connection: Connection) -> None:
    """SQLite: stop indexing inserted clues until :func:`bulk_rows_added`."""
    if connection.dialect.name == "sqlite":
        connection.execute(text("DROP TRIGGER IF EXISTS clues_fts_ai"))


def include_object(obj: object, name: str | None, type_: str, reflected: bool,
                   compare_to: object) -> bool:
    """For Alembic: the search index lives outside the models on purpose."""
    return not (name or "").startswith(tuple(SEARCH_OBJECTS))


def _escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# SQLite: a term matching more clues than this is "broad" (see condition).
BROAD_MATCHES = 2000


def _fts_matches(term: str) -> Select[Any]:
    phrase = '"' + term.replace('"', '""') + '"'
    return select(column("rowid")).select_from(table("clues_fts")).where(
        text("clues_fts MATCH :phrase").bindparams(phrase=phrase))


def is_broad(session: DbSession, term: str) -> bool:
    """Whether, on SQLite, ``term`` matches more than BROAD_MATCHES clues (counted no further)."""
    term = term.strip()
    if session.get_bind().dialect.name != "sqlite" or len(term) < 3:
        return False
    found = _fts_matches(term).limit(BROAD_MATCHES + 1).subquery()
    return (session.scalar(select(func.count()).select_from(found)) or 0) > BROAD_MATCHES


def condition(dialect: str, term: str, broad: bool = False) -> ColumnElement[bool]:
    """Clues whose description or agency contains ``term``, or whose number it is.

    On SQLite the planner fetches every match by rowid and sorts them: right
    for a rare term, but a term in one clue of ten is 100,000 rows to sort at
    a million (about 250 ms). For such a ``broad`` term, ``id + 0`` hides the
    rowid from the planner, which then walks the page's order index and tests
    each id against the matches: fifty hits come after some five hundred rows.
    """
    term = term.strip()
    number = Clue.tracking_no == term.upper()
    if dialect == "sqlite" and len(term) >= 3:
        matching = _fts_matches(term)
        return or_((Clue.id + 0).in_(matching) if broad else Clue.id.in_(matching), number)
    needle = f"%{_escape(term)}%"
    return or_(Clue.description.like(needle, escape="\\"), Clue.agency.like(needle, escape="\\"),
               number)
