"""The scenario file (``JIDU_SCENARIOS_FILE``, shipped: app/data/scenarios.json), checked on load.

The file is JSON::

    {"scenarios": [{
        "code": "hotel_homestay", "name": "酒店民宿业执法监督", "name_en": "…",
        "description": "…",
        "scope": {"keywords": ["酒店", "民宿", …], "agencies": []},
        "case_scope": {"departments": [], "domains": [], "agencies": []},
        "themes": [{
            "code": "refund", "name": "退订退款纠纷", "name_en": "…", "description": "…",
            "categories": [], "situations": [], "keywords": ["退款", …], "agencies": [],
            "cases": {"departments": [], "domains": ["旅游市场"], "agencies": []}}]}]}

What each list means, and how they combine, is written in scenarios.py. Only
``code``, ``name`` and ``themes`` (of a scenario) and ``code`` and ``name``
(of a theme) are required; every list may be left out. Checks: codes are
lower-case letters, digits and ``_`` and unique; category, situation and
department codes exist; a theme has at least one of categories, situations,
keywords or agencies (else it would be the whole scope); a term is 1–50
characters; unknown keys are refused, so that a misspelt ``keyword`` does not
silently match everything. Every error names the scenario and the theme.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.models import Category, Department, Situation
from app.reference import CATEGORIES, DEPARTMENTS
from app.services.errors import DomainError
from app.services.types import DbSession

CODE = re.compile(r"^[a-z0-9_]{1,40}$")
MAX_TERM = 50
MAX_TERMS = 100
MAX_NAME = 100
MAX_DESCRIPTION = 1000


class ScenarioError(DomainError):
    """The scenario file is missing, unreadable or wrong; the message says where."""

    code = "scenario_config"


@dataclass(frozen=True)
class Codes:
    """The codes a scenario file may use."""

    categories: frozenset[str]
    situations: frozenset[str]
    departments: frozenset[str]

    @classmethod
    def reference(cls) -> Codes:
        """The published codes (app/reference.py); the database may hold more."""
        return cls(frozenset(c for c, _n, _e, _s in CATEGORIES),
                   frozenset(s for _c, _n, _e, items in CATEGORIES for s, _sn, _se in items),
                   frozenset(d for d, _n, _e in DEPARTMENTS))

    @classmethod
    def from_db(cls, session: DbSession) -> Codes:
        """The codes in the database: admins may have added situations or departments."""
        return cls(frozenset(session.scalars(select(Category.code))),
                   frozenset(session.scalars(select(Situation.code))),
                   frozenset(session.scalars(select(Department.code))))


@dataclass(frozen=True)
class CaseRule:
    departments: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.departments or self.domains or self.agencies)


@dataclass(frozen=True)
class Theme:
    scenario_code: str
    code: str
    name: str
    name_en: str
    description: str
    categories: tuple[str, ...]
    situations: tuple[str, ...]
    keywords: tuple[str, ...]
    agencies: tuple[str, ...]
    cases: CaseRule

    @property
    def key(self) -> str:
        """How early warning names the theme's series: "<scenario>:<theme>"."""
        return f"{self.scenario_code}:{self.code}"


@dataclass(frozen=True)
class Scenario:
    code: str
    name: str
    name_en: str
    description: str
    scope_keywords: tuple[str, ...]
    scope_agencies: tuple[str, ...]
    case_scope: CaseRule
    themes: tuple[Theme, ...]


@dataclass(frozen=True)
class ScenarioSet:
    scenarios: tuple[Scenario, ...] = ()

    def get(self, code: str) -> Scenario | None:
        return next((s for s in self.scenarios if s.code == code), None)

    def theme(self, key: str) -> tuple[Scenario, Theme] | None:
        """The scenario and theme named by an early-warning key "<scenario>:<theme>"."""
        scenario_code, _sep, theme_code = key.partition(":")
        scenario = self.get(scenario_code)
        if scenario is None:
            return None
        theme = next((t for t in scenario.themes if t.code == theme_code), None)
        return None if theme is None else (scenario, theme)

    def themes(self) -> Iterator[tuple[Scenario, Theme]]:
        for scenario in self.scenarios:
            for theme in scenario.themes:
                yield scenario, theme


def load(path: str | Path, codes: Codes | None = None) -> ScenarioSet:
    """Read and check the scenario file; raises ScenarioError naming what is wrong."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"scenario file {path}: cannot be read ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"scenario file {path}: not valid JSON ({exc})") from None
    return parse(data, codes, source=str(path))


def parse(data: Any, codes: Codes | None = None, *, source: str = "scenarios") -> ScenarioSet:
    codes = codes or Codes.reference()
    _object(data, {"scenarios"}, f"scenario file {source}")
    items = data.get("scenarios", [])
    if not isinstance(items, list):
        raise ScenarioError(f"scenario file {source}: 'scenarios' must be a list")
    scenarios: list[Scenario] = []
    for position, item in enumerate(items, start=1):
        scenario = _scenario(item, codes, f"scenario file {source}", position)
        if any(s.code == scenario.code for s in scenarios):
            raise ScenarioError(f"scenario file {source}: scenario {scenario.code} twice")
        scenarios.append(scenario)
    return ScenarioSet(tuple(scenarios))


def _object(value: Any, allowed: set[str], where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ScenarioError(f"{where}: must be a JSON object")
    _known_keys(value, allowed, where)
    return value


def _known_keys(obj: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise ScenarioError(f"{where}: unknown key(s) {', '.join(unknown)}")


def _text(obj: dict[str, Any], key: str, where: str, *, required: bool, limit: int) -> str:
    value = obj.get(key, "")
    if not isinstance(value, str) or len(value.strip()) > limit or (
            required and not value.strip()):
        raise ScenarioError(f"{where}: '{key}' must be a text of 1–{limit} characters"
                            if required else f"{where}: '{key}' must be a text of at most "
                            f"{limit} characters")
    return value.strip()


def _code(obj: dict[str, Any], where: str) -> str:
    value = obj.get("code")
    if not isinstance(value, str) or not CODE.match(value):
        raise ScenarioError(f"{where}: 'code' must be 1–40 lower-case letters, digits or _")
    return value


def _terms(obj: dict[str, Any], key: str, where: str,
           known: frozenset[str] | None = None, kind: str = "") -> tuple[str, ...]:
    value = obj.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ScenarioError(f"{where}: '{key}' must be a list of texts")
    terms = tuple(dict.fromkeys(v.strip() for v in value))
    if len(terms) > MAX_TERMS:
        raise ScenarioError(f"{where}: '{key}' has more than {MAX_TERMS} entries")
    for term in terms:
        if not term or len(term) > MAX_TERM:
            raise ScenarioError(f"{where}: '{key}' entries must be 1–{MAX_TERM} characters")
        if known is not None and term not in known:
            raise ScenarioError(f"{where}: unknown {kind} code {term!r}")
    return terms


def _case_rule(value: Any, codes: Codes, where: str) -> CaseRule:
    obj = _object(value, {"departments", "domains", "agencies"}, where)
    return CaseRule(_terms(obj, "departments", where, codes.departments, "department"),
                    _terms(obj, "domains", where), _terms(obj, "agencies", where))


def _scenario(value: Any, codes: Codes, prefix: str, position: int) -> Scenario:
    where = f"{prefix}: scenario {position}"
    obj = _object(value, set(value) if isinstance(value, dict) else set(), where)
    code = _code(obj, where)
    where = f"{prefix}: scenario {code}"
    _known_keys(obj, {"code", "name", "name_en", "description", "scope", "case_scope", "themes"},
                where)
    name = _text(obj, "name", where, required=True, limit=MAX_NAME)
    scope = _object(obj.get("scope", {}), {"keywords", "agencies"}, f"{where}: scope")
    themes_data = obj.get("themes")
    if not isinstance(themes_data, list) or not themes_data:
        raise ScenarioError(f"{where}: 'themes' must be a list of at least one theme")
    themes: list[Theme] = []
    for position, item in enumerate(themes_data, start=1):
        theme = _theme(item, code, codes, where, position)
        if any(t.code == theme.code for t in themes):
            raise ScenarioError(f"{where}: theme {theme.code} twice")
        themes.append(theme)
    return Scenario(
        code, name, _text(obj, "name_en", where, required=False, limit=MAX_NAME) or name,
        _text(obj, "description", where, required=False, limit=MAX_DESCRIPTION),
        _terms(scope, "keywords", f"{where}: scope"), _terms(scope, "agencies", f"{where}: scope"),
        _case_rule(obj.get("case_scope", {}), codes, f"{where}: case_scope"), tuple(themes))


def _theme(value: Any, scenario: str, codes: Codes, prefix: str, position: int) -> Theme:
    where = f"{prefix}: theme {position}"
    obj = _object(value, set(value) if isinstance(value, dict) else set(), where)
    code = _code(obj, where)
    where = f"{prefix}: theme {scenario}:{code}"
    _known_keys(obj, {"code", "name", "name_en", "description", "categories", "situations",
                      "keywords", "agencies", "cases"}, where)
    name = _text(obj, "name", where, required=True, limit=MAX_NAME)
    categories = _terms(obj, "categories", where, codes.categories, "category")
    situations = _terms(obj, "situations", where, codes.situations, "situation")
    keywords = _terms(obj, "keywords", where)
    agencies = _terms(obj, "agencies", where)
    if not (categories or situations or keywords or agencies):
        raise ScenarioError(f"{where}: needs at least one of categories, situations, keywords "
                            "or agencies")
    return Theme(scenario, code, name,
                 _text(obj, "name_en", where, required=False, limit=MAX_NAME) or name,
                 _text(obj, "description", where, required=False, limit=MAX_DESCRIPTION),
                 categories, situations, keywords, agencies,
                 _case_rule(obj.get("cases", {}), codes, f"{where}: cases"))
