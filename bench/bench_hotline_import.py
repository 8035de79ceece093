"""Hotline import throughput: rows per second for a day's export, and at 100,000 rows.

Usage: .venv/bin/python bench/bench_hotline_import.py [--rows 100000] [--postgres URL]
       [--workers 1,2] [--json FILE]

Writes a synthetic export in the hotline's own columns (tests/hotline_data.py:
about 30 % enforcement-related, 2 % disputed, every row with a caller to
seal), imports it through the same service as ``flask hotline import`` into a
fresh database, and prints rows per second. Aim (issue 5): at least 5,000
rows per second for 100,000 orders on this machine (2 cores).
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from app import create_app, schema  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Clue, HotlineOrder  # noqa: E402
from app.services import hotline_import, keys  # noqa: E402
from app.timeutil import utcnow  # noqa: E402
from config import TestingConfig  # noqa: E402
from tests import hotline_data  # noqa: E402


def run(url: str, rows: int, folder: Path, workers: int) -> float:
    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url
        INSTANCE_DIR = folder / "instance"
        JIDU_DATA_DIR = folder / "files"

    app = create_app(Config)
    path = hotline_data.write_csv(folder / "export.csv", hotline_data.rows(rows))
    with app.app_context():
        schema.rebuild(db.engine)
        keys.init_keys(db.session, passphrase=secrets.token_urlsafe(16), log2n=10,
                       actor="bench")
        started = time.perf_counter()
        with path.open("rb") as stream:
            report = hotline_import.import_file(
                db.session, str(path), stream, overrides=None,
                public_key=keys.active_public_key(db.session),
                receipt_key=app.config["JIDU_RECEIPT_KEY"], now=utcnow(), actor="bench",
                workers=workers)
        seconds = time.perf_counter() - started
        stored = db.session.scalar(select(func.count(HotlineOrder.id)))
        clues = db.session.scalar(select(func.count(Clue.id)))
        db.session.remove()
        db.engine.dispose()
    print(f"  {url.split(':')[0]:<22} workers {workers}  {rows:>8,} rows  {seconds:6.1f} s  "
          f"{rows / seconds:7,.0f} rows/s  (orders {stored:,}, clues {clues:,}, "
          f"disputes {report.disputed:,}, refused {len(report.rejected)})", flush=True)
    return rows / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgres", help="also run on this PostgreSQL database (it is reset)")
    parser.add_argument("--workers", default="1,2", help="worker processes to try, e.g. 1,2")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()
    found = []
    for workers in [int(w) for w in args.workers.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            for backend, url in [("sqlite", f"sqlite:///{folder / 'bench.sqlite3'}")] + (
                    [("postgresql", args.postgres)] if args.postgres else []):
                found.append({"backend": backend, "workers": workers, "rows": args.rows,
                              "rows_per_s": run(url, args.rows, folder, workers)})
    if args.json:
        args.json.write_text(json.dumps({"hotline_import": found}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
