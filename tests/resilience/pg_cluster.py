"""A PostgreSQL cluster of a test's own, to be stopped hard and started again."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.conftest import skip_or_fail
from tests.deploy.conftest import free_port


class PrivateCluster:
    """A PostgreSQL cluster of this test's own (initdb in a temporary folder, its own port).

    Never the shared server: this one is stopped hard and restarted. As root
    the server runs as the ``postgres`` user (PostgreSQL refuses root).
    """

    def __init__(self) -> None:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                       key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
        if not found:
            skip_or_fail("PostgreSQL's server programs are missing (apt-get install "
                         "postgresql): the restart test not run")
        self.bin = found[-1].parent
        self.as_user: list[str] = []
        owner = None
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                skip_or_fail("no postgres user to run a private cluster as")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.root = Path(tempfile.mkdtemp(prefix="jidu-pg-"))
        if owner is not None:
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self.data = self.root / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/jidu"

    def run(self, program: str, *args: str, timeout: float = 120) -> str:
        result = subprocess.run([*self.as_user, str(self.bin / program), *args],
                                capture_output=True, text=True, timeout=timeout, check=False)
        if result.returncode != 0:
            pytest.fail(f"{program} {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
                        f"\n{self.log()}")
        return result.stdout

    def init(self) -> None:
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                 "-E", "UTF8", "--locale=C", "--no-sync")
        self.start()
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "jidu")

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 "
                   f"-c unix_socket_directories={self.root}")
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"),
                 "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data),
                            "-m", "immediate", "-w", "stop"],
                           capture_output=True, timeout=60, check=False)
        shutil.rmtree(self.root, ignore_errors=True)

