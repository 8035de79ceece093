"""The query plans behind every console list, filter and report, on a large database.

Usage: .venv/bin/python bench/explain.py [--sqlite FILE] [--postgres URL] [--json FILE]
       [--verbose]

Runs each scenario through the same service call the console makes (queue
pages and filters, free text, the dashboard's roll-up totals and due-now
counts, the figures of a monthly report) or, for the console's other lists,
through the page itself, signed in as a supervisor (hotline orders, cases,
warnings, a clue's page), records every SELECT it sends,
and asks the database for its plan with the same parameters (SQLite:
EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN). A step that reads a table of more
than 20,000 rows without an index (SQLite "SCAN t"; PostgreSQL "Seq Scan on
t") is flagged: as a full scan, or as a bounded one when the statement has a
LIMIT and nothing sorts the rows first, so that reading stops after the
first matches (the queue's capped counts). Meant for the databases
bench_queue.py and ``make bench`` build (1,000,000 clues).
"""

from __future__ import annotations

import argparse
import contextvars
import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pyotp  # noqa: E402
from flask import Flask  # noqa: E402
from sqlalchemy import event, func, select, text  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Clue  # noqa: E402
from app.services import dashboard, figures, people, queue, reports  # noqa: E402
from app.timeutil import local_today, utcnow  # noqa: E402
from config import TestingConfig  # noqa: E402

# Tables that grow with the clues; a scan of a reference table is no news,
# nor of one of these while it is small.
LARGE = {"clues", "clue_events", "clue_situations", "hotline_orders", "disputes",
         "enforcement_cases", "daily_stats", "audit_events", "outbox", "warnings"}
LARGE_FROM = 20_000


def pages(app: Flask, clue_id: int) -> dict[str, Callable[[], Any]]:
    """The console's own pages, for the lists whose queries live in the view."""
    password = "bench-explain-" + str(time.time_ns())
    name = f"explain{time.time_ns()}"
    _user, secret = people.create_user(db.session, username=name, role="supervisor",
                                       password=password, actor="bench")
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()

    def fresh(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        # Each request in a context of its own, as in a server: not inside the
        # app context this script holds open.
        return contextvars.Context().run(call, *args, **kwargs)

    fresh(client.post, "/review/login", data={"username": name, "password": password,
                                              "otp": pyotp.TOTP(secret).now()})

    def page(path: str) -> Callable[[], Any]:
        def get() -> None:
            status = fresh(client.get, path).status_code
            if status != 200:
                raise SystemExit(f"GET {path}: {status}")
        return get

    return {
        "page: queue": page("/review/"),
        "page: a clue": page(f"/review/clues/{clue_id}"),
        "page: hotline orders": page("/review/hotline"),
        "page: hotline orders, related": page("/review/hotline?view=related"),
        "page: hotline orders, unreviewed": page("/review/hotline?view=unreviewed"),
        "page: hotline orders, disputed": page("/review/hotline?view=disputed"),
        "page: enforcement cases": page("/review/cases"),
        "page: early warnings": page("/review/warnings"),
        "page: figures": page("/review/figures"),
        "page: dashboard": page("/review/dashboard"),
    }


def scenarios(now: Any) -> dict[str, Callable[[], Any]]:
    F = queue.Filters  # noqa: N806
    middle = db.session.scalar(select(Clue).order_by(Clue.created_at).offset(
        db.session.scalar(text("SELECT count(*) / 2 FROM clues"))).limit(1))
    deep = queue.encode_cursor(middle, "newest")
    today = local_today(now)
    month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    board = dashboard.Filters(today - timedelta(days=29), today)

    def page(filters: queue.Filters, **options: Any) -> Callable[[], Any]:
        return lambda: queue.list_clues(db.session, filters, now=now, **options)

    def monthly() -> Any:
        period, label = reports.period_for("monthly", month)
        return reports.build(db.session, "monthly", period, label, now=now)

    return {
        "queue: first page": page(F()),
        "queue: deep page (keyset)": page(F(), cursor=deep),
        "queue: oldest first": page(F(), sort="oldest"),
        "filter: status": page(F(status="investigating")),
        "filter: colour": page(F(colour="red")),
        "filter: category": page(F(category="seizures")),
        "filter: district": page(F(district="shengsi")),
        "filter: department": page(F(department="fishery")),
        "filter: channel": page(F(channel="letter")),
        "filter: source tag": page(F(source_tag="hall-putuo")),
        "filter: overdue, by due": page(F(overdue=True), sort="due"),
        "filter: status + colour + district": page(
            F(status="investigating", colour="red", district="putuo")),
        "filter: date range": page(F(date_from=today - timedelta(days=7), date_to=today)),
        "free text: common term": page(F(text="民宿消防设施")),
        "free text: rarer term": page(F(text="冷库安全生产")),
        "free text: tracking number": page(F(text=middle.tracking_no)),
        "dashboard: roll-up totals (30 days)": lambda: dashboard.totals(db.session, board),
        "dashboard: series (30 days)": lambda: dashboard.series(db.session, board),
        "dashboard: due now": lambda: dashboard.due_now(db.session, board, now),
        "figures: monthly": lambda: figures.compute(
            db.session, reports.period_for("monthly", month)[0]),
        "report: monthly (figures, tops, orders)": monthly,
    }


def _plan(statement: str, parameters: Any, dialect: str) -> list[str]:
    cursor = db.session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if dialect == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            return [row[3] for row in cursor.fetchall()]
        cursor.execute("EXPLAIN " + statement, parameters)
        return [row[0] for row in cursor.fetchall()]
    finally:
        cursor.close()


def scanned(plan: list[str], dialect: str, large: set[str]) -> list[str]:
    """The large tables a plan reads without an index."""
    found = []
    for line in plan:
        if dialect == "sqlite":
            match = re.match(r"SCAN (\w+)(?! USING)", line.strip())
            if match and "VIRTUAL TABLE" not in line and match.group(1) in large:
                found.append(match.group(1))
        else:
            match = re.search(r"Seq Scan on (\w+)", line)
            if match and match.group(1) in large:
                found.append(match.group(1))
    return found


def bounded(statement: str, plan: list[str], dialect: str) -> bool:
    """A LIMIT that stops the reading: no sort of every matching row below it."""
    if " LIMIT " not in statement.upper():
        return False
    if dialect == "sqlite":
        return not any("TEMP B-TREE FOR ORDER BY" in line for line in plan)
    limit = next((i for i, line in enumerate(plan) if "Limit" in line), None)
    return limit is not None and not any(
        re.search(r"\b(Sort|HashAggregate|GroupAggregate)\b", line) for line in plan[limit + 1:])


def explain(url: str, repeats: int = 5) -> dict[str, dict[str, Any]]:
    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url
        INSTANCE_DIR = ROOT / "bench" / ".data" / "instance"
        JIDU_DATA_DIR = ROOT / "bench" / ".data" / "files"

    app = create_app(Config)
    results: dict[str, dict[str, Any]] = {}
    with app.app_context():
        dialect = db.engine.dialect.name
        now = utcnow()
        large = set()
        for table in sorted(LARGE):
            try:
                # Names from the set above, never input.
                rows = db.session.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608
            except Exception:  # noqa: BLE001 - a table another branch has not made yet
                db.session.rollback()
                continue
            if (rows or 0) > LARGE_FROM:
                large.add(table)
        captured: list[tuple[str, Any]] = []

        def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                    executemany: bool) -> None:
            if statement.lstrip().upper().startswith(("SELECT", "WITH")):
                captured.append((statement, parameters))

        chosen = scenarios(now)
        middle = db.session.scalar(select(func.max(Clue.id))) // 2
        chosen.update(pages(app, middle))
        for name, call in chosen.items():
            call()  # warm: caches, roll-ups brought up to date
            db.session.commit()
            samples = []
            for _ in range(repeats):
                started = time.perf_counter()
                call()
                samples.append((time.perf_counter() - started) * 1000)
                db.session.commit()
                db.session.expunge_all()
            event.listen(db.engine, "before_cursor_execute", capture)
            try:
                call()
            finally:
                event.remove(db.engine, "before_cursor_execute", capture)
            statements = []
            for statement, parameters in captured:
                plan = _plan(statement, parameters, dialect)
                tables = scanned(plan, dialect, large)
                stop = bool(tables) and bounded(statement, plan, dialect)
                statements.append({"sql": " ".join(statement.split())[:300], "plan": plan,
                                   "full_scans": [] if stop else tables,
                                   "bounded_scans": tables if stop else []})
            captured.clear()
            db.session.rollback()
            results[name] = {
                "median_ms": statistics.median(samples), "statements": statements,
                "full_scans": sorted({t for s in statements for t in s["full_scans"]}),
                "bounded_scans": sorted({t for s in statements for t in s["bounded_scans"]})}
    return results


def show(backend: str, results: dict[str, dict[str, Any]], verbose: bool) -> None:
    print(f"\n{backend}")
    print(f"  {'scenario':<42}{'median ms':>10}  full scans (bounded scans)")
    for name, result in results.items():
        scans = ", ".join(result["full_scans"]) or "—"
        if result["bounded_scans"]:
            scans += f" ({', '.join(result['bounded_scans'])})"
        print(f"  {name:<42}{result['median_ms']:10.1f}  {scans}")
        if verbose or result["full_scans"] or result["bounded_scans"]:
            for statement in result["statements"]:
                if verbose or statement["full_scans"] or statement["bounded_scans"]:
                    print(f"      {statement['sql'][:140]}")
                    for line in statement["plan"]:
                        print(f"        {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite", type=Path, help="a SQLite file built by the benchmarks")
    parser.add_argument("--postgres", help="a PostgreSQL URL built by the benchmarks")
    parser.add_argument("--json", type=Path, help="write the plans here")
    parser.add_argument("--verbose", action="store_true", help="every plan, not only scans")
    args = parser.parse_args()
    targets = ([("sqlite", f"sqlite:///{args.sqlite.resolve()}")] if args.sqlite else []) + (
        [("postgresql", args.postgres)] if args.postgres else [])
    if not targets:
        default = ROOT / "bench" / ".data" / "queue-1000000.sqlite3"
        targets = [("sqlite", f"sqlite:///{default}")]
    found = {}
    for backend, url in targets:
        found[backend] = explain(url)
        show(backend, found[backend], args.verbose)
    if args.json:
        args.json.write_text(json.dumps({"explain": found}, ensure_ascii=False, indent=1),
                             encoding="utf-8")


if __name__ == "__main__":
    main()
