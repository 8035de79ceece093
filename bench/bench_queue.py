"""Queue latency at growing sizes: first page, deep page, filtered page, free text.

Usage: .venv/bin/python bench/bench_queue.py [--sizes 10000,100000,1000000] [--postgres URL]
       [--reuse]

Each size is built once (bulk demo data) in a scratch database under
bench/.data/ (SQLite) or the given PostgreSQL database (its tables are
dropped and recreated), then every query is run 25 times through the same
service the console uses; the table shows the median and the 90th percentile
in milliseconds. Aim (issue 3): under 50 ms median for pages, 300 ms for text.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select, text  # noqa: E402

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
        bulk.bulk_clues(db.session, size, keys=intake_keys(), now=utcnow(), batch=20_000)
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        print(f"  built {size:,} clues in {time.monotonic() - started:.0f} s", flush=True)
    return app


def _has_clues(size: int) -> bool:
    try:
        return db.session.scalar(text("SELECT count(*) FROM clues")) == size
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
        return {
            "first page": timed(lambda: queue.list_clues(db.session, queue.Filters(), now=now)),
            "deep page": timed(lambda: queue.list_clues(db.session, queue.Filters(), now=now,
                                                        cursor=deep)),
            "filtered page": timed(lambda: queue.list_clues(db.session, filtered, now=now)),
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
    parser.add_argument("--reuse", action="store_true",
                        help="measure the data a previous run left, if it has the size")
    args = parser.parse_args()
    data = ROOT / "bench" / ".data"
    data.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict[tuple[str, int], dict[str, tuple[float, float]]] = {}
    backends = [("sqlite", None)] + ([("postgresql", args.postgres)] if args.postgres else [])
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


if __name__ == "__main__":
    main()
