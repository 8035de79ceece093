"""Clues next to enforcement activity: complaints per department, agency and domain.

A clue counts against a department through its ``department_code`` (the
department reported, normalised). Within the department it is put on one
agency's row when its free-text agency names that agency: the clue text
contains the agency's name (the longest such name wins, being the most
specific), or else the clue text is part of exactly one agency's name. A clue
that names no agency with cases in the period stays on the department's
"未对应具体执法主体" row. A clue without a department is placed by the same
agency rule across all agencies; if nothing matches it is counted apart, as
unattributed. Merged clues are left out (their original is counted). By
domain, a clue goes to the domain in which its agency had most cases in the
period (ties: the first by name), so that the rows add up to the department.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from app.models import CaseType, Clue, ClueStatus, Department, EnforcementCase
from app.services.types import DbSession
from app.timeutil import LOCAL, local

BOX_DAYS = 90
# A clue's agency text shorter than this is not searched for inside agency
# names: "局" or "城管" alone would match too much.
MIN_PARTIAL = 4


@dataclass
class Counts:
    inspection: int = 0
    penalty: int = 0
    compulsory: int = 0
    complaints: int = 0

    @property
    def cases(self) -> int:
        return self.inspection + self.penalty + self.compulsory

    @property
    def per_100(self) -> float | None:
        """Complaints per 100 cases, one decimal; None without cases."""
        if not self.cases:
            return None
        return round(self.complaints * 100 / self.cases, 1)

    def add_cases(self, case_type: str, n: int) -> None:
        setattr(self, CaseType(case_type).value, getattr(self, CaseType(case_type).value) + n)


@dataclass
class Row:
    label: str | None  # agency or domain; None: clues not matched to one
    counts: Counts = field(default_factory=Counts)


@dataclass
class Section:
    department_code: str | None
    department_name: str | None  # None: cases of agencies outside the departments list
    total: Counts = field(default_factory=Counts)
    rows: list[Row] = field(default_factory=list)


@dataclass
class Activity:
    start: date
    end: date
    group_by: str
    sections: list[Section]
    unattributed: int
    total: Counts


def _norm(text: str) -> str:
    return "".join(text.split())


def match_agency(text: str, agencies: list[str]) -> str | None:
    """The agency among ``agencies`` that a clue's agency text names, if one does."""
    clue_text = _norm(text)
    if not clue_text:
        return None
    inside = [a for a in agencies if _norm(a) and _norm(a) in clue_text]
    if inside:
        return sorted(inside, key=lambda a: (-len(_norm(a)), a))[0]
    if len(clue_text) >= MIN_PARTIAL:
        around = [a for a in agencies if clue_text in _norm(a)]
        if len(around) == 1:
            return around[0]
    return None


def _local_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (datetime.combine(start, time(0), tzinfo=LOCAL),
            datetime.combine(end + timedelta(days=1), time(0), tzinfo=LOCAL))


def _case_counts(session: DbSession, start: date,
                 end: date) -> list[tuple[str | None, str, str, str, int]]:
    query = (select(EnforcementCase.department_code, EnforcementCase.agency,
                    EnforcementCase.domain, EnforcementCase.case_type, func.count())
             .where(EnforcementCase.decided_on >= start, EnforcementCase.decided_on <= end)
             .group_by(EnforcementCase.department_code, EnforcementCase.agency,
                       EnforcementCase.domain, EnforcementCase.case_type))
    return [(d, a, dom, t, n) for d, a, dom, t, n in session.execute(query)]


def _place(clue_department: str | None, clue_agency: str,
           agencies: dict[str | None, list[str]]) -> tuple[str | None, str | None] | None:
    """(department, agency or None) for a clue, or None if it cannot be placed."""
    if clue_department is not None:
        return clue_department, match_agency(clue_agency, agencies.get(clue_department, []))
    pairs = sorted((a, d or "") for d, names in agencies.items() for a in names)
    matched = match_agency(clue_agency, [a for a, _d in pairs])
    if matched is None:
        return None
    department = next(d for a, d in pairs if a == matched)
    return department or None, matched


def activity(session: DbSession, *, start: date, end: date,
             group_by: str = "agency") -> Activity:
    """Cases by type and clues against each department for the dates start..end
    (Asia/Shanghai), one row per agency (``group_by="agency"``) or domain."""
    if group_by not in ("agency", "domain"):
        raise ValueError(group_by)
    rows: dict[tuple[str | None, str | None], Counts] = defaultdict(Counts)
    agencies: dict[str | None, list[str]] = defaultdict(list)
    domain_cases: dict[tuple[str | None, str], Counter[str]] = defaultdict(Counter)
    for department, agency, domain, case_type, n in _case_counts(session, start, end):
        rows[(department, agency if group_by == "agency" else domain)].add_cases(case_type, n)
        if agency not in agencies[department]:
            agencies[department].append(agency)
        domain_cases[(department, agency)][domain] += n
    lo, hi = _local_bounds(start, end)
    clues = session.execute(
        select(Clue.department_code, Clue.agency)
        .where(Clue.created_at >= lo, Clue.created_at < hi, Clue.status != ClueStatus.MERGED))
    unattributed = 0
    for clue_department, clue_agency in clues:
        placed = _place(clue_department, clue_agency, agencies)
        if placed is None:
            unattributed += 1
            continue
        placed_department, placed_agency = placed
        label = placed_agency
        if group_by == "domain" and placed_agency is not None:
            by_domain = domain_cases[(placed_department, placed_agency)]
            label = sorted(by_domain.items(), key=lambda item: (-item[1], item[0]))[0][0]
        rows[(placed_department, label)].complaints += 1
    return _sections(session, start, end, group_by, rows, unattributed)


def _sections(session: DbSession, start: date, end: date, group_by: str,
              rows: dict[tuple[str | None, str | None], Counts], unattributed: int) -> Activity:
    departments = {d.code: d for d in session.scalars(select(Department))}
    sections: dict[str | None, Section] = {}
    total = Counts(complaints=unattributed)
    for (code, label), counts in rows.items():
        department = departments.get(code) if code else None
        section = sections.setdefault(code, Section(
            code, department.name if department else None))
        section.rows.append(Row(label, counts))
        for target in (section.total, total):
            target.inspection += counts.inspection
            target.penalty += counts.penalty
            target.compulsory += counts.compulsory
            target.complaints += counts.complaints
    for section in sections.values():
        section.rows.sort(key=lambda r: (r.label is None, -r.counts.cases,
                                         -r.counts.complaints, r.label or ""))

    def order(section: Section) -> tuple[int, int]:
        department = departments.get(section.department_code or "")
        return (0 if department else 1, department.position if department else 0)

    return Activity(start, end, group_by, sorted(sections.values(), key=order), unattributed,
                    total)


@dataclass
class Box:
    since: date
    until: date
    department_name: str | None
    department: Counts | None
    agency: str | None
    agency_counts: Counts | None


def box_for_clue(session: DbSession, clue: Clue) -> Box:
    """Cases of the clue's department (and agency) in the 90 days up to the day the
    clue came in, both days included (Asia/Shanghai)."""
    until = local(clue.created_at).date()
    since = until - timedelta(days=BOX_DAYS)
    # Only the agencies the clue's text could name are read: the 90 days hold
    # every agency's cases (125,000 at a million clues), and grouping them all
    # made up most of a clue page. match_agency on these candidates gives what it
    # gives on all agencies, as every name it could pick is among them.
    candidates = [a for a in _agency_names(session) if _could_name(clue.agency, a)]
    placed_counts: list[tuple[str | None, str, str, int]] = []
    if candidates:
        query = (select(EnforcementCase.department_code, EnforcementCase.agency,
                        EnforcementCase.case_type, func.count())
                 .where(EnforcementCase.agency.in_(candidates),
                        EnforcementCase.decided_on >= since, EnforcementCase.decided_on <= until)
                 .group_by(EnforcementCase.department_code, EnforcementCase.agency,
                           EnforcementCase.case_type))
        if clue.department_code is not None:
            query = query.where(EnforcementCase.department_code == clue.department_code)
        placed_counts = [(d, a, t, n) for d, a, t, n in session.execute(query)]
    agencies: dict[str | None, list[str]] = defaultdict(list)
    for case_department, case_agency, _type, _n in placed_counts:
        if case_agency not in agencies[case_department]:
            agencies[case_department].append(case_agency)
    placed = _place(clue.department_code, clue.agency, agencies)
    department_code, agency = placed if placed else (None, None)
    department_counts = Counts() if department_code else None
    agency_counts = Counts() if agency else None
    if department_counts is not None:
        for case_type, n in session.execute(
                select(EnforcementCase.case_type, func.count())
                .where(EnforcementCase.department_code == department_code,
                       EnforcementCase.decided_on >= since, EnforcementCase.decided_on <= until)
                .group_by(EnforcementCase.case_type)):
            department_counts.add_cases(case_type, n)
    if agency_counts is not None:
        for case_department, case_agency, agency_type, n in placed_counts:
            if case_agency == agency and case_department == department_code:
                agency_counts.add_cases(agency_type, n)
    department_row = session.get(Department, department_code) if department_code else None
    return Box(since, until, department_row.name if department_row else None,
               department_counts, agency, agency_counts)


def _could_name(clue_agency: str, agency: str) -> bool:
    """Whether match_agency could pick ``agency`` for this clue text, whatever the others."""
    clue_text, name = _norm(clue_agency), _norm(agency)
    return bool(clue_text and name) and (
        name in clue_text or (len(clue_text) >= MIN_PARTIAL and clue_text in name))


def _agency_names(session: DbSession) -> list[str]:
    """Every agency with a case, ever: one step of the agency index per name (a
    loose index scan), not a read of the cases."""
    names = select(func.min(EnforcementCase.agency).label("name")).cte("agency_names",
                                                                       recursive=True)
    following = select(select(func.min(EnforcementCase.agency))
                       .where(EnforcementCase.agency > names.c.name).scalar_subquery()
                       ).where(names.c.name.is_not(None))
    names = names.union_all(following)
    return [name for name in session.scalars(select(names.c.name)) if name is not None]
