"""The scenario page's numbers: complaints and cases per theme and month, top agencies.

What belongs to a theme is defined in scenarios.py. The complaints come from
the daily roll-ups (services/theme_rollup.py: clues per day and theme, in
the scope and in any theme, and per theme and agency), summed over the days
of each month, so that twelve months at a million clues cost a few thousand
summed rows; the days not yet counted with the scenario's rules are counted
from the clues. The cases (a small table) are counted in one scan of the
period; Python adds up the groups.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from app.services import rollup, theme_rollup
from app.services.case_links import match_agency
from app.services.scenarios import Scenario, Theme, case_flags
from app.services.types import DbSession

TOP_AGENCIES = 5


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


def months_between(start: date, end: date) -> list[str]:
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month.strftime("%Y-%m"))
        month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return months


def table(session: DbSession, scenario: Scenario, *, start: date, end: date,
          top: int = TOP_AGENCIES) -> ScenarioTable:
    """Complaints and enforcement cases per theme and month from ``start`` to ``end``
    (Shanghai dates, both included), with each theme's most complained-of agencies.

    Brings the daily roll-ups up to date first, as far as one refresh goes (it commits).
    """
    rollup.refresh(session)
    months = months_between(start, end)
    column = {m: i for i, m in enumerate(months)}
    n = len(scenario.themes)
    keys = {theme.key: i for i, theme in enumerate(scenario.themes)}
    complaints = [[0] * len(months) for _ in range(n)]
    any_theme, in_scope = [0] * len(months), [0] * len(months)
    by_agency: list[dict[str, int]] = [defaultdict(int) for _ in range(n)]
    counted = theme_rollup.counts(session, scenario, start, end)
    for (key, day), count in counted.days.items():
        j = column[day.strftime("%Y-%m")]
        if key == f"{scenario.code}:*":
            in_scope[j] += count
        elif key == f"{scenario.code}:+":
            any_theme[j] += count
        elif key in keys:
            complaints[keys[key]][j] += count
    for key, count in counted.agencies.items():
        theme_key, _bar, agency = key.partition("|")
        if theme_key in keys and count:
            by_agency[keys[theme_key]][agency] += count

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
