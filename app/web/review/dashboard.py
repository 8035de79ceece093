"""数据看板 in the console: volumes, breakdowns, the funnel and handling times.

For supervisors and analysts. Numbers come from the daily roll-ups; each
chart is an SVG drawn on the server (services/charts.py) and loaded as an
image, and every chart's numbers are on the page as a table too.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import db
from app.messages import CHANNEL_LABELS, STATUS_LABELS
from app.models import Role
from app.services import charts, dashboard
from app.timeutil import local_today, utcnow
from app.web.review import bp
from app.web.review.access import roles_required
from app.web.review.cases import _period
from app.web.review.figures import INSIGHT_ROLES

DEFAULT_DAYS = 30
TOP = 10
COLOUR_NAMES = {"red": _l("红色"), "orange": _l("橙色"), "yellow": _l("黄色"), "": _l("未研判")}
STAGE_NAMES = {**STATUS_LABELS, "closed_na": _l("不予受理并结案")}
SATISFACTION_NAMES = {"satisfied": _l("满意"), "basically": _l("基本满意"),
                      "unsatisfied": _l("不满意"), "": _l("未评价")}
FUNNEL_NAMES = {"received": _l("收到"), "triaged": _l("已研判"), "accepted": _l("已受理"),
                "assigned": _l("已交办"), "concluded": _l("已办结"), "closed": _l("已结案")}
# name → (title, the roll-up dimension it draws, how many rows at most)
CHARTS: dict[str, tuple[Any, str, int | None]] = {
    "category": (_l("问题类别"), "category", None),
    "colour": (_l("三色研判"), "colour", None),
    "funnel": (_l("办理进度（收到→结案）"), "stage", None),
    "district": (_l("区域"), "district", None),
    "agency": (_l("被反映较多的执法主体（前10）"), "agency", TOP),
    "situation": (_l("高频具体情形（前10）"), "situation", TOP),
    "channel": (_l("来源渠道"), "channel", None),
    "source": (_l("扫码来源（监督码标签）"), "source", TOP),
}
# Which queue filter a row of a table opens (supervisors may open the queue).
QUEUE_FILTERS = {"category": "category", "district": "district", "channel": "channel",
                 "colour": "colour", "source": "source_tag"}


def _filters() -> tuple[dashboard.Filters, str | None]:
    args, today = request.args, local_today()
    if args.get("from") or args.get("to") or args.get("month"):
        start, end, error = _period(args, today)
    else:
        start, end, error = today - timedelta(days=DEFAULT_DAYS - 1), today, None
    campaign: int | None = None
    raw = args.get("campaign", "")
    if raw == "none":
        campaign = 0
    elif raw.isdigit():
        campaign = int(raw)
    return dashboard.Filters(start, end, campaign), error


def _english() -> bool:
    return str(get_locale() or "") == "en"


def _name(dimension: str, key: str, labels: dict[str, dict[str, str]]) -> str:
    if dimension == "channel":
        return str(CHANNEL_LABELS.get(key, key))
    if dimension == "colour":
        return str(COLOUR_NAMES.get(key, key))
    if dimension == "stage":
        return str(STAGE_NAMES.get(key, key))
    if dimension in ("satisfaction", "first_sat"):
        return str(SATISFACTION_NAMES.get(key, key))
    if dimension == "source" and not key:
        return _("无标签（非扫码）")
    return labels.get(dimension, {}).get(key, key)


def rows(name: str, totals: dict[str, list[tuple[str, int]]],
         labels: dict[str, dict[str, str]]) -> list[tuple[str, str, int]]:
    """(key, label, clues) of one chart, as drawn and as tabled."""
    _title, dimension, limit = CHARTS[name]
    if name == "funnel":
        stages = dict(totals.get("stage", []))
        return [(stage, str(FUNNEL_NAMES[stage]), sum(stages.get(s, 0) for s in members))
                for stage, members in dashboard.FUNNEL]
    found = totals.get(dimension, [])
    if name == "source":
        found = [(key, n) for key, n in found if key]
    if name == "colour":
        order = {"red": 0, "orange": 1, "yellow": 2, "": 3}
        found = sorted(found, key=lambda row: order.get(row[0], 4))
    shown = [(key, _name(dimension, key, labels), n) for key, n in found[:limit]]
    if limit is not None and len(found) > limit:
        shown.append(("", _("其他"), sum(n for _, n in found[limit:])))
    return shown


def _svg(name: str, items: list[tuple[str, str, int]], board_series: Any = None) -> str:
    if name == "daily":
        days = tuple(day for day, _, _ in board_series)
        return charts.daily(days, (
            (_("收到"), tuple(r for _, r, _ in board_series)),
            (_("结案"), tuple(c for _, _, c in board_series))))
    colours = tuple(charts.COLOURS.get(key, charts.BLUE) for key, _, _ in items) \
        if name == "colour" else None
    return charts.bars(tuple((label, n) for _, label, n in items), colours)


def hours_text(hours: float | None) -> str:
    if hours is None:
        return "—"
    if hours < 48:
        return _("%(n)d 小时", n=hours)
    return _("%(n).1f 天", n=hours / 24)


@bp.get("/dashboard")
@roles_required(*INSIGHT_ROLES)
def dashboard_page() -> ResponseReturnValue:
    filters, error = _filters()
    board = dashboard.build(db.session, filters, now=utcnow(), english=_english())
    tables = {name: rows(name, board.breakdowns, board.labels) for name in CHARTS}
    query = {k: v for k, v in request.args.items() if k in ("from", "to", "month", "campaign")}
    return render_template(
        "review/dashboard.html", board=board, tables=tables, charts=CHARTS, error=error,
        campaigns=dashboard.campaigns(db.session), query=query, hours_text=hours_text,
        queue_filters=QUEUE_FILTERS, may_queue=current_user.role == Role.SUPERVISOR,
        campaign_value="none" if filters.campaign_id == 0 else filters.campaign_id or "")


@bp.get("/dashboard/chart/<name>.svg")
@roles_required(*INSIGHT_ROLES)
def dashboard_chart(name: str) -> ResponseReturnValue:
    if name != "daily" and name not in CHARTS:
        abort(404)
    filters, _error = _filters()
    if name == "daily":
        svg = _svg(name, [], dashboard.series(db.session, filters))
    else:
        dimension = CHARTS[name][1]
        totals = dashboard.totals(db.session, filters, (dimension,))
        svg = _svg(name, rows(name, totals, dashboard.labels(db.session, english=_english())))
    return charts.svg_response(svg)
