"""The whole stack on this machine: deploy/up.sh, its smoke test through nginx, deploy/down.sh.

nginx (the shipped site, TLS) → gunicorn (the shipped config) → PostgreSQL
and Redis, with the mail worker and the export builder started from their
systemd units' ExecStart lines, and the timers' jobs run once. It uses a
database of its own beside TEST_DATABASE_URL's (``<name>_stage``), dropped
afterwards.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import skip_or_fail
from tests.deploy.conftest import DEPLOY, free_port, tool

pytestmark = pytest.mark.postgres


@pytest.fixture
def stage_env(tmp_path: Path, redis_url: str) -> dict[str, str]:
    tool("nginx")
    tool("openssl")
    tool("psql")
    database = os.environ.get("TEST_DATABASE_URL")
    if not database:
        skip_or_fail("TEST_DATABASE_URL is not set: the stack test needs PostgreSQL")
    url = make_url(str(database))
    # The server, as a libpq URL without the database: up.sh adds its own.
    server = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("JIDU_")},
        "JIDU_STAGE_DIR": str(tmp_path / "stage"),
        "JIDU_STAGE_PG": server.rsplit("/", 1)[0],
        "JIDU_STAGE_DB": f"{url.database}_stage",
        "JIDU_STAGE_FRESH": "1",
        "JIDU_STAGE_REDIS_URL": redis_url,
        "JIDU_STAGE_HTTP_PORT": str(free_port()),
        "JIDU_STAGE_HTTPS_PORT": str(free_port()),
        "JIDU_STAGE_APP_PORT": str(free_port()),
    }


def test_up_smoke_down(stage_env: dict[str, str]):
    stage = Path(stage_env["JIDU_STAGE_DIR"])
    try:
        up = subprocess.run([str(DEPLOY / "up.sh")], env=stage_env, capture_output=True,
                            text=True, timeout=240, check=False)
        logs = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                         for p in sorted((stage / "log").glob("*.log")))
        assert up.returncode == 0, f"{up.stdout}\n{up.stderr}\n{logs}"
        assert "smoke test passed" in up.stdout
        assert "ok   no client address in the access logs" in up.stdout
        for job in ("reports-daily", "reports-monthly", "warnings"):
            assert f"jidu-{job}.service: " in up.stdout
        pids = {name: int((stage / "run" / f"{name}.pid").read_text())
                for name in ("nginx", "web", "worker", "exports")}
    finally:
        down = subprocess.run([str(DEPLOY / "down.sh"), "--purge"], env=stage_env,
                              capture_output=True, text=True, timeout=120, check=False)
    assert down.returncode == 0, down.stdout + down.stderr
    for name, pid in pids.items():
        assert not Path(f"/proc/{pid}").exists(), f"{name} ({pid}) still runs"
    assert not stage.exists()
