"""Early warning (预警监测): scan the clues for surges, keep and copy the warnings.

``scan`` brings the daily roll-ups up to date (services/rollup.py) and reads
from them the clues per Shanghai day for every category, district and agency
(a year and a bit of history, so that holidays can be compared with last
holidays) and for every theme (专题) of the given scenarios (key
"<scenario>:<theme>"; services/theme_rollup.py counts from the clues the days
whose theme rows were counted with other rules, e.g. scenarios that are not
the configured ones), runs the detector of services/surge.py on each series,
and stores a warning for each flagged day among the last ``days`` days
(today so far included). A warning is unique per dimension, key and day: a
re-scan updates the numbers of an existing one and neither duplicates it nor
mails it again.

New warnings are copied by mail (预警抄报) to every active supervisor and
analyst with an e-mail address — a simple rule until subscriptions exist.
The mail carries numbers and codes only: never a clue's text, and not even
an agency's name, which the reporter typed; the console shows that. A
theme's name comes from the scenario file, not from a reporter, and is sent.

Merged clues (duplicates of another clue) are not counted.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, false, func, select

from app.models import Clue, ClueStatus, DailyStat, Dimension, EarlyWarning, User
from app.services import audit, notify, rollup, scenarios, surge, theme_rollup
from app.services.errors import Conflict, NotFound
from app.services.scenario_config import ScenarioSet
from app.services.types import DbSession
from app.timeutil import LOCAL, as_date, local_today

DEFAULT_DAYS = 3
HISTORY_DAYS = surge.LOOKBACK_DAYS + surge.WINDOW_DAYS
SERIES_DAYS = 28
CLUES_SHOWN = 200
COLUMNS = {Dimension.CATEGORY: Clue.category_code, Dimension.DISTRICT: Clue.district_code,
           Dimension.AGENCY: Clue.agency}


@dataclass
class ScanResult:
    new: list[EarlyWarning] = field(default_factory=list)
    updated: int = 0
    series: int = 0


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """UTC instants from the start of ``first`` to the end of ``last`` (Shanghai)."""
    start = datetime.combine(first, time(), tzinfo=LOCAL).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=LOCAL).astimezone(UTC)
    return start, end


def daily_counts(session: DbSession, dimension: Dimension, first: date, last: date,
                 key: str | None = None) -> dict[str, dict[date, int]]:
    """Clues per key and Shanghai day from ``first`` to ``last``, merged clues left out:
    from the daily roll-ups (summed over campaigns), as of their last refresh."""
    query = (select(DailyStat.key, DailyStat.day, func.sum(DailyStat.n))
             .where(DailyStat.dimension == str(dimension), DailyStat.day >= first,
                    DailyStat.day <= last)
             .group_by(DailyStat.key, DailyStat.day))
    if key is not None:
        query = query.where(DailyStat.key == key)
    counts: dict[str, dict[date, int]] = defaultdict(dict)
    for series_key, series_day, n in session.execute(query):
        if n:
            counts[series_key][as_date(series_day)] = int(n)
    return counts


def theme_daily_counts(session: DbSession, themes: ScenarioSet, first: date, last: date,
                       key: str | None = None) -> dict[str, dict[date, int]]:
    """Clues per theme key and Shanghai day from ``first`` to ``last``, merged left out."""
    counts: dict[str, dict[date, int]] = defaultdict(dict)
    for scenario in themes.scenarios:
        if key is not None and key.partition(":")[0] != scenario.code:
            continue
        found = theme_rollup.counts(session, scenario, first, last, agencies=False).days
        for theme in scenario.themes:
            by_day = {day: n for (theme_key, day), n in found.items()
                      if theme_key == theme.key and n}
            if by_day:
                counts[theme.key] = by_day
    return counts


def _series(session: DbSession, dimension: Dimension, first: date, last: date,
            themes: ScenarioSet | None, key: str | None = None) -> dict[str, dict[date, int]]:
    if dimension == Dimension.THEME:
        return theme_daily_counts(session, themes or ScenarioSet(), first, last, key)
    return daily_counts(session, dimension, first, last, key)


def _calendar(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def scan(session: DbSession, *, now: datetime, days: int = DEFAULT_DAYS,
         actor: str = "system", themes: ScenarioSet | None = None) -> ScanResult:
    """Detect surges on the last ``days`` days (today so far included); commits once.

    ``themes``: the configured scenarios, whose themes are scanned too (None: none).
    """
    rollup.refresh_all(session)  # commits
    today = local_today(now)
    first_checked = today - timedelta(days=days - 1)
    calendar = _calendar(first_checked - timedelta(days=HISTORY_DAYS), today)
    start = len(calendar) - days
    existing: dict[tuple[str, str, date], EarlyWarning] = {
        (str(w.dimension), w.key, w.day): w for w in session.scalars(
        select(EarlyWarning).where(EarlyWarning.day >= first_checked))}
    result = ScanResult()
    for dimension in (*COLUMNS, Dimension.THEME):
        for key, by_day in _series(session, dimension, calendar[0], today, themes).items():
            counts = [by_day.get(d, 0) for d in calendar]
            # Neither test can fire unless a day and the day before hold more
            # than MIN_EXCESS clues together: skip the many quiet series.
            if all(counts[i] + counts[i - 1] <= surge.MIN_EXCESS
                   for i in range(start, len(counts))):
                continue
            result.series += 1
            for flag in surge.detect(calendar, counts, start=start):
                warning = existing.get((str(dimension), key, flag.day))
                if warning is None:
                    warning = EarlyWarning(dimension=dimension, key=key, day=flag.day,
                                           count=flag.count, expected=flag.expected,
                                           upper=flag.upper, rule=flag.rule, created_at=now,
                                           updated_at=now)
                    session.add(warning)
                    result.new.append(warning)
                elif (warning.count, warning.expected) != (flag.count, flag.expected):
                    warning.count, warning.expected, warning.upper = (
                        flag.count, flag.expected, flag.upper)
                    warning.updated_at = now
                    result.updated += 1
    session.flush()
    if result.new:
        _copy_to_subscribers(session, result.new, now=now, themes=themes)
        audit.record(session, actor=actor, action="warnings.scanned", now=now,
                     details={"new": len(result.new), "updated": result.updated})
    session.commit()
    return result


def theme_name(themes: ScenarioSet | None, key: str) -> str | None:
    """"酒店民宿业执法监督 · 退订退款纠纷" for a theme key, None if not configured."""
    found = themes.theme(key) if themes else None
    return f"{found[0].name} · {found[1].name}" if found else None


def _copy_to_subscribers(session: DbSession, warnings: list[EarlyWarning], *,
                         now: datetime, themes: ScenarioSet | None = None) -> None:
    subscribers = notify.insight_subscribers(session)
    for warning in warnings:
        code = "" if warning.dimension == Dimension.AGENCY else warning.key
        is_theme = warning.dimension == Dimension.THEME
        params = {"warning_id": warning.id, "dimension": str(warning.dimension),
                  "code": code, "category": code if warning.dimension == "category" else "",
                  "district": code if warning.dimension == "district" else "",
                  "theme": (theme_name(themes, code) or code) if is_theme else "",
                  "day": warning.day.isoformat(), "count": warning.count,
                  "expected": warning.expected, "upper": warning.upper}
        for user in subscribers:
            notify.queue_mail(session, "warning", now, user_id=user.id, params=params,
                              dedupe_key=f"warning:{warning.id}:{user.id}")


def acknowledge(session: DbSession, warning_id: int, *, user: User, note: str,
                now: datetime) -> EarlyWarning:
    """A reviewer or supervisor has seen the warning (已阅/已处置); audited, commits."""
    warning = session.get(EarlyWarning, warning_id)
    if warning is None:
        raise NotFound("warning not found")
    if warning.acknowledged_at is not None:
        raise Conflict("warning already acknowledged")
    warning.acknowledged_by_id, warning.acknowledged_at = user.id, now
    warning.note = note.strip() or None
    audit.record(session, actor=f"user:{user.username}", action="warning.acknowledged",
                 target=f"warning:{warning.id}", details={"note": bool(warning.note)}, now=now)
    session.commit()
    return warning


@dataclass(frozen=True)
class Detail:
    warning: EarlyWarning
    days: list[surge.Day]
    clues: list[tuple[int, str]]
    more_clues: bool


def _clue_condition(session: DbSession, warning: EarlyWarning,
                    themes: ScenarioSet | None) -> ColumnElement[bool]:
    if warning.dimension != Dimension.THEME:
        return COLUMNS[warning.dimension] == warning.key
    found = themes.theme(warning.key) if themes else None
    if found is None:  # the theme has left the scenario file since
        return false()
    return scenarios.clue_condition(*found, session.get_bind().dialect.name)


def detail(session: DbSession, warning: EarlyWarning,
           themes: ScenarioSet | None = None) -> Detail:
    """The last SERIES_DAYS days of the warning's series with their bands, and its clues.

    A theme warning needs ``themes`` (the configured scenarios) to find its clues.
    Refreshes the daily roll-ups first (it commits)."""
    rollup.refresh(session)
    first = warning.day - timedelta(days=HISTORY_DAYS)
    calendar = _calendar(first, warning.day)
    by_day = _series(session, warning.dimension, first, warning.day, themes,
                     key=warning.key).get(warning.key, {})
    counts = [by_day.get(d, 0) for d in calendar]
    days = surge.evaluate(calendar, counts, start=len(calendar) - SERIES_DAYS)
    start, end = _bounds(warning.day, warning.day)
    rows = session.execute(
        select(Clue.id, Clue.tracking_no)
        .where(_clue_condition(session, warning, themes), Clue.created_at >= start,
               Clue.created_at < end, Clue.status != ClueStatus.MERGED)
        .order_by(Clue.created_at).limit(CLUES_SHOWN + 1)).all()
    return Detail(warning, days, [(r.id, r.tracking_no) for r in rows[:CLUES_SHOWN]],
                  len(rows) > CLUES_SHOWN)
