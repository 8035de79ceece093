"""Intake under load: the JSON API and the HTML form against a trivial route, under gunicorn.

Usage: .venv/bin/python bench/bench_intake.py [--postgres URL] [--no-sqlite]
       [--duration 20] [--connections 32] [--json FILE]

For each database (a fresh SQLite file in WAL mode; PostgreSQL when given,
its tables dropped) this starts gunicorn with deploy/gunicorn.conf.py as
production runs it (JIDU_ENV=production, the workers and threads of that
file unless JIDU_WEB_WORKERS / JIDU_WEB_THREADS say otherwise) on a loopback
port, serving bench/wsgi_bench.py: the real app plus GET /bench/ping, a
trivial route through the same server and hooks, the framework's ceiling.
One setting differs: workers are not recycled after 2,000 requests
(max_requests), which at the ceiling's rate would restart each worker every
few seconds and measure Python start-up instead of requests.
An identity key, an open campaign and an API token are made with the real
commands. Then wrk (bench/wrk_intake.lua) drives, one after the other with
the same connections and duration, after a short warm-up each:

- the ceiling: GET /bench/ping;
- the floor of a durable write: POST /bench/write, an API-sized JSON body
  stored as one row and committed (no validation, no sealing);
- the API: POST /api/v1/clues, JSON, half of them real-name (sealed);
- the form: POST /report as a browser that loaded the form once (its
  session cookie and CSRF token) sends it, each time with a new one-time
  nonce, so that every request is a real submission (answered 302, to the
  receipt page).

Only the expected answers (200, 201, 302) count; anything else is reported
as an error, and the clues stored are counted against them afterwards. The
workers' CPU time per answered request is read from /proc too: on a shared
machine it says what the rates would be limited by on an idle one (with
PostgreSQL, the database's own work is not in it). Rate
limits are raised for the run through their settings (JIDU_LIMIT_*): one
address and one session send everything here. Aims (issue 7): the API at
least 40 % of the ceiling, the form 30 %, p99 under 100 ms at 32 connections.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import runpy
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
LUA = ROOT / "bench" / "wrk_intake.lua"
EXPECTED = {"ping": 200, "write": 201, "api": 201, "form": 302}
# Far above what one client can send in a run; the limits' own cost stays in.
RAISED_LIMIT = "10000000 per minute"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(url: str, folder: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update({
        "JIDU_ENV": "production", "JIDU_DOTENV": "",
        "SECRET_KEY": secrets.token_urlsafe(48), "JIDU_RECEIPT_KEY": secrets.token_urlsafe(48),
        "JIDU_BASE_URL": f"http://127.0.0.1:{port}", "DATABASE_URL": url,
        "JIDU_INSTANCE_DIR": str(folder / "instance"), "JIDU_DATA_DIR": str(folder / "data"),
        "JIDU_EXPORT_IN_PROCESS": "false", "JIDU_WEB_BIND": f"127.0.0.1:{port}",
        "JIDU_WEB_ACCESS_LOG": str(folder / "access.log"),
        "JIDU_WEB_ERROR_LOG": str(folder / "error.log"),
        "JIDU_LIMIT_SUBMIT_ADDRESS": RAISED_LIMIT, "JIDU_LIMIT_SUBMIT_SESSION": RAISED_LIMIT,
        "JIDU_LIMIT_API_TOKEN": RAISED_LIMIT,
    })
    return env


def setup_database() -> None:
    """In a child process with the bench's environment: schema, key, campaign, token."""
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import text

    from app import create_app, schema
    from app.extensions import db

    app = create_app()
    with app.app_context():
        schema.rebuild(db.engine)
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS bench_writes"))  # wsgi_bench.py's
        db.session.remove()
    passphrase = Path(app.instance_path) / "bench-passphrase.txt"
    passphrase.write_text(secrets.token_urlsafe(24) + "\n", encoding="utf-8")
    now = datetime.now(UTC)
    runner = app.test_cli_runner()
    for args in (["keys", "init", "--passphrase-file", str(passphrase)],
                 ["campaigns", "create", "--slug", "bench", "--title", "压力测试征集",
                  "--opens", (now - timedelta(days=1)).isoformat(),
                  "--deadline", (now + timedelta(days=30)).isoformat()],
                 ["tokens", "create", "--channel", "app", "--name", "bench"]):
        result = runner.invoke(args=args)
        if result.exit_code != 0:
            raise SystemExit(f"{' '.join(args[:2])} failed: {result.output}")
    print(result.output.strip().splitlines()[-1])


@contextmanager
def server(url: str, folder: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """gunicorn serving bench/wsgi_bench.py on a fresh database; yields (base URL, env)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    port = free_port()
    env = environment(url, folder, port)
    setup = subprocess.run([sys.executable, __file__, "--setup"], env=env, cwd=ROOT,
                           capture_output=True, text=True, check=False)
    if setup.returncode != 0:
        raise SystemExit(f"set-up failed:\n{setup.stdout}{setup.stderr}")
    env["BENCH_TOKEN"] = setup.stdout.strip().splitlines()[-1]
    log = (folder / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--config", str(ROOT / "deploy" / "gunicorn.conf.py"),
         "--max-requests", "0", "--pythonpath", str(ROOT / "bench"), "wsgi_bench:app"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            if process.poll() is not None:
                raise SystemExit(f"gunicorn stopped: see {folder / 'gunicorn.log'} and "
                                 f"{folder / 'error.log'}")
            try:
                if get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            raise SystemExit("gunicorn did not answer /healthz within a minute")
        env["BENCH_GUNICORN_PID"] = str(process.pid)
        yield base, env
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def get(port: int, path: str) -> tuple[int, dict[str, str], str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        headers = {k.lower(): v for k, v in answer.getheaders()}
        return answer.status, headers, answer.read().decode()
    finally:
        connection.close()


def browser_session(base: str) -> tuple[str, str]:
    """What a browser holds after loading the form: its session cookie and CSRF token."""
    port = int(base.rsplit(":", 1)[1])
    status, headers, page = get(port, "/report")
    field = re.search(r'<input[^>]*name="csrf_token"[^>]*>', page)
    value = re.search(r'value="([^"]+)"', field.group(0)) if field else None
    cookie = headers.get("set-cookie", "").split(";", 1)[0]
    if status != 200 or value is None or not cookie:
        raise SystemExit(f"GET /report gave {status} without a CSRF token and session cookie")
    return cookie, value.group(1)


def wrk(base: str, mode: str, args: list[str], *, seconds: int,
        connections: int) -> dict[str, Any]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
               "-s", str(LUA), base, "--", mode, *args]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(x for x in output.splitlines() if x.startswith("WRK_RESULT "))
    raw = json.loads(line.split(" ", 1)[1])
    seconds_run = raw["duration_us"] / 1e6
    ok = int(raw["statuses"].get(str(EXPECTED[mode]), 0))
    other = {k: v for k, v in raw["statuses"].items() if k != str(EXPECTED[mode])}
    return {"rps": ok / seconds_run, "ok": ok, "p50_ms": raw["p50_us"] / 1000,
            "p99_ms": raw["p99_us"] / 1000, "max_ms": raw["max_us"] / 1000,
            "other_statuses": other, "socket_errors": raw["errors"],
            "errors": sum(other.values()) + sum(raw["errors"].values())}


def workers_cpu(master: int) -> float:
    """Seconds of CPU the gunicorn workers (the master's children) have used."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for children in Path(f"/proc/{master}/task").glob("*/children"):
        for pid in children.read_text().split():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # a worker that just exited
                continue
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def stored(url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT channel, count(*) FROM clues GROUP BY channel"))
        counts = {str(channel): int(n) for channel, n in rows}
    engine.dispose()
    return counts


def gunicorn_settings(env: dict[str, str]) -> tuple[int, int]:
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        conf = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return int(conf["workers"]), int(conf["threads"])


def measure(url: str, folder: Path, *, seconds: int, connections: int) -> dict[str, Any]:
    with server(url, folder) as (base, env):
        workers, threads = gunicorn_settings(env)
        cookie, csrf = browser_session(base)
        plans = {"ping": [], "write": [], "api": [env["BENCH_TOKEN"]], "form": [cookie, csrf]}
        result: dict[str, Any] = {"workers": workers, "threads": threads,
                                  "connections": connections, "seconds": seconds}
        master = int(env["BENCH_GUNICORN_PID"])
        for mode, args in plans.items():
            warm = wrk(base, mode, args, seconds=3, connections=connections)
            before = workers_cpu(master)
            result[mode] = wrk(base, mode, args, seconds=seconds, connections=connections)
            spent = workers_cpu(master) - before
            result[mode]["answered_in_all"] = warm["ok"] + result[mode]["ok"]
            # The workers' own CPU time per answered request: what the figures
            # would be limited by on an idle machine, whatever else ran here.
            result[mode]["cpu_ms"] = 1000 * spent / max(result[mode]["ok"], 1)
        counts = stored(url)
        for mode, channel in (("write", None), ("api", "app"), ("form", "web")):
            result[mode]["ratio"] = result[mode]["rps"] / max(result["ping"]["rps"], 1e-9)
            result[mode]["cpu_ratio"] = result["ping"]["cpu_ms"] / max(result[mode]["cpu_ms"],
                                                                       1e-9)
            if channel is None:
                continue
            # Every 201 or 302 answered (warm-up included) should be a stored clue.
            result[mode]["stored"] = counts.get(channel, 0)
    return result


def report(results: dict[str, dict[str, Any]]) -> None:
    for backend, result in results.items():
        print(f"\n{backend}: gunicorn {result['workers']} workers × {result['threads']} "
              f"threads, {result['connections']} connections, {result['seconds']} s each")
        print(f"  {'target':<24}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'of ceiling':>12}"
              f"{'errors':>8}{'CPU ms/req':>12}")
        names = {"ping": "GET /bench/ping", "write": "POST /bench/write",
                 "api": "POST /api/v1/clues", "form": "POST /report"}
        for mode, name in names.items():
            row = result[mode]
            share = f"{row['ratio']:.0%}" if "ratio" in row else "—"
            print(f"  {name:<24}{row['rps']:9.0f}{row['p50_ms']:9.1f}{row['p99_ms']:9.1f}"
                  f"{share:>12}{row['errors']:8d}{row['cpu_ms']:12.2f}")
        for mode in ("api", "form"):
            row = result[mode]
            print(f"  {names[mode]}: {row['answered_in_all']} answered as stored (warm-up "
                  f"included), {row['stored']} clues in the database (the difference: "
                  f"requests still in flight when wrk stopped, at most 2 × "
                  f"{result['connections']}); other answers: "
                  f"{row['other_statuses'] or 'none'}, socket errors: {row['socket_errors']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--postgres", default=None, help="PostgreSQL URL (tables are dropped)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--duration", type=int, default=20, help="seconds per target")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()
    if args.setup:
        setup_database()
        return
    data = ROOT / "bench" / ".data"
    results: dict[str, Any] = {}
    if shutil.which("wrk") is None:
        print("wrk not found: apt-get install wrk (intake not measured)")
        results = {"missing": "wrk not found: apt-get install wrk"}
    else:
        backends = [] if args.no_sqlite else [
            ("sqlite", f"sqlite:///{data / 'intake-sqlite' / 'intake.sqlite3'}")]
        if args.postgres:
            backends.append(("postgresql", args.postgres))
        for name, url in backends:
            print(f"{name}: measuring ({3 * (args.duration + 3)} s)…", flush=True)
            results[name] = measure(url, data / f"intake-{name}", seconds=args.duration,
                                    connections=args.connections)
        report(results)
    if args.json:
        args.json.write_text(json.dumps({"intake": results}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
