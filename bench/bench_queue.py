"""Queue latency at growing sizes: first page, deep page, filtered page, free text.

Usage: .venv/bin/python bench/bench_queue.py [--sizes 10000,100000,1000000] [--postgres URL]
       [--no-sqlite] [--reuse] [--data DIR] [--json FILE]

Each size is built once (bulk demo data, as ``flask demo-data`` makes it) in
a scratch database under bench/.data/ (SQLite) or the given PostgreSQL
database (its tables are dropped and recreated), then every query is run 25
times through the same service the console uses; the table shows the median
and the 90th percentile in milliseconds. Aims (issues 3 and 7): under 50 ms
median for pages at 1,000,000 clues, filtered or not, first or deep, and
flat from 10,000 up; 300 ms for free text.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from app import create_app, schema  # noqa: E402
from app.context import intake_keys  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Clue  # noqa: E402
from app.services import bulk, queue  # noqa: E402
from app.timeutil import utcnow  # noqa: E402
from config import TestingConfig  # noqa: E402

REPEATS = 25


def build(url: str, size: int, data: Path, reuse: bool = False) -> object:
    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url
        INSTANCE_DIR = data / "instance"
        JIDU_DATA_DIR = data / "files"

    app = create_app(Config)
    with app.app_context():
        if reuse and _has_clues(size):
            print(f"  reusing {size:,} clues", flush=True)
            return app
        schema.rebuild(db.engine)
        started = time.monotonic()
        bulk.fill(db.session, size, keys=intake_keys(), now=utcnow())
        # Settled as after autovacuum on PostgreSQL (bench/run.py does the same).
        postgres = db.engine.dialect.name == "postgresql"
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE" if postgres else "ANALYZE"))
        print(f"  built {size:,} clues in {time.monotonic() - started:.0f} s", flush=True)
    return app


def _has_clues(size: int) -> bool:
    try:
        found = db.session.scalar(text("SELECT count(*) FROM clues")) or 0
        # `flask demo-data` adds the clues of its sample hotline day to the N asked for.
        return size <= found <= size + 1000
    except Exception:  # no such table yet
        return False
    finally:
        # End the read: on PostgreSQL it would hold a lock that a rebuild waits for.
        db.session.rollback()


def timed(call: object) -> tuple[float, float]:
    samples = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        call()  # type: ignore[operator]
        samples.append((time.perf_counter() - started) * 1000)
        db.session.expunge_all()
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.9) - 1]


def measure(app: object) -> dict[str, tuple[float, float]]:
    now = utcnow()
    with app.app_context():  # type: ignore[attr-defined]
        middle = db.session.scalar(select(Clue).order_by(Clue.created_at).offset(
            db.session.scalar(text("SELECT count(*) / 2 FROM clues"))).limit(1))
        deep = queue.encode_cursor(middle, "newest")
        filtered = queue.Filters(status="investigating", colour="red", district="putuo")
        matching = select(Clue).where(Clue.status == "investigating", Clue.colour == "red",
                                      Clue.district_code == "putuo")
        half = (db.session.scalar(select(func.count()).select_from(matching.subquery())) or 0) // 2
        filtered_middle = db.session.scalar(matching.order_by(Clue.created_at).offset(half)
                                            .limit(1))
        filtered_deep = queue.encode_cursor(filtered_middle, "newest") if filtered_middle else None
        return {
            "first page": timed(lambda: queue.list_clues(db.session, queue.Filters(), now=now)),
            "deep page": timed(lambda: queue.list_clues(db.session, queue.Filters(), now=now,
                                                        cursor=deep)),
            "filtered page": timed(lambda: queue.list_clues(db.session, filtered, now=now)),
            "filtered deep page": timed(lambda: queue.list_clues(db.session, filtered, now=now,
                                                                 cursor=filtered_deep)),
            "overdue, by due": timed(lambda: queue.list_clues(
                db.session, queue.Filters(overdue=True), now=now, sort="due")),
            "free text": timed(lambda: queue.list_clues(
                db.session, queue.Filters(text="民宿消防设施"), now=now)),
            "free text, rare": timed(lambda: queue.list_clues(
                db.session, queue.Filters(text="冷库安全生产"), now=now - timedelta(0))),
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--postgres", default=None, help="PostgreSQL URL (tables are dropped)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the data a previous run left, if it has the size")
    parser.add_argument("--data", type=Path, default=ROOT / "bench" / ".data",
                        help="where the SQLite files are (queue-<size>.sqlite3)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()
    data = args.data
    data.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict[tuple[str, int], dict[str, tuple[float, float]]] = {}
    backends = ([] if args.no_sqlite else [("sqlite", None)]) + (
        [("postgresql", args.postgres)] if args.postgres else [])
    for name, url in backends:
        for size in sizes:
            print(f"{name} {size:,}:", flush=True)
            path = data / f"queue-{size}.sqlite3"
            if url is None and not args.reuse:
                for stale in data.glob(path.name + "*"):
                    stale.unlink()
            target = url or f"sqlite:///{path}"
            results[(name, size)] = measure(build(target, size, data, args.reuse))
    print()
    print(f"{'query':<18}" + "".join(f"{n[:6]} {s:>9,}".rjust(24) for n, s in results))
    for query in next(iter(results.values())):
        cells = "".join(f"{r[query][0]:8.1f} / {r[query][1]:6.1f} ms".rjust(24)
                        for r in results.values())
        print(f"{query:<18}{cells}")
    print("\n(each cell: median / 90th percentile over 25 runs)")
    if args.json:
        args.json.write_text(json.dumps({"queue": [
            {"backend": name, "size": size, "figures": figures}
            for (name, size), figures in results.items()]}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
