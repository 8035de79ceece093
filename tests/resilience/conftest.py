"""Crash tests: a real gunicorn killed under load, a private PostgreSQL cluster restarted.

Everything here runs on this machine's loopback only, with every load
bounded in time and count.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.conftest import DEPLOY, GUNICORN, ROOT, free_port
from tests.resilience.pg_cluster import PrivateCluster

FLASK = GUNICORN.parent / "flask"


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (gunicorn's workers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


class Gunicorn:
    """deploy/gunicorn.conf.py on one loopback port, started again on the same port."""

    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.tmp = tmp
        self.env = {**env, "JIDU_WEB_BIND": f"127.0.0.1:{self.port}",
                    "JIDU_WEB_ACCESS_LOG": str(tmp / "gunicorn-access.log"),
                    "JIDU_WEB_ERROR_LOG": str(tmp / "gunicorn-error.log")}
        self.output = tmp / "gunicorn-output.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, timeout: float = 60) -> None:
        with self.output.open("ab") as output:
            self.process = subprocess.Popen(
                [str(GUNICORN), "--config", str(DEPLOY / "gunicorn.conf.py"), "wsgi:app"],
                cwd=ROOT, env=self.env, stdout=output, stderr=subprocess.STDOUT)
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn exited {self.process.returncode}:\n{self.log()}")
            try:
                status, _body, _type = request(self.port, "GET", "/healthz", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        pytest.fail(f"gunicorn did not answer within {timeout} s:\n{self.log()}")

    def pids(self) -> list[int]:
        assert self.process is not None
        return [self.process.pid, *children(self.process.pid)]

    def kill(self) -> list[int]:
        """SIGKILL the master and every worker at once, as a power cut or the OOM killer would."""
        assert self.process is not None
        pids = self.pids()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        # The workers are the master's children, reaped by nobody now: wait for them to go.
        deadline = time.monotonic() + 10
        while any(Path(f"/proc/{pid}").exists() and _state(pid) != "Z" for pid in pids[1:]):
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn workers {pids[1:]} survived SIGKILL")
            time.sleep(0.05)
        return pids

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        paths = (self.tmp / "gunicorn-error.log", self.output)
        return "\n".join(p.read_text(errors="replace")[-4000:] for p in paths if p.exists())

    def flask(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A ``flask --app wsgi`` command with the server's settings."""
        return subprocess.run([str(FLASK), "--app", "wsgi", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=120, check=False)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "X"


def request(port: int, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None, timeout: float = 30,
            ) -> tuple[int, bytes, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read(), response.getheader("Content-Type") or ""
    finally:
        connection.close()


def multipart(payload: dict[str, Any], files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    """POST /api/v1/clues as multipart: the JSON in ``payload``, each file in ``files``."""
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="payload"\r\n'
             f"Content-Type: application/json\r\n\r\n".encode()
             + json.dumps(payload, ensure_ascii=False).encode() + b"\r\n"]
    for name, data in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                     f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
                     .encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@dataclass
class Attempt:
    marker: str
    with_file: bool
    real_name: bool
    outcome: str  # "created", "refused" (never connected), "lost" (no answer), "status"
    started: float
    elapsed: float
    status: int = 0
    body: bytes = b""
    content_type: str = ""
    error: str = ""

    @property
    def answer(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class Load:
    """``threads`` reporters posting clues through the API until stopped (bounded in time).

    Each clue carries a unique marker in its description; every fourth
    reporter sends a photo with it, every third a real name. An attempt is
    ``refused`` when no connection could be made (nothing was sent, nothing
    can be stored), ``lost`` when the connection broke after the request went
    out (it may or may not have been stored: the reporter has no receipt).
    """

    port: int
    token: str
    make_payload: Callable[[str, bool], dict[str, Any]]
    photo: bytes
    threads: int = 32
    timeout: float = 30
    limit_seconds: float = 240
    attempts: list[Attempt] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        self._deadline = time.monotonic() + self.limit_seconds
        for number in range(self.threads):
            worker = threading.Thread(target=self._run, args=(number,), daemon=True)
            worker.start()
            self._workers.append(worker)

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=self.timeout + 10)
        assert not any(w.is_alive() for w in self._workers), "a reporter thread hangs"

    def count(self, outcome: str) -> int:
        with self._lock:
            return sum(1 for a in self.attempts if a.outcome == outcome)

    def wait_for(self, outcome: str, n: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.count(outcome) < n:
            if time.monotonic() > deadline:
                pytest.fail(f"only {self.count(outcome)} {outcome} of {n} within {timeout} s: "
                            f"{self.summary()}")
            time.sleep(0.05)

    def summary(self) -> dict[str, int]:
        with self._lock:
            outcomes = [a.outcome if a.outcome != "status" else str(a.status)
                        for a in self.attempts]
        return {name: outcomes.count(name) for name in sorted(set(outcomes))}

    def _run(self, number: int) -> None:
        sequence = 0
        while not self._stop.is_set() and time.monotonic() < self._deadline:
            sequence += 1
            with_file = number % 4 == 0
            real_name = number % 3 == 0
            marker = f"crash-{number:02d}-{sequence:05d}"
            attempt = self._send(marker, with_file, real_name)
            with self._lock:
                self.attempts.append(attempt)
            if attempt.outcome != "created":
                time.sleep(0.05)  # the server is down or failing: do not spin

    def _send(self, marker: str, with_file: bool, real_name: bool) -> Attempt:
        payload = self.make_payload(marker, real_name)
        headers = {"Authorization": f"Bearer {self.token}"}
        if with_file:
            body, headers["Content-Type"] = multipart(payload, [(f"{marker}.jpg", self.photo)])
        else:
            body, headers["Content-Type"] = json.dumps(payload).encode(), "application/json"
        started = time.monotonic()
        attempt = Attempt(marker, with_file, real_name, "lost", started, 0)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            try:
                connection.connect()
            except OSError as exc:
                attempt.outcome, attempt.error = "refused", type(exc).__name__
                return attempt
            try:
                connection.request("POST", "/api/v1/clues", body=body, headers=headers)
                response = connection.getresponse()
                attempt.status, attempt.body = response.status, response.read()
                attempt.content_type = response.getheader("Content-Type") or ""
                attempt.outcome = "created" if attempt.status == 201 else "status"
            except (OSError, http.client.HTTPException) as exc:
                attempt.error = type(exc).__name__
        finally:
            connection.close()
            attempt.elapsed = time.monotonic() - started
        return attempt


@pytest.fixture
def private_pg() -> Iterator[PrivateCluster]:
    cluster = PrivateCluster()
    try:
        cluster.init()
        yield cluster
    finally:
        cluster.remove()
