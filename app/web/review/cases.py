"""执法案件 in the console: cases and complaints per department, agency or domain.

Reviewers, supervisors and analysts; the page shows numbers only, never a
clue's text, so analysts see exactly what reviewers see. Liaisons and admins
get 403. The clue page's box (templates/review/_cases_box.html) gets its
numbers through the ``enforcement_cases_box`` template function.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.models import Clue, EnforcementCase, Role
from app.services import case_links
from app.timeutil import local_today
from app.web.review import bp
from app.web.review.access import roles_required

CASES_ROLES = (Role.REVIEWER, Role.SUPERVISOR, Role.ANALYST)
MAX_DAYS = 3 * 366  # a longer period is almost certainly a typing error
# The cases held are counted up to here ("more than 10000"): the line only
# shows that imports arrived, and an exact count read every case (500,000 at a
# million clues: 0.13 s on PostgreSQL) on each view of the page.
STORED_CAP = 10_000


def _month_bounds(first: date) -> tuple[date, date]:
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


def _period(args: Any, today: date) -> tuple[date, date, str | None]:
    """(start, end, error): from/to if both given and sensible, else the month."""
    error = None
    start_text, end_text = args.get("from", ""), args.get("to", "")
    if start_text or end_text:
        try:
            start, end = date.fromisoformat(start_text), date.fromisoformat(end_text)
        except ValueError:
            error = _("起止日期格式不正确，已改为显示所选月份。")
        else:
            if start <= end and (end - start).days <= MAX_DAYS:
                return start, end, None
            error = _("起止日期不合理（起日须不晚于止日，且不超过三年），已改为显示所选月份。")
    month_text = args.get("month", "")
    try:
        first = date.fromisoformat(f"{month_text}-01") if month_text else today.replace(day=1)
    except ValueError:
        error = error or _("月份格式不正确，已改为显示本月。")
        first = today.replace(day=1)
    start, end = _month_bounds(first)
    return start, end, error


@bp.get("/cases")
@roles_required(*CASES_ROLES)
def cases_page() -> ResponseReturnValue:
    start, end, error = _period(request.args, local_today())
    group_by = request.args.get("group", "agency")
    if group_by not in ("agency", "domain"):
        group_by = "agency"
    result = case_links.activity(db.session, start=start, end=end, group_by=group_by)
    held = select(EnforcementCase.id).limit(STORED_CAP + 1).subquery()
    stored = db.session.scalar(select(func.count()).select_from(held)) or 0
    latest = db.session.scalar(select(func.max(EnforcementCase.decided_on)))
    previous = (start.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    following = (_month_bounds(start.replace(day=1))[1] + timedelta(days=1)).strftime("%Y-%m")
    return render_template(
        "review/cases.html", result=result, error=error, group_by=group_by,
        month=start.strftime("%Y-%m"), previous=previous, following=following,
        stored=min(stored, STORED_CAP), more=stored > STORED_CAP, latest=latest,
        custom=bool(request.args.get("from") and not error))


@bp.app_context_processor
def _cases_box() -> dict[str, Any]:
    def enforcement_cases_box(clue: Clue) -> case_links.Box:
        return case_links.box_for_clue(db.session, clue)

    return {"enforcement_cases_box": enforcement_cases_box}
