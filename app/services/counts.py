"""Status counters, moved in the caller's transaction (no commit here)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.models import StatusCount
from app.services.types import DbSession


def bump(session: DbSession, changes: Mapping[str, int]) -> None:
    """Add ``changes`` (status → delta) with an upsert that is safe under concurrency."""
    rows = [{"status": str(status), "n": delta} for status, delta in changes.items() if delta]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(StatusCount).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["status"], set_={"n": StatusCount.n + statement.excluded.n})
    session.execute(statement)


def totals(session: DbSession) -> dict[str, int]:
    return {status: n for status, n in session.execute(
        select(StatusCount.status, StatusCount.n).where(StatusCount.n != 0))}
