"""指标 in the console: the mechanism's figures for a month or period, with definitions.

For supervisors and analysts (the insight side); numbers only.
"""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue

from app.extensions import db
from app.models import Role
from app.services import figures
from app.timeutil import local_today
from app.web.review import bp
from app.web.review.access import roles_required
from app.web.review.cases import _period

INSIGHT_ROLES = (Role.SUPERVISOR, Role.ANALYST)


@bp.get("/figures")
@roles_required(*INSIGHT_ROLES)
def figures_page() -> ResponseReturnValue:
    start, end, error = _period(request.args, local_today())
    period = figures.Period(start, end)
    return render_template("review/figures.html", figures=figures.compute(db.session, period),
                           period=period, previous=period.previous(),
                           year_ago=period.year_ago(), error=error,
                           month=start.strftime("%Y-%m"))
