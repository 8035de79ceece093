"""Helpers for the deployment tests: real gunicorn processes, Redis, free ports."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
GUNICORN = Path(sys.executable).parent / "gunicorn"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tool(name: str) -> str:
    """The path of a system tool the test needs; missing: skip, or fail under CI=true."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path is None:
        skip_or_fail(f"{name} is not installed: deployment test not run")
    return str(path)


@pytest.fixture
def redis_url() -> Iterator[str]:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        skip_or_fail("TEST_REDIS_URL is not set: Redis deployment tests not run")
    client = redis.Redis.from_url(str(url))
    client.flushdb()
    yield str(url)
    client.flushdb()
    client.close()


def production_env(tmp: Path, database_url: str, **extra: str) -> dict[str, str]:
    """What /etc/jidu/jidu.env gives a process: production settings, nothing from .env."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JIDU_", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "MAIL_"))}
    env.update(
        JIDU_ENV="production", JIDU_DOTENV="",
        SECRET_KEY="deploy-test-secret-key-0123456789abcdef",
        JIDU_RECEIPT_KEY="deploy-test-receipt-key-0123456789abcdef",
        JIDU_BASE_URL="https://jidu.example.gov.cn",
        DATABASE_URL=database_url,
        JIDU_INSTANCE_DIR=str(tmp / "instance"), JIDU_DATA_DIR=str(tmp / "data"),
        JIDU_EXPORT_IN_PROCESS="false",
        JIDU_WEB_WORKERS="1", JIDU_WEB_THREADS="2",
    )
    env.update(extra)
    return env


class Server:
    """gunicorn with deploy/gunicorn.conf.py, as jidu-web.service starts it."""

    def __init__(self, name: str, tmp: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.access_log = tmp / f"{name}-access.log"
        self.error_log = tmp / f"{name}-error.log"
        # The app's own warnings go to stderr, as into the journal under systemd.
        self.output = tmp / f"{name}-output.log"
        env = {**env, "JIDU_WEB_BIND": f"127.0.0.1:{self.port}",
               "JIDU_WEB_ACCESS_LOG": str(self.access_log),
               "JIDU_WEB_ERROR_LOG": str(self.error_log)}
        with self.output.open("wb") as output:
            self.process = subprocess.Popen(
                [str(GUNICORN), "--config", str(DEPLOY / "gunicorn.conf.py"), "wsgi:app"],
                cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn exited {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        pytest.fail(f"gunicorn did not answer within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return "\n".join(path.read_text() for path in (self.error_log, self.output)
                         if path.exists())

    def post(self, path: str, body: dict[str, Any], headers: dict[str, str] | None = None
             ) -> int:
        request = urllib.request.Request(  # noqa: S310 (http://127.0.0.1 only)
            self.url + path, data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()
