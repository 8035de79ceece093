"""pg_dump and pg_restore, run for backups (services/backup.py, restore.py)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL

from app.services.errors import DomainError, NotConfigured


class ToolFailed(DomainError):
    code = "backup_failed"


def pg_tool(name: str, folder: str | None) -> str:
    """pg_dump or pg_restore: from JIDU_PG_BIN, PATH, or the newest Debian cluster's."""
    if folder:
        path = Path(folder) / name
        if not path.is_file():
            raise NotConfigured(f"JIDU_PG_BIN has no {name}")
        return str(path)
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: [int(x) if x.isdigit() else 0 for x in p.split("/")])
    if not candidates:
        raise NotConfigured(f"{name} not found: install postgresql-client or set JIDU_PG_BIN")
    return candidates[-1]


def libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password, and an environment that carries it."""
    env = {**os.environ, "PGAPPNAME": "jidu-backup"}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def run_tool(argv: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit {result.returncode}"
        raise ToolFailed(f"{Path(argv[0]).name} failed: {reason}")
