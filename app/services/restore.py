"""Restoring a backup (services/backup.py) into an empty instance, and checking one.

Nothing is trusted before it is checked: the archive's chunks are
authenticated as they are read (security/archive.py), every member must have
a name of the expected shape, the manifest comes last and must list exactly
the parts read with the same SHA-256 and size. Only then is the database
loaded and are the files moved into place. A database that holds any table,
or a data directory that holds attachments or reports, is refused: a restore
never merges into or overwrites a live instance.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import shutil
import sqlite3
import tarfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, inspect

from app.security import archive
from app.services import attachments, audit, reference_cache
from app.services.backup import DATABASE_PART, REPORTS
from app.services.errors import Conflict, DomainError
from app.services.pg_tools import libpq, pg_tool, run_tool
from app.services.types import DbSession

MEMBER = re.compile(r"^(?:database\.(?:sqlite3|pgdump)|attachments/[0-9a-f]{32}"
                    r"|reports/[A-Za-z0-9_\-][A-Za-z0-9_.\-/]{0,200}|manifest\.json)$")
MANIFEST_LIMIT = 64 * 1024 * 1024
COPY = 1024 * 1024


class NotEmpty(Conflict):
    code = "not_empty"


class Refused(DomainError):
    """The archive failed a check: nothing of it was used."""

    code = "backup_refused"


@dataclass
class Checked:
    info: dict[str, Any]  # the header: created_at, backend
    manifest: dict[str, Any]
    parts: int
    size: int


def _copy(source: IO[bytes], sink: IO[bytes] | None) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := source.read(COPY):
        digest.update(chunk)
        size += len(chunk)
        if sink is not None:
            sink.write(chunk)
    return digest.hexdigest(), size


def _member(tar: tarfile.TarFile, member: tarfile.TarInfo, staging: Path | None,
            seen: dict[str, dict[str, Any]]) -> None:
    name = member.name
    if (not member.isfile() or not MEMBER.match(name) or name in seen
            or ".." in name.split("/") or "//" in name):
        raise archive.ArchiveError(f"unexpected member in the archive: {name[:80]!r}")
    source = tar.extractfile(member)
    if source is None:  # pragma: no cover - regular files always have contents
        raise archive.ArchiveError(f"unreadable member {name!r}")
    if staging is None:
        seen[name] = dict(zip(("sha256", "bytes"), _copy(source, None), strict=True))
        return
    target = staging / name
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with target.open("xb") as sink:
        seen[name] = dict(zip(("sha256", "bytes"), _copy(source, sink), strict=True))


def read(path: Path, key: bytes, staging: Path | None) -> Checked:
    """Read and check the whole archive; its parts are written under ``staging`` if given.

    Raises ``Refused`` naming the first problem.
    """
    try:
        return _read(path, key, staging)
    except archive.ArchiveError as exc:
        raise Refused(f"refused: {exc}") from None
    except ValueError as exc:  # a manifest that is not JSON
        raise Refused(f"refused: the manifest is damaged ({exc})") from None


def _read(path: Path, key: bytes, staging: Path | None) -> Checked:
    seen: dict[str, dict[str, Any]] = {}
    manifest: dict[str, Any] | None = None
    with path.open("rb") as source, archive.reading(source, key) as (info, tar):
        for member in tar:
            if manifest is not None:
                raise archive.ArchiveError("members after the manifest")
            if member.name == "manifest.json" and member.isfile():
                body = tar.extractfile(member)
                if body is None or member.size > MANIFEST_LIMIT:
                    raise archive.ArchiveError("the manifest is unreadable")
                manifest = json.loads(body.read())
                continue
            _member(tar, member, staging, seen)
    if not isinstance(manifest, dict):
        raise archive.ArchiveError("the archive has no manifest: it is incomplete")
    listed = manifest.get("parts")
    if listed != seen:
        wrong = sorted(set(seen) ^ set(listed or {})) or sorted(
            name for name in seen if (listed or {}).get(name) != seen[name])
        raise archive.ArchiveError(f"the archive does not match its manifest ({wrong[0]})")
    if manifest.get("backend") != info.get("backend") \
            or DATABASE_PART.get(str(info.get("backend"))) not in seen:
        raise archive.ArchiveError("the archive holds no database of its stated kind")
    return Checked(info, manifest, len(seen), path.stat().st_size)


def check_empty(engine: Engine, data_dir: Path) -> None:
    """Refuse a database with any table, or a data directory with attachments or reports."""
    with engine.connect() as conn:
        tables = inspect(conn).get_table_names()
    if tables:
        raise NotEmpty(f"the database is not empty ({len(tables)} tables): restore needs a new, "
                       "empty database")
    for folder in (attachments.FOLDER, REPORTS):
        where = data_dir / folder
        if where.is_dir() and any(where.iterdir()):
            raise NotEmpty(f"{where} is not empty: restore needs an empty data directory")


def _load_database(engine: Engine, part: Path, pg_bin: str | None) -> None:
    engine.dispose()
    if engine.dialect.name == "sqlite":
        source, target = sqlite3.connect(str(part)), sqlite3.connect(str(engine.url.database))
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        return
    uri, env = libpq(engine.url)
    run_tool([pg_tool("pg_restore", pg_bin), "--no-owner", "--no-privileges", "--no-comments",
              "--exit-on-error", "--single-transaction", f"--dbname={uri}", str(part)], env)


def _move_files(staging: Path, data_dir: Path) -> int:
    moved = 0
    for folder in (attachments.FOLDER, REPORTS):
        source = staging / folder
        if not source.is_dir():
            continue
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            target = data_dir / folder / path.relative_to(source)
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            path.replace(target)
            moved += 1
    return moved


@dataclass
class Restored:
    checked: Checked
    files: int
    seconds: float


def restore(session: DbSession, engine: Engine, *, path: Path, key: bytes, data_dir: Path,
            pg_bin: str | None, now: datetime, actor: str) -> Restored:
    """Check the archive whole, then load it into this empty instance; audited there."""
    started = time.monotonic()
    check_empty(engine, data_dir)
    staging = data_dir / f".restore-{secrets.token_hex(8)}"
    staging.mkdir(mode=0o700, parents=True)
    try:
        checked = read(path, key, staging)
        backend = checked.info["backend"]
        if backend != engine.dialect.name:
            raise Refused(f"refused: the archive is of a {backend} database; this instance "
                          f"uses {engine.dialect.name}")
        check_empty(engine, data_dir)
        _load_database(engine, staging / DATABASE_PART[backend], pg_bin)
        files = _move_files(staging, data_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    audit.record(session, actor=actor, action="backup.restored", target=f"backup:{path.name}",
                 details={"created_at": checked.info.get("created_at"), "files": files,
                          "revision": checked.manifest.get("revision")}, now=now)
    reference_cache.renumber(session)
    session.commit()
    return Restored(checked, files, time.monotonic() - started)
