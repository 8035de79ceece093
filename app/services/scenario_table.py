"""The scenario page's numbers: complaints and cases per theme and month, top agencies.

What belongs to a theme is defined in scenarios.py. The clues are counted in
one scan of the period (each theme's rule evaluated once per clue in scope),
the cases in another; Python adds up the groups.

At a million clues a year the clue scan of twelve months takes seconds (the
keywords are too short for the trigram indexes), so the door may pass a
``MonthCache``: each whole month's counts are then kept and reused while the
month has as many clues and as many merged clues as when they were counted —
new clues and merges change these, and both are counted through indexes in
milliseconds — and for at most the cache's lifetime, which bounds what those
two numbers do not see (a clue re-categorised by the hotline screening). Only
the months that changed, usually the current one, are scanned again.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select

from app.models import Clue, ClueStatus
from app.services.case_links import match_agency
from app.services.scenarios import Scenario, Theme, bounds, case_flags, clue_month, theme_flags
from app.services.types import DbSession

TOP_AGENCIES = 5
# (agency as the clues give it, one 0/1 per theme, clues)
Group = tuple[str, tuple[int, ...], int]


@dataclass
class Cell:
    complaints: int = 0
    cases: int | None = None  # None: the theme has no case rule

    @property
    def per_100(self) -> float | None:
        """Complaints per 100 cases, one decimal; None without cases."""
        if not self.cases:
            return None
        return round(self.complaints * 100 / self.cases, 1)


@dataclass
class AgencyLine:
    agency: str  # as the clues name it
    complaints: int
    case_agency: str | None = None  # the agency with cases in the theme that it names
    cases: int | None = None

    @property
    def per_100(self) -> float | None:
        return Cell(self.complaints, self.cases).per_100


@dataclass
class ThemeLine:
    theme: Theme | None  # None: the scenario's line (any theme, each clue once)
    months: list[Cell]
    total: Cell
    agencies: list[AgencyLine] = field(default_factory=list)


@dataclass
class ScenarioTable:
    scenario: Scenario
    start: date
    end: date
    months: list[str]  # "YYYY-MM", the columns
    themes: list[ThemeLine]
    any_theme: ThemeLine
    in_scope: list[int]  # clues within the scope per month, whether in a theme or not
    in_scope_total: int


class MonthCache:
    """Clue groups per scenario and whole month (see the module's docstring)."""

    MAX_ENTRIES = 2000

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._kept: dict[tuple[Scenario, str], tuple[tuple[int, int], float, list[Group]]] = {}

    def get(self, scenario: Scenario, month: str,
            fingerprint: tuple[int, int]) -> list[Group] | None:
        with self._lock:
            kept = self._kept.get((scenario, month))
        if kept is None or kept[0] != fingerprint or self._clock() - kept[1] >= self.seconds:
            return None
        return kept[2]

    def put(self, scenario: Scenario, month: str, fingerprint: tuple[int, int],
            groups: list[Group]) -> None:
        with self._lock:
            if len(self._kept) >= self.MAX_ENTRIES:  # old scenario files, far months
                self._kept.clear()
            self._kept[(scenario, month)] = (fingerprint, self._clock(), groups)


def months_between(start: date, end: date) -> list[str]:
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month.strftime("%Y-%m"))
        month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return months


def _month_span(month: str) -> tuple[date, date]:
    first = date.fromisoformat(f"{month}-01")
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


def _fingerprint(session: DbSession, first: date, last: date) -> tuple[int, int]:
    """How many clues arrived from ``first`` to ``last``, and how many of them are
    merged: two counts that the created_at and (status, created_at) indexes answer."""
    lo, hi = bounds(first, last)
    in_range = (Clue.created_at >= lo, Clue.created_at < hi)
    total = session.scalar(select(func.count()).select_from(Clue).where(*in_range)) or 0
    merged = session.scalar(select(func.count()).select_from(Clue).where(
        Clue.status == ClueStatus.MERGED, *in_range)) or 0
    return total, merged


def _scan(session: DbSession, scenario: Scenario, first: date,
          last: date) -> list[tuple[str, Group]]:
    groups = [clue_month(session.get_bind().dialect.name), Clue.agency]
    return [(str(month), (agency, flags, n)) for (month, agency), flags, n
            in theme_flags(session, scenario, groups, first, last)]


def _clue_groups(session: DbSession, scenario: Scenario, start: date, end: date,
                 cache: MonthCache | None) -> list[tuple[str, Group]]:
    """(month, group) for the period; whole months from the cache while unchanged."""
    if cache is None:
        return _scan(session, scenario, start, end)
    result: list[tuple[str, Group]] = []
    for month in months_between(start, end):
        first, last = _month_span(month)
        if first < start or last > end:  # a part of a month: not kept
            result.extend(_scan(session, scenario, max(first, start), min(last, end)))
            continue
        # Taken before the scan: a clue arriving meanwhile makes the next look rescan.
        fingerprint = _fingerprint(session, first, last)
        kept = cache.get(scenario, month, fingerprint)
        if kept is None:
            kept = [group for _month, group in _scan(session, scenario, first, last)]
            cache.put(scenario, month, fingerprint, kept)
        result.extend((month, group) for group in kept)
    return result


def table(session: DbSession, scenario: Scenario, *, start: date, end: date,
          top: int = TOP_AGENCIES, cache: MonthCache | None = None) -> ScenarioTable:
    """Complaints and enforcement cases per theme and month from ``start`` to ``end``
    (Shanghai dates, both included), with each theme's most complained-of agencies."""
    months = months_between(start, end)
    column = {m: i for i, m in enumerate(months)}
    n = len(scenario.themes)
    complaints = [[0] * len(months) for _ in range(n)]
    any_theme, in_scope = [0] * len(months), [0] * len(months)
    by_agency: list[dict[str, int]] = [defaultdict(int) for _ in range(n)]
    for month, (agency, flags, count) in _clue_groups(session, scenario, start, end, cache):
        j = column[month]
        in_scope[j] += count
        if any(flags):
            any_theme[j] += count
        for i, flagged in enumerate(flags):
            if flagged:
                complaints[i][j] += count
                by_agency[i][agency] += count

    ruled, case_groups = case_flags(session, scenario, start, end)
    cases: list[list[int] | None] = [None] * n
    case_agencies: list[dict[str, int]] = [defaultdict(int) for _ in range(n)]
    any_cases: list[int] | None = [0] * len(months) if ruled else None
    for i in ruled:
        cases[i] = [0] * len(months)
    for month, agency, flags, count in case_groups:
        j = column[month]
        if any_cases is not None and any(flags):
            any_cases[j] += count
        for i, flagged in zip(ruled, flags, strict=True):
            row = cases[i]
            if flagged and row is not None:
                row[j] += count
                case_agencies[i][agency] += count

    lines = []
    for i, theme in enumerate(scenario.themes):
        line = _line(theme, complaints[i], cases[i])
        line.agencies = _top_agencies(by_agency[i], case_agencies[i] if cases[i] is not None
                                      else None, top)
        lines.append(line)
    return ScenarioTable(scenario, start, end, months, lines, _line(None, any_theme, any_cases),
                         in_scope, sum(in_scope))


def _line(theme: Theme | None, complaints: list[int], cases: list[int] | None) -> ThemeLine:
    cells = [Cell(c, None if cases is None else cases[j]) for j, c in enumerate(complaints)]
    return ThemeLine(theme, cells, Cell(sum(complaints), None if cases is None else sum(cases)))


def _top_agencies(complaints: dict[str, int], cases: dict[str, int] | None,
                  top: int) -> list[AgencyLine]:
    ranked = sorted(complaints.items(), key=lambda item: (-item[1], item[0]))[:top]
    names = sorted(cases) if cases else []
    result = []
    for agency, n in ranked:
        matched = match_agency(agency, names) if cases else None
        result.append(AgencyLine(agency, n, matched,
                                 cases[matched] if cases and matched else None))
    return result
