"""XLSX export of the filtered queue: sent at once when small, built in the background when large.

A large export becomes an ``ExportJob`` row that any process may build: the
web process in a daemon thread right after the request, or a separate
``flask exports run`` service (``app.exports_worker``). A runner claims a job
with a conditional UPDATE (pending → running) that only one claimant can win;
on PostgreSQL it first selects the row ``FOR UPDATE SKIP LOCKED`` so that
concurrent runners pass over each other's rows instead of waiting. So any
number of gunicorn workers and runners never build the same job twice.

Files go to ``JIDU_DATA_DIR/exports/`` under random names, written to a
hidden ``.part`` file first and renamed when complete, so that a download
never sees half a workbook. They are removed after the retention period.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from app.models import ExportJob, ExportStatus
from app.services import audit, export, queue
from app.services.errors import DomainError, NotFound
from app.services.types import DbSession
from app.timeutil import utcnow

log = logging.getLogger(__name__)

# One person cannot pile up builds of a million rows each.
MAX_OPEN_PER_USER = 3
# A job still "running" after this long lost its process (a restart, a
# crash): it is marked failed so the requester sees it and can ask again.
# A million-row export took 7½ minutes on two cores (README, Benchmarks).
STALE_AFTER = timedelta(hours=1)
OPEN = (ExportStatus.PENDING, ExportStatus.RUNNING)


class TooManyExports(DomainError):
    code = "too_many_exports"


@dataclass
class Requested:
    """A small export's workbook, or the job that will build a large one."""

    content: bytes | None = None
    job: ExportJob | None = None


def exports_dir(data_dir: Path | str) -> Path:
    return Path(data_dir) / "exports"


def filters_to_json(filters: queue.Filters) -> dict[str, Any]:
    return {key: value.isoformat() if isinstance(value, date) else value
            for key, value in vars(filters).items() if value not in (None, False)}


def filters_from_json(data: dict[str, Any]) -> queue.Filters:
    known = {f.name for f in dataclasses.fields(queue.Filters)}
    values = {key: value for key, value in data.items() if key in known}
    for key in ("date_from", "date_to"):
        if values.get(key):
            values[key] = date.fromisoformat(values[key])
    return queue.Filters(**values)


def request_xlsx(session: DbSession, filters: queue.Filters, *, user_id: int, actor: str,
                 inline_rows: int, now: datetime) -> Requested:
    """Export the filtered queue as XLSX: the workbook now, or a job when over ``inline_rows``.

    Either way the request is audited with its filters. Identity is never
    part of an export (``export.rows`` reads no identity column).
    """
    if queue.count_matching(session, filters, now=now, limit=inline_rows + 1) <= inline_rows:
        export.log_export(session, actor=actor, filters=filters, fmt="xlsx", now=now)
        buffer = io.BytesIO()
        export.write_xlsx(buffer, export.rows(session, filters, now))
        return Requested(content=buffer.getvalue())
    unfinished = session.scalar(select(func.count()).select_from(ExportJob).where(
        ExportJob.requested_by_id == user_id, ExportJob.status.in_(OPEN)))
    if (unfinished or 0) >= MAX_OPEN_PER_USER:
        raise TooManyExports("too many unfinished exports")
    job = ExportJob(token=secrets.token_hex(16), requested_by_id=user_id,
                    filters=filters_to_json(filters), fmt="xlsx",
                    status=ExportStatus.PENDING, created_at=now)
    session.add(job)
    session.flush()
    audit.record(session, actor=actor, action="queue.export", target=f"export:{job.id}",
                 details={"format": "xlsx", "filters": export.filter_details(filters),
                          "job": job.id}, now=now)
    session.commit()
    return Requested(job=job)


def jobs_of(session: DbSession, user_id: int, limit: int = 50) -> list[ExportJob]:
    return list(session.scalars(
        select(ExportJob).where(ExportJob.requested_by_id == user_id)
        .order_by(ExportJob.created_at.desc(), ExportJob.id.desc()).limit(limit)))


def open_download(session: DbSession, token: str, *, user_id: int, actor: str,
                  data_dir: Path | str, now: datetime) -> tuple[ExportJob, Path]:
    """The finished file of the requester's own job, audited; ``NotFound`` for anyone else.

    Someone else's job, an unknown token and an expired file get the same
    answer, so that a token reveals nothing.
    """
    # Tokens are 32 hex digits; anything else (a NUL would reach PostgreSQL as
    # a 500) is unknown without a query.
    job = session.scalar(select(ExportJob).where(ExportJob.token == token)) if (
        len(token) == 32 and all(ch in "0123456789abcdef" for ch in token)) else None
    if (job is None or job.requested_by_id != user_id or job.status != ExportStatus.DONE
            or not job.file_name):
        raise NotFound("no such export")
    path = exports_dir(data_dir) / job.file_name
    if not path.is_file():
        raise NotFound("no such export")
    audit.record(session, actor=actor, action="queue.export.download",
                 target=f"export:{job.id}", details={"format": job.fmt, "rows": job.row_count},
                 now=now)
    session.commit()
    return job, path


def claim(session: DbSession, now: datetime) -> ExportJob | None:
    """Take the oldest pending job for this runner, or None when there is none."""
    while True:
        query = (select(ExportJob.id).where(ExportJob.status == ExportStatus.PENDING)
                 .order_by(ExportJob.id).limit(1))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        job_id = session.scalar(query)
        if job_id is None:
            session.commit()
            return None
        result = session.execute(
            update(ExportJob)
            .where(ExportJob.id == job_id, ExportJob.status == ExportStatus.PENDING)
            .values(status=ExportStatus.RUNNING, started_at=now)
            .execution_options(synchronize_session=False))
        session.commit()
        if getattr(result, "rowcount", 0) == 1:
            return session.get(ExportJob, job_id)


def build(session: DbSession, job: ExportJob, *, data_dir: Path | str,
          clock: Callable[[], datetime] = utcnow) -> ExportStatus:
    """Write a claimed job's workbook and record the outcome; a failure marks the job failed."""
    folder = exports_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    job_id, fmt = job.id, job.fmt
    filters, at = filters_from_json(job.filters), job.created_at
    name = f"{secrets.token_hex(16)}.{fmt}"
    part = folder / f".{name}.part"
    try:
        with part.open("wb") as out:
            # Judged at the moment of the request, as the queue looked then
            # ("overdue" in particular).
            count = export.write_xlsx(out, export.rows(session, filters, at))
        os.replace(part, folder / name)
    except Exception as exc:
        session.rollback()
        part.unlink(missing_ok=True)
        log.exception("export job %s failed", job_id)
        _finish(session, job_id, status=ExportStatus.FAILED, now=clock(),
                error=type(exc).__name__[:200])
        return ExportStatus.FAILED
    _finish(session, job_id, status=ExportStatus.DONE, now=clock(), row_count=count,
            file_name=name)
    return ExportStatus.DONE


def _finish(session: DbSession, job_id: int, *, status: ExportStatus, now: datetime,
            **values: Any) -> None:
    session.execute(update(ExportJob).where(ExportJob.id == job_id)
                    .values(status=status, finished_at=now, **values)
                    .execution_options(synchronize_session=False))
    session.commit()


def sweep(session: DbSession, *, data_dir: Path | str, now: datetime,
          retention: timedelta) -> int:
    """Remove files older than the retention and fail jobs whose runner died; returns removed."""
    cutoff = now - retention
    folder = exports_dir(data_dir)
    removed = 0
    for job in session.scalars(select(ExportJob).where(
            ExportJob.status == ExportStatus.DONE, ExportJob.finished_at < cutoff)).all():
        if job.file_name and (folder / job.file_name).is_file():
            (folder / job.file_name).unlink()
            removed += 1
        job.status, job.file_name = ExportStatus.EXPIRED, None
    session.execute(update(ExportJob).where(
        ExportJob.status == ExportStatus.RUNNING, ExportJob.started_at < now - STALE_AFTER)
        .values(status=ExportStatus.FAILED, finished_at=now, error="interrupted")
        .execution_options(synchronize_session=False))
    session.commit()
    if folder.is_dir():
        # Leftovers of a crash (a .part file, a file whose row is gone).
        live = set(session.scalars(select(ExportJob.file_name).where(
            ExportJob.file_name.is_not(None))))
        for path in folder.iterdir():
            if (path.is_file() and path.name not in live
                    and path.stat().st_mtime < cutoff.timestamp()):
                path.unlink()
                removed += 1
    return removed


def run_pending(session: DbSession, *, data_dir: Path | str, retention: timedelta,
                clock: Callable[[], datetime] = utcnow, limit: int | None = None) -> int:
    """Sweep, then build pending jobs until none is left (or ``limit``); returns how many."""
    sweep(session, data_dir=data_dir, now=clock(), retention=retention)
    built = 0
    while limit is None or built < limit:
        job = claim(session, clock())
        if job is None:
            break
        build(session, job, data_dir=data_dir, clock=clock)
        built += 1
    return built
