"""Status counters, moved in the caller's transaction (no commit here)."""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.models import StatusCount
from app.services.types import DbSession

# Rows per status (models.StatusCount): concurrent changes pick one at random,
# so that two of them seldom wait for one another's row lock.
SHARDS = 16


def bump(session: DbSession, changes: Mapping[str, int]) -> None:
    """Add ``changes`` (status → delta) with an upsert that is safe under concurrency.

    Call it last in the transaction, just before the commit: the row stays
    locked from here to the commit.
    """
    shard = random.randrange(SHARDS)  # noqa: S311 - spreads load, guards nothing
    # In one order, so that two changes never lock the same rows crosswise.
    rows = [{"status": str(status), "shard": shard, "n": delta}
            for status, delta in sorted(changes.items()) if delta]
    if rows:
        connection = session.connection()
        connection.execute(_upsert(connection.dialect.name), rows)


@functools.cache
def _upsert(dialect: str) -> Any:
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(StatusCount)
    return statement.on_conflict_do_update(
        index_elements=["status", "shard"], set_={"n": StatusCount.n + statement.excluded.n})


def totals(session: DbSession) -> dict[str, int]:
    return {status: int(n) for status, n in session.execute(
        select(StatusCount.status, func.sum(StatusCount.n)).group_by(StatusCount.status))
        if n}
