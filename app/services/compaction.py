"""After a purge: VACUUM, so that destroyed values do not linger in the database's files."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

# The tables a purge changes (services/retention.py).
TOUCHED_TABLES = ("clues", "attachments", "hotline_orders", "outbox")


@dataclass(frozen=True)
class Compacted:
    backend: str
    seconds: float
    full: bool
    checkpoint_busy: bool = False
    # PostgreSQL: dead row versions VACUUM had to keep (what an older
    # transaction may still see, which may include destroyed values).
    kept_dead: int = 0


# A transaction whose snapshot is older than the purge, in any database of
# the server (measured: PostgreSQL 15 keeps the dead rows for it), still sees
# the destroyed values, so no VACUUM may drop them yet: wait this long for
# such transactions (a report, a backup's pg_dump, autovacuum) to end.
SNAPSHOT_WAIT = 120.0
_KEPT = re.compile(r"(\d+) dead row versions cannot be removed yet"
                   r"|(\d+) are dead but not yet removable")


def _wait_for_older_transactions(conn: Any, wait: float) -> None:
    """Wait (at most ``wait`` seconds) until no transaction older than now holds a snapshot.

    Only transactions this role may see are waited for (all of Jidu's; others'
    need pg_read_all_stats); VACUUM's own report is the final word.
    """
    horizon = conn.exec_driver_sql("SELECT clock_timestamp()").scalar_one()
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and conn.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
            "AND (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL) "
            "AND xact_start < %(horizon)s", {"horizon": horizon}).scalar_one():
        time.sleep(0.5)


def _vacuum_postgres(conn: Any, full: bool) -> int:
    """VACUUM the touched tables; returns the dead row versions it had to keep."""
    notices: list[str] = []
    driver = conn.connection.driver_connection

    def keep(diagnostic: Any) -> None:
        notices.append(f"{diagnostic.message_primary or ''} {diagnostic.message_detail or ''}")

    driver.add_notice_handler(keep)
    try:
        for table in TOUCHED_TABLES:
            conn.exec_driver_sql(f"VACUUM ({'FULL, ' if full else ''}ANALYZE, VERBOSE) {table}")
    finally:
        driver.remove_notice_handler(keep)
    return sum(int(a or b) for notice in notices for a, b in _KEPT.findall(notice))


def compact(engine: Engine, *, full: bool = False, wait: float = SNAPSHOT_WAIT) -> Compacted:
    """Make destroyed values unreadable in the database's own files too.

    SQLite: ``secure_delete`` (set on every connection, app/__init__.py)
    zeroes deleted cells as they go; VACUUM rebuilds the file from live rows
    only, and a TRUNCATE checkpoint empties the write-ahead log, which still
    held the old pages. It takes the write lock for its duration (seconds on
    a small database; SQLite is for development and small deployments).

    PostgreSQL: a plain VACUUM removes the dead row versions and lets their
    space be reused without blocking anyone, but does not zero it: the old
    bytes stay in the page until overwritten (checked with pageinspect).
    ``full`` runs VACUUM FULL, which rewrites each table into a new file and
    so drops them, under an exclusive lock that stops the service's use of
    those tables while it runs: a maintenance window's job; it is repeated
    (within ``wait``) while an older transaction made it keep dead rows.
    Either way the write-ahead log segments keep the old values until
    recycled (usually within a few checkpoints), and the file system may keep
    freed blocks: the envelopes are still locked by the identity key, and
    disks should be encrypted.
    """
    started = time.monotonic()
    backend = engine.dialect.name
    busy, kept = False, 0
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if backend == "sqlite":
            conn.exec_driver_sql("VACUUM")
            row = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
            busy = bool(row and row[0])
        else:
            _wait_for_older_transactions(conn, wait)
            deadline = time.monotonic() + wait
            kept = _vacuum_postgres(conn, full)
            while full and kept and time.monotonic() < deadline:
                time.sleep(min(5.0, max(0.0, deadline - time.monotonic())))
                kept = _vacuum_postgres(conn, full)
    return Compacted(backend, time.monotonic() - started, full, busy, kept)
