"""The scenario page and the theme series of early warning at growing sizes.

Usage: .venv/bin/python bench/bench_scenarios.py [--sizes 100000,1000000] [--cases 100000]
       [--postgres URL] [--reuse]

Each size is built once in a scratch database (bench/.data/ for SQLite, or
the given PostgreSQL database, whose tables are dropped): bulk demo clues
spread over the last 365 days (app/services/bulk.py; about 4 in 10 of their
stories are about lodging, so that the hotel scenario's scope keeps that
share), and ``--cases`` synthetic enforcement cases over the same year; then
the daily roll-ups are rebuilt (timed once), with the shipped scenario
(app/data/scenarios.json) as the configured file. Timed once: the theme-only
recount of every day after a change of the rules. Then, through the same
service calls as the console and ``warnings scan``, 5 runs each, median and
slowest in milliseconds:

- the scenario page's table for the last 12 months, roll-ups current;
- the same after a new clue today (its day recomputed first, as on the page);
- the theme series of early warning over its history window (HISTORY_DAYS);
- the category, district and agency series over the same window.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, func, select, text  # noqa: E402

from app import create_app, schema  # noqa: E402
from app.context import intake_keys, scenario_set  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import CaseType, Clue, DailyStat, Dimension, EnforcementCase  # noqa: E402
from app.services import (  # noqa: E402
    bulk,
    cases,
    rollup,
    scenario_table,
    theme_rollup,
    warnings,
)
from app.timeutil import local_today, utcnow  # noqa: E402
from app.web.review.scenarios import period  # noqa: E402
from config import TestingConfig  # noqa: E402

REPEATS = 5
DOMAINS = ["食品安全", "旅游市场", "价格监管", "广告监管", "消防安全", "公共卫生", "治安管理",
           "城市管理", "道路运输", "渔业安全", "特种设备", "安全生产"]
AGENCIES = ["普陀区市场监督管理局沈家门所", "嵊泗县文化和广电旅游体育局", "普陀区消防救援大队",
            "普陀区公安分局沈家门派出所", "岱山县卫生健康局", "定海区综合行政执法局"]


def build(url: str, size: int, n_cases: int, data: Path, reuse: bool) -> object:
    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url
        INSTANCE_DIR = data / "instance"
        JIDU_DATA_DIR = data / "files"

    app = create_app(Config)
    with app.app_context():
        if reuse and _count(Clue) == size and _count(EnforcementCase) == n_cases:
            print(f"  reusing {size:,} clues and {n_cases:,} cases", flush=True)
            if _count(DailyStat) <= 0:
                _rebuild()
            return app
        schema.rebuild(db.engine)
        started = time.monotonic()
        now = utcnow()
        bulk.bulk_clues(db.session, size, keys=intake_keys(), now=now, batch=20_000,
                        real_name_share=0.0)
        rng = random.Random(3)
        today = local_today(now)
        records = [cases.CaseRecord(
            f"BENCH-{i:08d}", rng.choice(AGENCIES), None, "putuo", rng.choice(DOMAINS),
            rng.choice(list(CaseType)), today - timedelta(days=rng.randrange(365)), None)
            for i in range(n_cases)]
        cases.import_records(db.session, records, now=now, result=cases.ImportResult(),
                             batch_size=10_000)
        # VACUUM as autovacuum would soon: PostgreSQL answers the month counts of
        # the cache from the index alone only once the visibility map is set.
        vacuum = "VACUUM ANALYZE" if db.engine.dialect.name == "postgresql" else "ANALYZE"
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(vacuum))
        print(f"  built {size:,} clues and {n_cases:,} cases in "
              f"{time.monotonic() - started:.0f} s", flush=True)
        _rebuild()
    return app


def _rebuild() -> None:
    started = time.monotonic()
    days = rollup.rebuild(db.session)
    print(f"  roll-ups rebuilt ({days} days) in {time.monotonic() - started:.1f} s", flush=True)


def _count(model: type) -> int:
    try:
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)
    except Exception:  # no such table yet
        return -1
    finally:
        db.session.rollback()


def timed(call: object) -> tuple[float, float]:
    samples = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        call()  # type: ignore[operator]
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), max(samples)


def measure(app: object) -> dict[str, tuple[float, float]]:
    with app.app_context():  # type: ignore[attr-defined]
        themes = scenario_set()
        scenario = themes.get("hotel_homestay")
        assert scenario is not None
        today = local_today()
        start, end, _error = period({}, today)
        rollup.refresh_all(db.session)
        # As after an edit of the scenario file: every day's theme rows are stale.
        db.session.execute(delete(DailyStat).where(
            DailyStat.dimension == theme_rollup.THEME_VER))
        db.session.commit()
        started = time.monotonic()
        days = rollup.refresh_all(db.session)
        print(f"  themes recounted ({days} days) in {time.monotonic() - started:.1f} s",
              flush=True)
        result = scenario_table.table(db.session, scenario, start=start, end=end)
        print(f"  12 months: {result.in_scope_total:,} clues in scope, "
              f"{result.any_theme.total.complaints:,} in a theme, "
              f"{result.any_theme.total.cases:,} cases in a theme", flush=True)
        first = today - timedelta(days=warnings.HISTORY_DAYS)

        def after_a_new_clue() -> None:
            rollup.mark(db.session, [today])
            db.session.commit()
            scenario_table.table(db.session, scenario, start=start, end=end)

        def other_series() -> None:
            for dimension in warnings.COLUMNS:
                warnings.daily_counts(db.session, Dimension(dimension), first, today)

        return {
            "scenario page, 12 months": timed(lambda: scenario_table.table(
                db.session, scenario, start=start, end=end)),
            "the same, today's day recomputed first": timed(after_a_new_clue),
            "theme series, scan window": timed(lambda: warnings.theme_daily_counts(
                db.session, themes, first, today)),
            "category/district/agency series": timed(other_series),
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--postgres", default=None, help="PostgreSQL URL (tables are dropped)")
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    data = ROOT / "bench" / ".data"
    data.mkdir(parents=True, exist_ok=True)
    backends = [("sqlite", None)] + ([("postgresql", args.postgres)] if args.postgres else [])
    results = {}
    for name, url in backends:
        for size in (int(s) for s in args.sizes.split(",")):
            print(f"{name} {size:,}:", flush=True)
            path = data / f"scenarios-{size}.sqlite3"
            if url is None and not args.reuse:
                for stale in data.glob(path.name + "*"):
                    stale.unlink()
            app = build(url or f"sqlite:///{path}", size, args.cases, data, args.reuse)
            results[(name, size)] = measure(app)
    print()
    print("| query | " + " | ".join(f"{n} {s:,}" for n, s in results) + " |")
    print("|---|" + "---|" * len(results))
    for query in next(iter(results.values())):
        print(f"| {query} | " + " | ".join(
            f"{r[query][0]:.0f} / {r[query][1]:.0f}" for r in results.values()) + " |")


if __name__ == "__main__":
    main()
