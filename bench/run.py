"""``make bench``: every benchmark, at every size, on SQLite and PostgreSQL, in one table.

Usage: .venv/bin/python bench/run.py [--sizes 10000,100000,1000000] [--postgres URL]
       [--duration 20] [--hotline-rows 100000] [--only intake,data,queue,...]
       [--reuse] [--update] [--write bench/RESULTS.md]

For each database and size, the data is made by the real command,
``flask demo-data --clues N`` (timed: that is the "data at scale" figure),
on a fresh database (SQLite under bench/.data/run/, or PostgreSQL, whose
tables are dropped), then the queue, dashboard and report benchmarks
measure it (bench_queue.py, bench_dashboard.py) and, at the largest size,
bench/explain.py records the query plans. Intake under gunicorn
(bench_intake.py), the hotline import and a 20 MB upload are measured once
per database. Each script runs in a process of its own and hands back its
figures as JSON; this one prints them as one table (figure, aim, value at
the largest size and at each size, ratio, met) and, with --write, writes
bench/RESULTS.md with the date, machine, commit and versions.

The figures are also kept in bench/.data/results-<sizes>.json. To measure
one part again: ``--only explain --reuse --update`` re-runs that part on the
data a previous run left (--reuse: no new data when a database already holds
the size) and keeps the other figures of the previous run (--update).

Benchmarks print; they assert nothing. Timings depend on what else the
machine does: the load average before and after is recorded beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
PYTHON = sys.executable
PARTS = ("intake", "data", "queue", "dashboard", "explain", "hotline", "upload")
sys.path.insert(0, str(BENCH))

from report import machine, table, write_results  # noqa: E402


def run_json(script: str, args: list[str], timeout: int = 7200) -> dict[str, Any]:
    """Run one benchmark script; its output goes through, its figures come back."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    try:
        print(f"\n$ {script} {' '.join(args)}", flush=True)
        completed = subprocess.run([PYTHON, str(BENCH / script), *args, "--json", str(out)],
                                   cwd=ROOT, timeout=timeout, check=False)
        if completed.returncode != 0 or not out.stat().st_size:
            print(f"  {script} failed (exit {completed.returncode})", flush=True)
            return {"failed": f"exit {completed.returncode}"}
        return dict(json.loads(out.read_text(encoding="utf-8")))
    finally:
        out.unlink(missing_ok=True)


def demo_environment(url: str, folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update({"JIDU_ENV": "development", "JIDU_DOTENV": "", "DATABASE_URL": url,
                "JIDU_INSTANCE_DIR": str(folder / "instance"),
                "JIDU_DATA_DIR": str(folder / "files"), "JIDU_SCRYPT_LOG2N": "14"})
    return env


SETUP = """
from pathlib import Path
from app import create_app, schema
from app.extensions import db
from app.services import keys
app = create_app()
with app.app_context():
    schema.rebuild(db.engine)
    keys.init_keys(db.session, passphrase="bench identity passphrase",
                   log2n=app.config["JIDU_SCRYPT_LOG2N"], actor="bench")
"""


def build(url: str, size: int, folder: Path) -> dict[str, Any]:
    """A fresh database filled by ``flask demo-data --clues size``; how long it took."""
    env = demo_environment(url, folder)
    subprocess.run([PYTHON, "-c", SETUP], cwd=ROOT, env=env, check=True)
    print(f"\n$ flask demo-data --clues {size}  ({url.split(':')[0]})", flush=True)
    started = time.perf_counter()
    completed = subprocess.run([str(Path(PYTHON).parent / "flask"), "--app", "wsgi",
                                "demo-data", "--clues", str(size)], cwd=ROOT, env=env,
                               capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    print(completed.stdout + completed.stderr, end="", flush=True)
    if completed.returncode != 0:
        return {"failed": completed.stderr.strip().splitlines()[-1:]}
    found: dict[str, Any] = {"seconds": seconds}
    for line in completed.stdout.splitlines():
        if match := re.match(r"clues created: \d+ in ([\d.]+) s", line):
            found["bulk_seconds"] = float(match.group(1))
        if match := re.match(r"daily roll-ups: \d+ days in ([\d.]+) s", line):
            found["rollup_seconds"] = float(match.group(1))
        if match := re.match(r"bulk: (\d+) events, (\d+) hotline orders, (\d+) disputes, "
                             r"(\d+) enforcement cases", line):
            found["rows"] = dict(zip(("events", "orders", "disputes", "cases"),
                                     map(int, match.groups()), strict=True))
    # The database as it settles after a load: on PostgreSQL autovacuum
    # vacuums and analyses a table that took a million inserts (the
    # visibility map lets counts read indexes alone); SQLite only when asked.
    subprocess.run([PYTHON, "-c", SETTLE], cwd=ROOT, env=env, check=True)
    return found


SETTLE = """
from sqlalchemy import text
from app import create_app
from app.extensions import db
app = create_app()
with app.app_context():
    postgres = db.engine.dialect.name == "postgresql"
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if postgres else "ANALYZE"))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_DATABASE_URL") or None,
                        help="PostgreSQL URL, its tables dropped (default: BENCH_DATABASE_URL)")
    parser.add_argument("--duration", type=int, default=20, help="seconds per intake target")
    parser.add_argument("--hotline-rows", type=int, default=None,
                        help="rows of the hotline import (default: 100,000, or the largest "
                             "size if smaller)")
    parser.add_argument("--only", default=",".join(PARTS),
                        help=f"some of: {','.join(PARTS)}")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the data a previous run left when it has the size")
    parser.add_argument("--update", action="store_true",
                        help="keep the previous run's figures for what is not run now")
    parser.add_argument("--write", type=Path, default=None, help="write RESULTS.md here")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    only = set(args.only.split(","))
    backends = [("sqlite", None)] + ([("postgresql", args.postgres)] if args.postgres else [])
    pg_args = ["--postgres", args.postgres] if args.postgres else []
    info = machine(args.postgres)
    print(f"bench: sizes {sizes}, databases {[b for b, _ in backends]}; "
          f"load average {info['load_before']}", flush=True)
    results: dict[str, Any] = {"sizes": sizes, "backends": [b for b, _ in backends],
                               "data": {}, "queue": {}, "dashboard": {}, "explain": {}}
    # One file per set of sizes: a quick round never mixes with the full run.
    saved = BENCH / ".data" / f"results-{'-'.join(map(str, sizes))}.json"
    if args.update and saved.exists():
        results = json.loads(saved.read_text(encoding="utf-8"))
        results["sizes"] = sorted(set(results["sizes"]) | set(sizes))
        results["backends"] = [b for b in ("sqlite", "postgresql")
                               if b in results["backends"] or b in dict(backends)]
    started = time.perf_counter()
    if "intake" in only:
        results["intake"] = run_json("bench_intake.py", [
            *pg_args, "--duration", str(args.duration)]).get("intake", {})
    folder = BENCH / ".data" / "run"
    for backend, url in backends:
        for size in sizes:
            key = f"{backend}:{size}"
            if url is None:
                folder.mkdir(parents=True, exist_ok=True)
                for stale in folder.glob(f"queue-{size}.sqlite3*"):
                    stale.unlink()
                target = f"sqlite:///{folder / f'queue-{size}.sqlite3'}"
                where = ["--data", str(folder)]
            else:
                target = url
                where = ["--no-sqlite", "--postgres", url, "--data", str(folder)]
            wanted = only & {"data", "queue", "dashboard"} or (
                only & {"explain"} if size == sizes[-1] else set())
            if wanted and not (args.reuse and "data" not in only and holds(target, size)):
                results["data"][key] = build(target, size, folder)
            common = ["--sizes", str(size), "--reuse", *where]
            if "queue" in only:
                results["queue"][key] = _one(run_json("bench_queue.py", common), "queue")
            if "dashboard" in only:
                results["dashboard"][key] = _one(run_json("bench_dashboard.py", common),
                                                 "dashboard")
            if "explain" in only and size == sizes[-1]:
                explain_args = (["--sqlite", str(folder / f"queue-{size}.sqlite3")]
                                if url is None else ["--postgres", url])
                results["explain"][backend] = run_json("explain.py", explain_args).get(
                    "explain", {}).get(backend, {})
            if url is None and size != sizes[-1] and not args.reuse:
                for done in folder.glob(f"queue-{size}.sqlite3*"):
                    done.unlink()  # only the largest is kept, for explain.py and --reuse
    if "hotline" in only:
        rows = args.hotline_rows or min(100_000, sizes[-1])
        results["hotline"] = run_json("bench_hotline_import.py", [
            "--rows", str(rows), "--workers", "2", *pg_args]).get("hotline_import", [])
    if "upload" in only:
        results["upload"] = run_json("bench_upload.py", []).get("upload", [])
    info["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    info["minutes"] = (time.perf_counter() - started) / 60
    # Which run measured which parts: with --update, not all figures are from this one.
    runs = [r for r in results.get("runs", []) if not set(r["parts"]) <= only]
    results["runs"] = [*runs, {"parts": sorted(only, key=PARTS.index), "date": info["date"],
                               "minutes": round(info["minutes"], 1),
                               "load": f"{info['load_before']} → {info['load_after']}",
                               "commit": info["commit"]}]
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps(results, ensure_ascii=False), encoding="utf-8")
    rows = table(results)
    print("\n" + "\n".join(rows["text"]))
    if args.write:
        write_results(args.write, info, results, rows)
        print(f"\nwrote {args.write}")


def holds(url: str, size: int) -> bool:
    """Whether the database already holds ``size`` clues (demo-data adds a few dozen)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return False
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            found = connection.scalar(text("SELECT count(*) FROM clues")) or 0
    except SQLAlchemyError:
        return False
    finally:
        engine.dispose()
    return size <= found <= size + 1000


def _one(found: dict[str, Any], name: str) -> dict[str, Any]:
    entries = found.get(name) or []
    return dict(entries[0]["figures"]) if entries else {"failed": found.get("failed", "no data")}


if __name__ == "__main__":
    main()
