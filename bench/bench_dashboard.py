"""Dashboard and monthly report at growing sizes (issue 6: aims 300 ms and 3 s).

Usage: .venv/bin/python bench/bench_dashboard.py [--sizes 10000,100000,1000000]
       [--postgres URL] [--no-sqlite] [--reuse] [--data DIR] [--json FILE]

The clues are built as bench_queue.py builds them (and shared with it under
bench/.data/ on SQLite: --reuse measures what a previous run of either left).
Then the daily roll-ups are rebuilt once (timed), and each figure is the
median of several runs through the real doors: the dashboard page over HTTP
(the Flask test client, signed in), one chart drawn afresh and from its
cache, the monthly report built and written (HTML with its charts, and
XLSX), and the refresh of one day after a change.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pyotp  # noqa: E402
from bench_queue import build  # noqa: E402

from app.extensions import db  # noqa: E402
from app.services import charts, people, reports, rollup  # noqa: E402
from app.timeutil import local_today, utcnow  # noqa: E402

REPEATS = 7
PASSWORD = secrets.token_urlsafe(16)


def median_ms(call: object, repeats: int = REPEATS) -> float:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()  # type: ignore[operator]
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def measure(app: object, data: Path) -> dict[str, float]:
    results: dict[str, float] = {}
    with app.app_context():  # type: ignore[attr-defined]
        started = time.perf_counter()
        rollup.rebuild(db.session)
        results["roll-up rebuild (s)"] = time.perf_counter() - started
        name = f"bench{time.time_ns()}"  # a reused database keeps earlier runs' users
        _user, secret = people.create_user(db.session, username=name, role="analyst",
                                           password=PASSWORD, actor="bench")
    app.config["WTF_CSRF_ENABLED"] = False  # type: ignore[attr-defined]
    client = app.test_client()  # type: ignore[attr-defined]
    client.post("/review/login", data={"username": name, "password": PASSWORD,
                                       "otp": pyotp.TOTP(secret).now()})
    today = local_today()
    month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    year = f"from={(today - timedelta(days=364)).isoformat()}&to={today.isoformat()}"

    def page(query: str = "") -> None:
        response = client.get(f"/review/dashboard?{query}")
        assert response.status_code == 200, response.status_code

    def chart(query: str, cold: bool) -> None:
        if cold:
            charts.bars.cache_clear()
        assert client.get(f"/review/dashboard/chart/agency.svg?{query}").status_code == 200

    page()  # the first view imports and warms up
    results["dashboard, 30 days (ms)"] = median_ms(page)
    results["dashboard, 365 days (ms)"] = median_ms(lambda: page(year))
    results["one chart, drawn (ms)"] = median_ms(lambda: chart(year, True))
    results["one chart, cached (ms)"] = median_ms(lambda: chart(year, False))
    with app.app_context():  # type: ignore[attr-defined]
        def monthly() -> None:
            charts.bars.cache_clear()
            charts.daily.cache_clear()
            period, label = reports.period_for("monthly", month)
            report = reports.build(db.session, "monthly", period, label, now=utcnow())
            with app.test_request_context():  # type: ignore[attr-defined]
                reports.write(report, data / "files")

        results["monthly report (ms)"] = median_ms(monthly, 5)

        def one_day() -> None:
            rollup.mark(db.session, [today])
            db.session.commit()
            rollup.refresh(db.session)

        results["refresh one day (ms)"] = median_ms(one_day)
    return results


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
    results: dict[tuple[str, int], dict[str, float]] = {}
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
            results[(name, size)] = measure(build(target, size, data, args.reuse), data)
    print()
    print(f"{'figure':<26}" + "".join(f"{n[:6]} {s:>9,}".rjust(18) for n, s in results))
    for figure in next(iter(results.values())):
        print(f"{figure:<26}" + "".join(f"{r[figure]:18.1f}" for r in results.values()))
    print("\n(medians; aims: dashboard < 300 ms and monthly report < 3,000 ms at 1,000,000)")
    if args.json:
        args.json.write_text(json.dumps({"dashboard": [
            {"backend": name, "size": size, "figures": figures}
            for (name, size), figures in results.items()]}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
