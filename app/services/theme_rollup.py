"""The theme (专题) dimensions of the daily roll-ups (services/rollup.py).

Per Shanghai day and campaign, for every scenario of the configured file
(services/scenarios.py says what belongs to a theme), received clues that
are not merged:

- ``theme``: key "<scenario>:<theme>" — the clues of the theme; "<scenario>:*"
  — the clues within the scenario's scope; "<scenario>:+" — those in at least
  one of its themes, each once;
- ``theme_agency``: key "<scenario>:<theme>|<agency>" — the theme's clues per
  agency as the clue names it (cut to the key's 200 characters: two agencies
  alike in their first ~120 characters are counted as one);
- ``theme_ver``: key "<scenario>@<fingerprint of its clue rules>", on every day
  with received clues — which rules the day's theme rows were counted with.

The rows are counted with the other dimensions whenever a day is recomputed,
in one GROUP BY per scenario with one CASE column per theme. When the rules
change (an edited scenario file), every day whose ``theme_ver`` rows differ
from the rules now configured is stale: ``refresh`` recounts such days —
theme dimensions only, newest first, as many per call as it recomputes
dirty days — so that a page view pays for at most two months and
``flask stats refresh`` (or any ``refresh_all``) finishes the rest. Readers
never see wrong numbers meanwhile: ``counts`` takes the days whose rows are
current from the roll-ups and counts the others from the clues.

The rules come from a source registered once with :func:`use_themes`:
create_app registers the configured file (app/context.py), so that every
path that refreshes — dashboard, figures, reports, CLI, demo data — counts
the same themes; a caller passing its own would make the days flip between
two versions. A missing or broken file counts as no scenarios: the theme
rows go, and come back once the file is fixed.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, text

from app.models import Clue, DailyStat, DirtyDay
from app.services import scenarios
from app.services.scenario_config import Scenario, ScenarioSet
from app.services.types import DbSession
from app.timeutil import as_date, sql_local_day

THEME, THEME_AGENCY, THEME_VER = "theme", "theme_agency", "theme_ver"
DIMENSIONS = (THEME, THEME_AGENCY, THEME_VER)
# Days with received clues are those with "stage" rows (every received clue has one).
RECEIVED = "stage"
# PostgreSQL advisory lock: a theme-only recount runs alone, never beside a full
# recompute of the same days (their rows would collide); full recomputes share it.
LOCK = 0x4A6964755468  # "JiduTh"

Source = Callable[[DbSession], ScenarioSet]
Key = tuple[str, date, int, str]  # dimension, day, campaign, key


def _none(_session: DbSession) -> ScenarioSet:
    return ScenarioSet()


_source: Source = _none


def use_themes(source: Source) -> None:
    """Register where the roll-ups take their scenarios from (create_app does)."""
    global _source
    _source = source


def configured(session: DbSession) -> ScenarioSet:
    return _source(session)


def version(scenario: Scenario) -> str:
    """"<code>@<fingerprint>": what the clue rules are; names and case rules left out."""
    rules = [scenario.scope_keywords, scenario.scope_agencies,
             [(t.code, t.categories, t.situations, t.keywords, t.agencies)
              for t in scenario.themes]]
    digest = hashlib.sha256(json.dumps(rules, ensure_ascii=False).encode()).hexdigest()
    return f"{scenario.code}@{digest[:16]}"


def count(session: DbSession, scenario: Scenario, first: date, last: date, *,
          agencies: bool = True) -> dict[Key, int]:
    """The theme rows of ``scenario`` from ``first`` to ``last``, counted from the clues."""
    groups: list[Any] = [sql_local_day(session.get_bind().dialect.name, Clue.created_at),
                         func.coalesce(Clue.campaign_id, 0)]
    if agencies:
        groups.append(Clue.agency)
    found: dict[Key, int] = defaultdict(int)
    for values, flags, n in scenarios.theme_flags(session, scenario, groups, first, last):
        day, campaign = as_date(values[0]), int(values[1])
        found[(THEME, day, campaign, f"{scenario.code}:*")] += n
        if any(flags):
            found[(THEME, day, campaign, f"{scenario.code}:+")] += n
        for theme, flagged in zip(scenario.themes, flags, strict=True):
            if flagged:
                found[(THEME, day, campaign, theme.key)] += n
                if agencies:
                    found[(THEME_AGENCY, day, campaign,
                           f"{theme.key}|{values[2]}"[:200])] += n
    return found


def rows(session: DbSession, themes: ScenarioSet, first: date, last: date,
         received_days: Iterable[date]) -> list[dict[str, Any]]:
    """Rows to store for the days ``first`` to ``last``; ``received_days``: those with
    received clues, which get their ``theme_ver`` rows."""
    found: dict[Key, int] = {}
    days = sorted(set(received_days))
    for scenario in themes.scenarios:
        found.update(count(session, scenario, first, last))
        found.update({(THEME_VER, day, 0, version(scenario)): 1 for day in days})
    return [{"dimension": dimension, "day": day, "campaign_id": campaign, "key": key, "n": n}
            for (dimension, day, campaign, key), n in found.items()]


def _received_days(session: DbSession, first: date | None = None,
                   last: date | None = None) -> set[date]:
    query = select(DailyStat.day).where(DailyStat.dimension == RECEIVED).distinct()
    if first is not None and last is not None:
        query = query.where(DailyStat.day >= first, DailyStat.day <= last)
    return {as_date(day) for day in session.scalars(query)}


def stale_days(session: DbSession, themes: ScenarioSet) -> list[date]:
    """Days whose theme rows were counted with other rules than ``themes``, newest first."""
    wanted = {version(s) for s in themes.scenarios}
    kept: dict[date, set[str]] = defaultdict(set)
    for day, key in session.execute(select(DailyStat.day, DailyStat.key).where(
            DailyStat.dimension == THEME_VER)):
        kept[as_date(day)].add(key)
    received = _received_days(session)
    return sorted((day for day in received | set(kept) if kept.get(day, set()) != wanted),
                  reverse=True)


def spans(days: Iterable[date], longest: int | None = None) -> Iterator[tuple[date, date]]:
    """Contiguous runs of days, each at most ``longest`` days long."""
    ordered = sorted(set(days))
    if not ordered:
        return
    start = previous = ordered[0]
    for day in ordered[1:]:
        if day != previous + timedelta(days=1) or (
                longest is not None and (day - start).days >= longest):
            yield start, previous
            start = day
        previous = day
    yield start, previous


def share_lock(session: DbSession) -> None:
    """Taken by a full recompute on PostgreSQL (see LOCK)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": LOCK})


def recount(session: DbSession, themes: ScenarioSet, *, limit: int | None,
            chunk: int) -> int:
    """Recount the theme rows of the stale days (newest first, at most ``limit``),
    theme dimensions only; commits per chunk. Returns how many days."""
    if session.get_bind().dialect.name == "postgresql" and not session.scalar(
            text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": LOCK}):
        session.rollback()
        return 0  # another process recounts, or recomputes days: next time
    dirty = set(session.scalars(select(DirtyDay.day).distinct()))
    days = [day for day in stale_days(session, themes) if day not in dirty][:limit]
    for first, last in spans(days, chunk):
        session.execute(delete(DailyStat).where(DailyStat.dimension.in_(DIMENSIONS),
                                                DailyStat.day >= first, DailyStat.day <= last))
        found = rows(session, themes, first, last, _received_days(session, first, last))
        if found:
            session.execute(insert(DailyStat), found)
    session.commit()
    return len(days)


# -- reading -----------------------------------------------------------------


@dataclass
class Counts:
    days: dict[tuple[str, date], int] = field(default_factory=lambda: defaultdict(int))
    agencies: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def counts(session: DbSession, scenario: Scenario, first: date, last: date, *,
           agencies: bool = True) -> Counts:
    """The ``theme`` rows of ``scenario`` per key and day from ``first`` to ``last``, and
    (``agencies``) its ``theme_agency`` rows summed over the period.

    From the roll-ups for the days counted with the scenario's rules and not
    stale; the other days (stale, or a scenario that is not the configured
    one) are counted from the clues, so the numbers are exact either way.
    """
    in_range = (DailyStat.day >= first, DailyStat.day <= last)
    current = {as_date(day) for day in session.scalars(select(DailyStat.day).where(
        DailyStat.dimension == THEME_VER, DailyStat.key == version(scenario), *in_range))}
    dirty = {as_date(day) for day in session.scalars(select(DirtyDay.day).distinct().where(
        DirtyDay.day >= first, DirtyDay.day <= last))}
    live = dirty | (_received_days(session, first, last) - current)
    found = Counts()
    prefix = f"{scenario.code}:"
    stored = [DailyStat.key.startswith(prefix, autoescape=True), *in_range]
    if live:
        stored.append(DailyStat.day.not_in(sorted(live)))
    if current - live:
        for day, key, n in session.execute(
                select(DailyStat.day, DailyStat.key, func.sum(DailyStat.n))
                .where(DailyStat.dimension == THEME, *stored)
                .group_by(DailyStat.day, DailyStat.key)):
            found.days[(key, as_date(day))] += int(n)
        if agencies:
            for key, n in session.execute(
                    select(DailyStat.key, func.sum(DailyStat.n))
                    .where(DailyStat.dimension == THEME_AGENCY, *stored)
                    .group_by(DailyStat.key)):
                found.agencies[key] += int(n)
    for span_first, span_last in spans(live):
        for (dimension, day, _campaign, key), n in count(
                session, scenario, span_first, span_last, agencies=agencies).items():
            if dimension == THEME:
                found.days[(key, day)] += n
            else:
                found.agencies[key] += n
    return found
