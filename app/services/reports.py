"""民情日报 and 月报: the period's figures and high-frequency items, kept as files.

A report is a printable HTML page and an XLSX workbook with the same tables,
written under ``JIDU_DATA_DIR/reports/<kind>/<period>.*``; generating a
period again replaces its files (a report is reproducible from the data).
Reports carry numbers, categories, situations, agencies and districts —
never an identity, a clue's text or a receipt.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from flask import render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.models import EarlyWarning, HotlineOrder
from app.services import audit, charts, dashboard, figures, notify, rollup
from app.services.types import DbSession
from app.timeutil import local

KINDS = ("daily", "monthly")
TOP = 10


@dataclass
class Report:
    kind: str
    label: str
    period: figures.Period
    figures: list[figures.Figure]
    categories: list[tuple[str, int]]
    situations: list[tuple[str, int]]
    agencies: list[tuple[str, int]]
    districts: list[tuple[str, int]]
    hotline_orders: int
    hotline_related: int
    warnings: int
    generated_at: datetime
    # Every day of the period: (day, received, closed), from the daily roll-ups.
    series: list[tuple[date, int, int]] = field(default_factory=list)

    def charts(self) -> dict[str, str]:
        """The report's charts as data URIs: drawn on the server, they print anywhere."""
        drawn = {"categories": charts.data_uri(charts.bars(tuple(self.categories))),
                 "districts": charts.data_uri(charts.bars(tuple(self.districts)))}
        if len(self.series) > 1:
            drawn["series"] = charts.data_uri(charts.daily(
                tuple(day for day, _, _ in self.series),
                ((str(_l("收到")), tuple(r for _, r, _ in self.series)),
                 (str(_l("结案")), tuple(c for _, _, c in self.series)))))
        return drawn


def period_for(kind: str, value: str) -> tuple[figures.Period, str]:
    """The period and its label from ``YYYY-MM-DD`` (daily) or ``YYYY-MM`` (monthly)."""
    if kind == "daily":
        day = date.fromisoformat(value)
        return figures.Period(day, day), day.isoformat()
    first = date.fromisoformat(f"{value}-01")
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return figures.Period(first, following - timedelta(days=1)), first.strftime("%Y-%m")


def build(session: DbSession, kind: str, period: figures.Period, label: str, *,
          now: datetime) -> Report:
    start, end = period.bounds()
    computed = figures.compute(session, period)  # brings the roll-ups up to date first
    # High-frequency items from the daily roll-ups, by the day clues were received.
    tops = rollup.totals(session, period.start, period.end,
                         ("category", "situation", "agency", "district"))
    names = dashboard.labels(session)

    def named(dimension: str) -> list[tuple[str, int]]:
        return [(names.get(dimension, {}).get(key, key), n) for key, n in tops[dimension][:TOP]]

    orders, related = session.execute(select(
        func.count(HotlineOrder.id), func.count(HotlineOrder.clue_id)).where(
        HotlineOrder.created_at >= start, HotlineOrder.created_at < end)).one()
    warnings = session.scalar(select(func.count(EarlyWarning.id)).where(
        EarlyWarning.day >= period.start, EarlyWarning.day <= period.end)) or 0
    series = dashboard.series(session, dashboard.Filters(period.start, period.end))
    return Report(kind, label, period, computed, named("category"), named("situation"),
                  named("agency"), named("district"), int(orders or 0), int(related or 0),
                  int(warnings), now, series)


def folder(data_dir: Path, kind: str) -> Path:
    return Path(data_dir) / "reports" / kind


def write(report: Report, data_dir: Path) -> Path:
    """Write the HTML and XLSX files (replacing a previous run's); returns the HTML path."""
    target = folder(data_dir, report.kind)
    target.mkdir(parents=True, exist_ok=True)
    html = target / f"{report.label}.html"
    _replace(html, render_template("reports/report.html", report=report,
                                   generated=local(report.generated_at)).encode())
    _write_xlsx(report, target / f"{report.label}.xlsx")
    return html


def _replace(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.part")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _write_xlsx(report: Report, path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("指标")
    sheet.append(["指标", "本期", "分子", "分母", "上期", "去年同期", "口径"])
    for row in figures.as_rows(report.figures):
        sheet.append([str(row["name"]), row["value"], row["numerator"], row["denominator"],
                      row["previous"], row["year_ago"], str(row["definition"])])
    for title, rows in (("高频问题类别", report.categories), ("高频具体情形", report.situations),
                        ("被反映较多的执法主体", report.agencies), ("区域分布", report.districts)):
        part = book.create_sheet(title)
        part.append(["名称", "线索数"])
        for name, count in rows:
            # Agency names were typed by reporters: never let one become a formula.
            part.append([("'" + name) if name[:1] in "=+-@" else name, count])
    days = book.create_sheet("每日")
    days.append(["日期", "收到", "结案"])
    for day, received, closed in report.series:
        days.append([day, received, closed])
    temporary = path.with_name(f".{path.name}.part")
    book.save(temporary)
    os.replace(temporary, path)


def generate(session: DbSession, kind: str, value: str, *, data_dir: Path, now: datetime,
             actor: str) -> Path:
    """Build and keep the report of one day or month, tell the subscribers (once per
    report, through the outbox); returns the HTML file's path."""
    period, label = period_for(kind, value)
    path = write(build(session, kind, period, label, now=now), data_dir)
    notify.report_ready(session, kind=kind, label=label, now=now)
    audit.record(session, actor=actor, action=f"reports.{kind}", target=f"report:{label}",
                 now=now)
    session.commit()
    return path


def stored(data_dir: Path) -> list[tuple[str, str]]:
    """(kind, label) of every kept report, newest first within each kind."""
    found = []
    for kind in KINDS:
        base = folder(data_dir, kind)
        if base.is_dir():
            found += [(kind, p.stem) for p in sorted(base.glob("*.html"), reverse=True)]
    return found
