"""Rebuilding what a fresh PostgreSQL bulk load set aside: indexes, the
free-text index and constraints, on one connection per core, then ANALYZE.
Used by ``bulk_write.loading``."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ForeignKeyConstraint, Index, UniqueConstraint, text
from sqlalchemy.engine import Connection
from sqlalchemy.schema import AddConstraint, CreateIndex

from app import search
from app.services.types import DbSession

# Per connection that builds indexes after a load (a larger sort spills less).
WORK_MEM = "512MB"


@dataclass
class Job:
    table: str
    stage: int  # 0 build an index, 1 add or check a constraint, 2 analyse
    run: Callable[[Connection], Any]


def rebuild(session: DbSession, indexes: Sequence[tuple[str, Index]],
             keys: Sequence[ForeignKeyConstraint], uniques: Sequence[UniqueConstraint],
             tables: Sequence[str]) -> None:
    """PostgreSQL: the indexes, free-text index and constraints of a fresh load,
    built on as many connections as there are cores, and the tables analysed.

    Why: one connection builds one index at a time on one core (the trigram
    index alone takes a quarter of a minute at a million clues) while the
    other cores idle. The keys are added NOT VALID first (no scan, but a lock
    that would wait for every index build) and validated afterwards, which
    reads the rows under a lock that lets the other tables' work go on. A
    unique constraint's index is built like the others and then becomes the
    constraint (USING INDEX: no second build). Analysed at once, not when
    autovacuum gets to them: what runs next (the demo's hotline import) took
    half a minute longer on the unanalysed tables of a million clues.
    """
    connection = session.connection()
    for key in keys:
        connection.exec_driver_sql(f"{AddConstraint(key).compile(dialect=connection.dialect)}"
                                   " NOT VALID")

    def statement(sql: str) -> Callable[[Connection], Any]:
        return lambda conn: conn.exec_driver_sql(sql)

    def create(index: Index) -> Callable[[Connection], Any]:
        return lambda conn: conn.execute(CreateIndex(index, if_not_exists=True))

    builds = [(name, str(index.name), create(index)) for name, index in indexes]
    for unique in uniques:
        columns = ", ".join(column.name for column in unique.columns)
        builds.append((unique.table.name, str(unique.name), statement(
            f"CREATE UNIQUE INDEX IF NOT EXISTS {unique.name} ON {unique.table.name} "
            f"({columns})")))
    # The longest first (the free-text index, then the largest tables'), so
    # that the short ones fill in at the end.
    size: dict[str, int] = dict(connection.execute(text(
        "SELECT relname, pg_relation_size(oid) FROM pg_class WHERE relname = ANY(:names)"),
        {"names": list(tables)}).all())
    builds.sort(key=lambda build: (-size.get(build[0], 0), build[1]))
    jobs = [Job("clues", 0, search.install)]
    jobs += [Job(table, 0, run) for table, _name, run in builds]
    jobs += [Job(unique.table.name, 1, statement(
        f"ALTER TABLE {unique.table.name} ADD CONSTRAINT {unique.name} "
        f"UNIQUE USING INDEX {unique.name}")) for unique in uniques]
    jobs += [Job(key.table.name, 1, statement(
        f"ALTER TABLE {key.table.name} VALIDATE CONSTRAINT {key.name}")) for key in keys]
    jobs += [Job(name, 2, statement(f"ANALYZE {name}")) for name in tables]
    session.commit()
    run_jobs(session.get_bind(), jobs)


def run_jobs(bind: Any, jobs: list[Job]) -> None:
    """Run ``jobs`` on several connections; a table's jobs of one stage wait for its
    earlier stages, and its constraints and analysis run one at a time (their
    locks would make them wait for one another anyway)."""
    pending = list(jobs)
    running: list[Job] = []
    failed: list[BaseException] = []
    changed = threading.Condition()

    def startable(job: Job) -> bool:
        return not any(other.table == job.table and (
            other.stage < job.stage or (job.stage and other in running))
            for other in pending + running if other is not job)

    def worker() -> None:
        with bind.connect() as conn:
            while True:
                with changed:
                    job = None
                    while pending and not failed:
                        job = next((job for job in pending if startable(job)), None)
                        if job is not None:
                            break
                        changed.wait()
                    if job is None:
                        return
                    pending.remove(job)
                    running.append(job)
                try:
                    with conn.begin():
                        conn.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{WORK_MEM}'")
                        job.run(conn)
                except BaseException as error:  # re-raised below, in the caller's thread
                    failed.append(error)
                finally:
                    with changed:
                        running.remove(job)
                        changed.notify_all()

    threads = [threading.Thread(target=worker, name=f"rebuild-{n}")
               for n in range(min(len(jobs), max(2, os.cpu_count() or 1)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failed:
        raise failed[0]
