"""Scenarios (场景): configured themes (专题) that set complaints against enforcement cases.

A scenario is an industry or field under supervision (the shipped one:
酒店民宿业执法监督, app/data/scenarios.json; ``JIDU_SCENARIOS_FILE`` points
elsewhere). It has a *scope* and a few themes; each theme has a rule for clues
and one for enforcement cases. The file is checked when it is loaded
(scenario_config.py); this module turns the rules into SQL.

A clue belongs to a theme when all three hold:

1. **Scope** — its description or agency contains one of the scenario's
   ``scope.keywords``, or its agency contains one of ``scope.agencies``
   (no scope given: every clue is in scope);
2. **Classification** — when the theme lists ``categories`` or
   ``situations``: the clue's category is one of them, or it has one of the
   situations (either list may be empty; both empty: no condition);
3. **Text** — when the theme lists ``keywords`` or ``agencies``: its
   description or agency contains one of the keywords, or its agency contains
   one of the agency fragments (both empty: no condition).

Only the clue's plain-text fields are read — description and agency, as the
reporter typed them; identity is sealed and never touched. Matching is
by substring, ignoring the case of Latin letters. Themes may overlap: a clue
about a homestay's fire inspection and its refund counts in both themes; the
scenario's "any theme" line counts each clue once. Merged clues are left out
(their original counts), as everywhere in the figures. A clue's month is
that of its arrival, in Asia/Shanghai.

An enforcement case carries no free text and no industry, so a case belongs to
a theme by its own fields: when the theme's ``cases.departments`` are given,
its department is one of them; and its domain (执法领域) contains one of
``cases.domains`` or its agency contains one of ``cases.agencies``. The
scenario's optional ``case_scope`` (same three lists) must hold as well. A
theme without a case rule has no case counts (shown as —). A case's month is
that of its decision date.

Everything is counted in the database, one scan of the period per table:
each rule becomes substring conditions (instr on SQLite, strpos on
PostgreSQL), evaluated once per row as the ``CASE`` columns of a ``GROUP
BY``; Python only adds up the groups. Keywords are mostly two Chinese
characters, too short for the trigram indexes of app/search.py, so the
period's rows are read rather than an index. For the clues that scan runs
when the daily roll-ups recompute a day (theme_rollup.py), and the page
(scenario_table.py) and the daily theme series of early warning
(warnings.py) read the roll-ups; bench/bench_scenarios.py measures both.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, literal_column, or_, select, true

from app.models import Clue, ClueStatus, EnforcementCase, clue_situations
from app.services.scenario_config import (
    CaseRule,
    Scenario,
    ScenarioError,
    ScenarioSet,
    Theme,
    load,
    parse,
)
from app.services.types import DbSession
from app.timeutil import LOCAL

__all__ = ["CaseRule", "ClueRule", "Scenario", "ScenarioError", "ScenarioSet", "Theme", "load",
           "parse", "case_flags", "clue_condition", "rule_condition", "theme_flags"]


# --- rules as SQL -----------------------------------------------------------

def _contains(column: Any, term: str, dialect: str) -> ColumnElement[bool]:
    """``column`` contains ``term``; Latin letters in either case.

    A substring position (instr, strpos) rather than LIKE: no wildcard to
    escape, and on PostgreSQL four times faster than ILIKE on Chinese text
    (which needs no case folding); only a term with Latin letters pays for
    lower()."""
    if any(c.isascii() and c.isalpha() for c in term):
        column, term = func.lower(column), term.lower()
    position = func.strpos if dialect == "postgresql" else func.instr
    return position(column, term) > 0


def _any_of(conditions: list[ColumnElement[bool]]) -> ColumnElement[bool] | None:
    return or_(*conditions) if conditions else None


@dataclass(frozen=True)
class ClueRule:
    """A theme's clue rule together with its scenario's scope, as plain lists: the
    queue's theme filter keeps it, so that an export job replays the same rule."""

    scope_keywords: tuple[str, ...] = ()
    scope_agencies: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    situations: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()

    @classmethod
    def of(cls, scenario: Scenario, theme: Theme) -> ClueRule:
        return cls(scenario.scope_keywords, scenario.scope_agencies, theme.categories,
                   theme.situations, theme.keywords, theme.agencies)

    def as_json(self) -> dict[str, list[str]]:
        return {f.name: list(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClueRule:
        return cls(**{f.name: tuple(str(v) for v in data.get(f.name, ()))
                      for f in fields(cls)})


def _text_match(keywords: tuple[str, ...], agencies: tuple[str, ...],
                dialect: str) -> ColumnElement[bool] | None:
    return _any_of([or_(_contains(Clue.description, k, dialect), _contains(Clue.agency, k, dialect))
                    for k in keywords] + [_contains(Clue.agency, a, dialect) for a in agencies])


def scope_condition(scenario: Scenario | ClueRule, dialect: str) -> ColumnElement[bool] | None:
    """Clues within the scenario's scope; None when it has no scope (all clues)."""
    return _text_match(scenario.scope_keywords, scenario.scope_agencies, dialect)


def theme_condition(theme: Theme | ClueRule, dialect: str) -> ColumnElement[bool]:
    """The theme's own rule (classification and text), without the scenario's scope."""
    parts: list[ColumnElement[bool]] = []
    classification: list[ColumnElement[bool]] = []
    if theme.categories:
        classification.append(Clue.category_code.in_(theme.categories))
    if theme.situations:
        classification.append(exists().where(
            clue_situations.c.clue_id == Clue.id,
            clue_situations.c.situation_code.in_(theme.situations)))
    if classification:
        parts.append(or_(*classification))
    text = _text_match(theme.keywords, theme.agencies, dialect)
    if text is not None:
        parts.append(text)
    return and_(*parts) if parts else true()


def clue_condition(scenario: Scenario, theme: Theme, dialect: str) -> ColumnElement[bool]:
    """Clues of the theme: scope, classification and text (merged clues not excluded here)."""
    return rule_condition(ClueRule.of(scenario, theme), dialect)


def rule_condition(rule: ClueRule, dialect: str) -> ColumnElement[bool]:
    scope = scope_condition(rule, dialect)
    own = theme_condition(rule, dialect)
    return own if scope is None else and_(scope, own)


def _case_rule(rule: CaseRule, dialect: str) -> ColumnElement[bool] | None:
    if rule.empty:
        return None
    parts: list[ColumnElement[bool]] = []
    if rule.departments:
        parts.append(EnforcementCase.department_code.in_(rule.departments))
    text = _any_of([_contains(EnforcementCase.domain, d, dialect) for d in rule.domains]
                   + [_contains(EnforcementCase.agency, a, dialect) for a in rule.agencies])
    if text is not None:
        parts.append(text)
    return and_(*parts)


def case_condition(scenario: Scenario, theme: Theme, dialect: str) -> ColumnElement[bool] | None:
    """Enforcement cases of the theme; None when the theme has no case rule."""
    own = _case_rule(theme.cases, dialect)
    scope = _case_rule(scenario.case_scope, dialect)
    if own is None or scope is None:
        return own
    return and_(scope, own)


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def _positions(n: int) -> list[Any]:
    """GROUP BY 1, 2, …: each CASE column is then evaluated once per row."""
    return [literal_column(str(i)) for i in range(1, n + 1)]


def clue_month(dialect: str) -> ColumnElement[str]:
    if dialect == "postgresql":
        return func.to_char(Clue.created_at + literal_column("interval '8 hours'"), "YYYY-MM")
    return func.strftime("%Y-%m", Clue.created_at, "+8 hours")


def case_month(dialect: str) -> ColumnElement[str]:
    if dialect == "postgresql":
        return func.to_char(EnforcementCase.decided_on, "YYYY-MM")
    return func.strftime("%Y-%m", EnforcementCase.decided_on)


def bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[start of ``first``, start of the day after ``last``), Shanghai time."""
    return (datetime.combine(first, time(), tzinfo=LOCAL),
            datetime.combine(last + timedelta(days=1), time(), tzinfo=LOCAL))


def theme_flags(session: DbSession, scenario: Scenario, groups: list[Any],
                first: date, last: date) -> list[tuple[tuple[Any, ...], tuple[int, ...], int]]:
    """(group values, one 0/1 per theme, clues) for the scenario's clues in scope that
    arrived from ``first`` to ``last``, merged clues left out: one scan."""
    dialect = session.get_bind().dialect.name
    start, end = bounds(first, last)
    flags = [_flag(theme_condition(t, dialect)) for t in scenario.themes]
    query = (select(*groups, *flags, func.count())
             .where(Clue.created_at >= start, Clue.created_at < end,
                    Clue.status != ClueStatus.MERGED)
             .group_by(*_positions(len(groups) + len(flags))))
    scope = scope_condition(scenario, dialect)
    if scope is not None:
        query = query.where(scope)
    k = len(groups)
    return [(tuple(row[:k]), tuple(int(v) for v in row[k:-1]), int(row[-1]))
            for row in session.execute(query)]


def case_flags(session: DbSession, scenario: Scenario, first: date, last: date,
               ) -> tuple[list[int], list[tuple[str, str, tuple[int, ...], int]]]:
    """The themes with a case rule (their indexes), and (month, agency, one 0/1 per such
    theme, cases) for the cases decided from ``first`` to ``last`` in any of them."""
    dialect = session.get_bind().dialect.name
    ruled = [(i, case_condition(scenario, t, dialect)) for i, t in enumerate(scenario.themes)]
    conditions = [(i, c) for i, c in ruled if c is not None]
    if not conditions:
        return [], []
    flags = [_flag(c) for _i, c in conditions]
    query = (select(case_month(dialect), EnforcementCase.agency, *flags, func.count())
             .where(EnforcementCase.decided_on >= first, EnforcementCase.decided_on <= last,
                    or_(*[c for _i, c in conditions]))
             .group_by(*_positions(2 + len(flags))))
    return ([i for i, _c in conditions],
            [(str(r[0]), r[1], tuple(int(v) for v in r[2:-1]), int(r[-1]))
             for r in session.execute(query)])
