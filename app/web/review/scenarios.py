"""场景 in the console: complaints set against enforcement cases, per theme and month.

Supervisors and analysts (the insight side); numbers only, and the agencies
as the clues name them, which both roles see on the warnings page too.
Supervisors also get a link per theme to the queue filtered to its clues;
analysts do not open clues. The scenarios come from ``JIDU_SCENARIOS_FILE``
(services/scenarios.py); a file that fails its checks is shown with its
error instead of numbers.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import select

from app.context import scenario_set
from app.extensions import db
from app.models import Category, Department, Role, Situation
from app.services import scenario_table, scenarios
from app.services.scenario_config import ScenarioError, ScenarioSet
from app.timeutil import local_today
from app.web.review import bp
from app.web.review.access import roles_required
from app.web.review.cases import _month_bounds, _period
from app.web.review.figures import INSIGHT_ROLES

DEFAULT_MONTHS = 12


def _months_back(first: date, n: int) -> date:
    for _ in range(n):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def _dates(args: Any, today: date) -> dict[str, str]:
    """The cases page's fields, with whole months allowed in from/to ("2026-01");
    "from" alone runs to the end of this month."""
    values = {key: str(args.get(key, "")).strip() for key in ("month", "from", "to")}
    for key in ("from", "to"):
        text = values[key]
        if len(text) == 7:
            try:
                first = date.fromisoformat(f"{text}-01")
            except ValueError:
                continue
            values[key] = (first if key == "from" else _month_bounds(first)[1]).isoformat()
    if values["from"] and not values["to"]:
        values["to"] = _month_bounds(today.replace(day=1))[1].isoformat()
    return values


def period(args: Any, today: date) -> tuple[date, date, str | None]:
    """(start, end, error): the months or dates asked for, else the last 12 months
    (this one included)."""
    values = _dates(args, today)
    if any(values.values()):
        return _period(values, today)
    this_month = today.replace(day=1)
    return _months_back(this_month, DEFAULT_MONTHS - 1), _month_bounds(this_month)[1], None


@bp.get("/scenarios")
@roles_required(*INSIGHT_ROLES)
def scenarios_page() -> ResponseReturnValue:
    configured: ScenarioSet | None = None
    problem: str | None = None
    try:
        configured = scenario_set()
    except ScenarioError as exc:
        problem = exc.message
    return render_template("review/scenarios.html", configured=configured, problem=problem)


@bp.get("/scenarios/<code>")
@roles_required(*INSIGHT_ROLES)
def scenario_page(code: str) -> ResponseReturnValue:
    try:
        configured = scenario_set()
    except ScenarioError as exc:
        return render_template("review/scenarios.html", configured=None, problem=exc.message)
    scenario = configured.get(code)
    if scenario is None:
        abort(404)
    start, end, error = period(request.args, local_today())
    result = scenario_table.table(db.session, scenario, start=start, end=end)
    # Supervisors may open clues; analysts see numbers only.
    dates: dict[str, Any] = {"from": start.isoformat(), "to": end.isoformat()}
    queue_links = {theme.key: url_for("review.queue_page", theme=theme.key, **dates)
                   for theme in scenario.themes} if current_user.role == Role.SUPERVISOR else {}
    return render_template(
        "review/scenario.html", scenario=scenario, result=result, error=error,
        queue_links=queue_links, names=_names(), top=scenario_table.TOP_AGENCIES,
        month_from=start.strftime("%Y-%m"), month_to=end.strftime("%Y-%m"))


def _names() -> dict[str, dict[str, str]]:
    """Names of the codes a rule may use, to show the rule in words."""
    english = str(get_locale()) == "en"
    return {kind: {code: name_en if english else name for code, name, name_en in
                   db.session.execute(select(model.code, model.name, model.name_en))}
            for kind, model in (("category", Category), ("situation", Situation),
                                ("department", Department))}


def _found(key: str) -> tuple[scenarios.Scenario, scenarios.Theme] | None:
    try:
        return scenario_set().theme(key)
    except ScenarioError:
        return None


def theme_rule(key: str) -> dict[str, list[str]] | None:
    """For the queue's theme filter: the clue rule of a configured theme, None if unknown."""
    found = _found(key)
    return scenarios.ClueRule.of(*found).as_json() if found else None


def theme_label(key: str | None) -> str | None:
    """"酒店民宿业执法监督 · 退订退款纠纷" for a theme key; the key itself if unknown."""
    found = _found(key) if key else None
    return f"{found[0].name} · {found[1].name}" if found else key
