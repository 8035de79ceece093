"""The figures the 即督快响 mechanism reports, each with its definition written down.

A figure is computed for a period of local (Asia/Shanghai) dates, inclusive,
and compared with the period just before it (环比) and with the same dates a
year earlier (同比). Rates count the clues *received* in the period and look
at their state now, so a month's closure rate rises as its clues are
handled; merged clues are left out everywhere (their original counts).
Money is in fen and shown in yuan. Nothing here reads identity or text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, any_, case, func, select

from app.models import CaseType, Clue, ClueEvent, Dispute, EnforcementCase, HotlineOrder
from app.services.types import DbSession
from app.timeutil import LOCAL

DONE = ("concluded", "feedback_given", "closed", "not_accepted")
FOUND = ("substantiated", "partly")
CONTENT = ("satisfied", "basically")
# A situation with this many clues in a period is a high-frequency item (高频多发).
HIGH_FREQUENCY = 3


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def year_ago(self) -> Period:
        return Period(_minus_year(self.start), _minus_year(self.end))

    def bounds(self) -> tuple[datetime, datetime]:
        """UTC-comparable instants: [start 00:00, day after end 00:00) in Shanghai."""
        return (datetime.combine(self.start, time(), LOCAL),
                datetime.combine(self.end + timedelta(days=1), time(), LOCAL))


def _minus_year(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


@dataclass(frozen=True)
class Definition:
    code: str
    name: Any  # lazy strings: in the page's language when shown
    unit: str  # "件", "%", "元"
    definition: Any


DEFINITIONS = [
    Definition("received", _l("受理线索"), "件", _l("期内收到的线索（各渠道），已合并的不计。")),
    Definition("closure_rate", _l("办结率"), "%", _l(
        "期内收到的线索中，至今已办结（已办结、已反馈、已结案，或不予受理并已处理）的比例。")),
    Definition("reply_rate", _l("回复率"), "%", _l(
        "期内收到的线索中，至今已向反映人作出书面答复（反映人凭回执码可见的反馈或说明）的比例。")),
    Definition("satisfaction", _l("满意度"), "%", _l(
        "期内收到并已评价的线索中，当前评价为“满意”或“基本满意”的比例（重新办理后以最新评价为准）。")),
    Definition("first_satisfaction", _l("初次满意率"), "%", _l(
        "期内收到并已评价的线索中，第一次评价即为“满意”或“基本满意”的比例。")),
    Definition("disputes", _l("派单争议"), "件", _l("期内开启的职责争议（含热线派单争议）。")),
    Definition("disputes_settled_24h", _l("24小时内明确承办部门"), "%", _l(
        "期内开启的职责争议中，在开启后24小时内明确承办部门的比例。")),
    Definition("disputes_settled", _l("协调职责争议"), "件", _l(
        "期内明确了承办部门的职责争议（含热线派单争议），不论何时开启。")),
    Definition("hard_orders", _l("研判交办难工单"), "件", _l(
        "期内收到、被标记为派单争议的12345热线工单。")),
    Definition("high_frequency", _l("高频多发执法投诉事项"), "项", _l(
        "期内收到的线索中，同一具体情形达到3件及以上的情形数（清单见报告“高频具体情形”）。")),
    Definition("substantiated", _l("查实问题"), "件", _l(
        "期内作出结论、结论为“属实”或“部分属实”的线索。")),
    Definition("recovered", _l("挽回经济损失"), "元", _l(
        "期内作出结论的线索在结论中登记的挽回金额合计。")),
    Definition("cases", _l("查处违法案件"), "件", _l(
        "期内作出决定的行政处罚和行政强制案件（执法部门导入的执法案件，不含行政检查）。")),
]


@dataclass
class Figure:
    definition: Definition
    value: float | None
    numerator: int | None = None
    denominator: int | None = None
    previous: float | None = None
    year_ago: float | None = None

    @property
    def change(self) -> float | None:
        """环比: the difference with the previous period (points for rates)."""
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def change_year(self) -> float | None:
        """同比: the difference with the same period a year earlier."""
        if self.value is None or self.year_ago is None:
            return None
        return self.value - self.year_ago


def _rate(numerator: int, denominator: int) -> float | None:
    return round(100 * numerator / denominator, 1) if denominator else None


def _raw(session: DbSession, period: Period) -> dict[str, tuple[float | None, int | None,
                                                                int | None]]:
    from app.services import rollup

    start, end = period.bounds()
    # Counts by the day a clue was received come from the daily roll-ups
    # (services/rollup.py), which hold each clue's current state.
    rolled = {dimension: dict(rows) for dimension, rows in rollup.totals(
        session, period.start, period.end,
        ("stage", "replied", "satisfaction", "first_sat", "situation")).items()}
    stages, satisfaction, first = rolled["stage"], rolled["satisfaction"], rolled["first_sat"]
    n = sum(stages.values())
    done = sum(count for stage, count in stages.items() if stage in DONE or stage == "closed_na")
    replies = sum(rolled["replied"].values())
    rated = sum(count for key, count in satisfaction.items() if key)
    content = sum(satisfaction.get(key, 0) for key in CONTENT)
    first_rated = sum(count for key, count in first.items() if key)
    first_content = sum(first.get(key, 0) for key in CONTENT)
    frequent = sum(1 for count in rolled["situation"].values() if count >= HIGH_FREQUENCY)
    found, recovered = session.execute(select(
        func.sum(case((Clue.conclusion.in_(FOUND), 1), else_=0)),
        func.sum(Clue.recovered_fen),
    ).where(_concluded_in(session, start, end), Clue.status != "merged")).one()
    opened = and_(Dispute.opened_at >= start, Dispute.opened_at < end)
    disputes, in_time = session.execute(select(
        func.count(Dispute.id),
        func.sum(case((and_(Dispute.resolved_at.is_not(None),
                            Dispute.resolved_at <= Dispute.due_at), 1), else_=0)),
    ).where(opened)).one()
    settled = session.scalar(select(func.count(Dispute.id)).where(
        Dispute.resolved_at >= start, Dispute.resolved_at < end)) or 0
    cases = session.scalar(select(func.count(EnforcementCase.id)).where(
        EnforcementCase.decided_on >= period.start, EnforcementCase.decided_on <= period.end,
        EnforcementCase.case_type.in_((CaseType.PENALTY, CaseType.COMPULSORY)))) or 0
    hard = session.scalar(select(func.count(HotlineOrder.id)).where(
        HotlineOrder.created_at >= start, HotlineOrder.created_at < end,
        HotlineOrder.dispute_id.is_not(None))) or 0
    disputes, in_time = int(disputes or 0), int(in_time or 0)
    return {
        "received": (n, None, None),
        "closure_rate": (_rate(done, n), done, n),
        "reply_rate": (_rate(replies, n), replies, n),
        "satisfaction": (_rate(content, rated), content, rated),
        "first_satisfaction": (_rate(first_content, first_rated), first_content, first_rated),
        "disputes": (disputes, None, None),
        "disputes_settled_24h": (_rate(in_time, disputes), in_time, disputes),
        "disputes_settled": (int(settled), None, None),
        "hard_orders": (int(hard), None, None),
        "high_frequency": (int(frequent), None, None),
        "substantiated": (int(found or 0), None, None),
        "recovered": ((recovered or 0) / 100, None, None),
        "cases": (int(cases), None, None),
    }


def _concluded_in(session: DbSession, start: datetime, end: datetime) -> ColumnElement[bool]:
    """The clues with a conclusion made in [start, end), each once, however many."""
    concluded = select(ClueEvent.clue_id).where(
        ClueEvent.kind == "concluded", ClueEvent.at >= start, ClueEvent.at < end)
    if session.get_bind().dialect.name != "postgresql":
        # SQLite reads the events' index and looks each clue up by primary key.
        return Clue.id.in_(concluded)
    # PostgreSQL plans ``IN (...)`` as a semi-join: for the 61,000 clues
    # concluded in a month at a million clues it hashed them and read every
    # clue (0.55-0.85 s a period). Handed over as one array, which the planner
    # does not size, they are looked up by primary key in id order (0.19 s).
    return Clue.id == any_(func.array(concluded.scalar_subquery()))


def compute(session: DbSession, period: Period) -> list[Figure]:
    """Every figure for the period, with 环比 and 同比 values beside it.

    Brings the daily roll-ups up to date first (it commits).
    """
    from app.services import rollup

    rollup.refresh_all(session)
    now, before, last_year = (_raw(session, p) for p in
                              (period, period.previous(), period.year_ago()))
    return [Figure(d, *now[d.code], previous=before[d.code][0],
                   year_ago=last_year[d.code][0]) for d in DEFINITIONS]


def as_rows(figures: list[Figure]) -> list[dict[str, Any]]:
    """Plain rows for tables, exports and reports."""
    return [{"code": f.definition.code, "name": f.definition.name, "unit": f.definition.unit,
             "value": f.value, "numerator": f.numerator, "denominator": f.denominator,
             "previous": f.previous, "year_ago": f.year_ago, "change": f.change,
             "change_year": f.change_year, "definition": f.definition.definition}
            for f in figures]
