"""Enforcement case import throughput: rows per second at 100,000 rows.

Usage: .venv/bin/python bench/bench_cases_import.py [--rows 100000] [--postgres URL]

Writes a CSV of the sample's rows with fresh case numbers, imports it through
the same service as ``flask cases import`` into a fresh database, then imports
it again (every row unchanged). Aim (issue 5): more than 5,000 rows per second.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import create_app, schema  # noqa: E402
from app.extensions import db  # noqa: E402
from app.services import cases  # noqa: E402
from app.timeutil import utcnow  # noqa: E402
from config import TestingConfig  # noqa: E402


def write_rows(path: Path, rows: int) -> None:
    sample = list(csv.reader((ROOT / "tests" / "data" / "cases_sample.csv").open(
        encoding="utf-8")))
    rng = random.Random(5)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(sample[0])
        for i in range(rows):
            row = list(rng.choice(sample[1:]))
            row[0] = f"BENCH-{i:07d}"
            writer.writerow(row)


def run(url: str, path: Path, rows: int, folder: Path) -> None:
    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url
        INSTANCE_DIR = folder / "instance"
        JIDU_DATA_DIR = folder / "files"

    app = create_app(Config)
    with app.app_context():
        schema.rebuild(db.engine)
        for label in ("first import", "re-import"):
            started = time.perf_counter()
            result = cases.import_file(db.session, path, now=utcnow(), actor="bench")
            elapsed = time.perf_counter() - started
            print(f"{url.split(':')[0]:>10} {label:>12}: {result.imported} rows "
                  f"(new {result.inserted}, unchanged {result.unchanged}) in {elapsed:.1f} s "
                  f"= {rows / elapsed:,.0f} rows/s")
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgres", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "cases.csv"
        write_rows(path, args.rows)
        run(f"sqlite:///{folder / 'bench.sqlite3'}", path, args.rows, folder)
        if args.postgres:
            run(args.postgres, path, args.rows, folder)


if __name__ == "__main__":
    main()
