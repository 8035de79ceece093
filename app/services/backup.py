"""Backups: a consistent copy of the database and the evidence files while the service runs.

One archive per backup (security/archive.py: a tar, encrypted under
``JIDU_BACKUP_KEY``), named ``jidu-backup-<UTC time>.jbk``, holding:

- ``database.sqlite3``: SQLite's online backup API copies every page inside
  one read transaction, so the copy is the database at one instant while
  writers go on (WAL); or ``database.pgdump``: ``pg_dump --format=custom``
  run on a snapshot exported from a REPEATABLE READ transaction;
- ``attachments/<name>``: exactly the evidence files the copied database
  names, read in that same snapshot (files are written before their row
  commits and never change, so each one the snapshot names is complete);
  they are stored as they are on disk, encrypted under their own keys;
- ``reports/…``: the generated 民情日报 and 月报 (figures, no identity);
- ``manifest.json`` last: SHA-256 and size of every part, the database's
  schema revision, counts, and the files the snapshot named but that were
  already gone (a purge between the snapshot and the copy).

Left out on purpose: the mail folder (development transport; it holds
addresses), exports (clue text, kept 24 hours, rebuilt on demand), anything
else in ``JIDU_DATA_DIR``. The database dump is staged in the temporary
folder (the service's private /tmp) and removed as soon as it is archived.

Backups hold what a later purge destroys, so ``prune`` deletes them after
``JIDU_BACKUP_KEEP_DAYS``, which may not exceed the retention period.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sqlite3
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Engine, text

from app.security import archive
from app.services import attachments, audit
from app.services.errors import Conflict
from app.services.pg_tools import ToolFailed, libpq, pg_tool, run_tool
from app.services.types import DbSession

FORMAT = 1
NAME = re.compile(r"^jidu-backup-(\d{8}T\d{6}Z)\.jbk$")
STAMP = "%Y%m%dT%H%M%SZ"
REPORTS = "reports"
DATABASE_PART = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}


@dataclass
class Snapshot:
    """What the database copy holds: its file and the evidence files it names."""

    path: Path
    storage_names: list[str]
    counts: dict[str, int]
    revision: str | None


@dataclass
class Created:
    path: Path
    size: int
    parts: int
    missing: list[str] = field(default_factory=list)
    seconds: float = 0.0


# -- snapshots --------------------------------------------------------------

COUNTED = ("clues", "attachments", "hotline_orders", "audit_events")


def _sqlite_facts(copy: sqlite3.Connection) -> tuple[list[str], dict[str, int], str | None]:
    names = [row[0] for row in copy.execute(
        "SELECT storage_name FROM attachments ORDER BY storage_name")]
    counts = {table: int(copy.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608
              for table in COUNTED}
    has_version = copy.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                               "AND name = 'alembic_version'").fetchone()
    row = copy.execute("SELECT version_num FROM alembic_version").fetchone() \
        if has_version else None
    return names, counts, row[0] if row else None


def _pg_facts(conn: Connection) -> tuple[list[str], dict[str, int], str | None]:
    names = list(conn.execute(text(
        "SELECT storage_name FROM attachments ORDER BY storage_name")).scalars())
    counts = {table: int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608
              for table in COUNTED}
    revision = None
    if conn.execute(text("SELECT to_regclass('alembic_version')")).scalar() is not None:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return names, counts, revision


@contextmanager
def snapshot(engine: Engine, folder: Path, pg_bin: str | None) -> Iterator[Snapshot]:
    """The database copied at one instant into ``folder``, and what that copy names."""
    if engine.dialect.name == "sqlite":
        target = folder / DATABASE_PART["sqlite"]
        source = sqlite3.connect(str(engine.url.database), timeout=30)
        copy = sqlite3.connect(str(target))
        try:
            # One step (pages=-1): one read transaction, one instant; WAL
            # lets writers go on meanwhile.
            source.backup(copy)
            facts = _sqlite_facts(copy)
        finally:
            copy.close()
            source.close()
        yield Snapshot(target, *facts)
        return
    if engine.dialect.name != "postgresql":
        raise ToolFailed(f"no backup for {engine.dialect.name}")
    target = folder / DATABASE_PART["postgresql"]
    uri, env = libpq(engine.url)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, \
            conn.begin():
        # pg_dump reads the snapshot this transaction exports, so the dump
        # and the list of files are of the same instant; the transaction
        # stays open until pg_dump is done.
        snapshot_id = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        facts = _pg_facts(conn)
        run_tool([pg_tool("pg_dump", pg_bin), "--format=custom", "--no-owner",
                  "--no-privileges", f"--snapshot={snapshot_id}", f"--file={target}",
                  f"--dbname={uri}"], env)
    yield Snapshot(target, *facts)


# -- the archive --------------------------------------------------------------


class _Hashing:
    """A file being read into the tar, hashed on the way."""

    def __init__(self, source: IO[bytes]) -> None:
        self._source = source
        self.sha256 = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self.sha256.update(data)
        return data


def _add(tar: tarfile.TarFile, name: str, source: IO[bytes], size: int,
         parts: dict[str, dict[str, Any]]) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, int(time.time())
    hashing = _Hashing(source)
    tar.addfile(info, hashing)
    parts[name] = {"sha256": hashing.sha256.hexdigest(), "bytes": size}


def _add_path(tar: tarfile.TarFile, name: str, path: Path,
              parts: dict[str, dict[str, Any]]) -> bool:
    """Add a file as it is now; False if it is gone. Opened first, so an unlink cannot cut it."""
    try:
        source = path.open("rb")
    except FileNotFoundError:
        return False
    with source:
        _add(tar, name, source, os.fstat(source.fileno()).st_size, parts)
    return True


def _reports(data_dir: Path) -> list[tuple[str, bytes]]:
    """Report files, read whole (small; a concurrent re-run may replace one)."""
    folder = data_dir / REPORTS
    found = []
    for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
        if path.is_file() and not path.is_symlink() and not path.name.startswith("."):
            found.append((f"{REPORTS}/{path.relative_to(folder).as_posix()}", path.read_bytes()))
    return found


def create(session: DbSession, engine: Engine, *, data_dir: Path, target_dir: Path,
           key: bytes, pg_bin: str | None, now: datetime, actor: str) -> Created:
    """Write one encrypted backup archive into ``target_dir``; audited. Safe while serving."""
    started = time.monotonic()
    target_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = target_dir / f"jidu-backup-{now.astimezone(UTC).strftime(STAMP)}.jbk"
    if path.exists():
        raise Conflict(f"{path.name} exists already")
    part = target_dir / f".{path.name}.part"
    backend = engine.dialect.name
    parts: dict[str, dict[str, Any]] = {}
    missing: list[str] = []
    with tempfile.TemporaryDirectory(prefix="jidu-backup-") as staging, \
            snapshot(engine, Path(staging), pg_bin) as snap:
        descriptor = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as raw:
                info = {"format": FORMAT, "created_at": now.isoformat(), "backend": backend}
                with archive.writing(raw, key, info) as tar:
                    _add_path(tar, snap.path.name, snap.path, parts)
                    snap.path.unlink()
                    folder = data_dir / attachments.FOLDER
                    for name in snap.storage_names:
                        if not _add_path(tar, f"{attachments.FOLDER}/{name}", folder / name,
                                         parts):
                            missing.append(name)
                    for name, body in _reports(data_dir):
                        _add(tar, name, io.BytesIO(body), len(body), parts)
                    manifest = json.dumps({
                        **info, "revision": snap.revision, "counts": snap.counts,
                        "database": snap.path.name, "parts": parts, "missing": missing},
                        indent=1, sort_keys=True).encode()
                    _add(tar, "manifest.json", io.BytesIO(manifest), len(manifest), {})
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(part, path)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
    size = path.stat().st_size
    audit.record(session, actor=actor, action="backup.created", target=f"backup:{path.name}",
                 details={"bytes": size, "parts": len(parts), "missing": len(missing),
                          "backend": backend, **snap.counts}, now=now)
    session.commit()
    return Created(path, size, len(parts), missing, time.monotonic() - started)


# -- expiry -----------------------------------------------------------------


def backup_time(path: Path) -> datetime | None:
    match = NAME.match(path.name)
    if match is None:
        return None
    return datetime.strptime(match.group(1), STAMP).replace(tzinfo=UTC)


def prune(session: DbSession, folder: Path, *, keep_days: int, retention_days: int,
          now: datetime, actor: str) -> list[Path]:
    """Delete backups older than ``keep_days`` (judged by the time in their name); audited.

    Refused when ``keep_days`` exceeds the retention period: such backups
    would keep identities and evidence a purge has destroyed.
    """
    if keep_days < 0:
        raise ValueError("--keep-days cannot be negative")
    if keep_days > retention_days:
        raise Conflict(f"backups may be kept at most the retention period ({retention_days} "
                       f"days), not {keep_days}")
    if not folder.is_dir():
        return []
    oldest = now - timedelta(days=keep_days)
    removed = []
    for path in sorted(folder.iterdir()):
        made = backup_time(path)
        left_over = path.name.startswith(".jidu-backup-") and path.name.endswith(".part") \
            and path.stat().st_mtime < (now - timedelta(days=1)).timestamp()
        if (made is not None and made < oldest) or left_over:
            path.unlink()
            removed.append(path)
    if removed:
        audit.record(session, actor=actor, action="backup.pruned",
                     details={"removed": [p.name for p in removed], "keep_days": keep_days},
                     now=now)
        session.commit()
    return removed
