"""预警监测 in the console: the warnings, each with its series, band and clues.

Supervisors, analysts and reviewers may look; reviewers and supervisors
acknowledge. Analysts see numbers only: the tracking numbers of the clues
behind a warning (links to the clue pages) are for reviewers and
supervisors, who may open those clues anyway.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from app.context import scenario_set
from app.extensions import db
from app.models import Category, District, EarlyWarning, Role, User
from app.services import charts, warnings
from app.services.errors import DomainError
from app.services.scenario_config import ScenarioError, ScenarioSet
from app.timeutil import local_today, utcnow
from app.web.review import bp
from app.web.review.access import TRIAGE_ROLES, roles_required
from app.web.review.forms import AcknowledgeWarningForm

VIEW_ROLES = (Role.REVIEWER, Role.SUPERVISOR, Role.ANALYST)
LIST_DAYS = 90
LIST_LIMIT = 300
DIMENSION_LABELS = {"category": _l("类别"), "district": _l("区域"), "agency": _l("执法主体"),
                    "theme": _l("专题")}
RULE_LABELS = {"day": _l("单日超出上限"), "two_days": _l("连续两日合计超出上限")}


def _themes() -> ScenarioSet | None:
    """The configured scenarios; None when the file fails its checks (the
    scenarios page says why): theme warnings then show their key."""
    try:
        return scenario_set()
    except ScenarioError:
        return None


def _labels(themes: ScenarioSet | None) -> dict[str, dict[str, str]]:
    return {"category": {r.code: r.name for r in db.session.execute(
                select(Category.code, Category.name))},
            "district": {r.code: r.name for r in db.session.execute(
                select(District.code, District.name))},
            "theme": {t.key: f"{s.name} · {t.name}" for s, t in themes.themes()}
            if themes else {}}


def _context(themes: ScenarioSet | None) -> dict[str, Any]:
    return {"names": _labels(themes), "dimension_labels": DIMENSION_LABELS,
            "rule_labels": RULE_LABELS}


@bp.get("/warnings")
@roles_required(*VIEW_ROLES)
def warnings_page() -> ResponseReturnValue:
    open_only = request.args.get("open") == "1"
    query = select(EarlyWarning).where(
        EarlyWarning.day >= local_today() - timedelta(days=LIST_DAYS))
    if open_only:
        query = query.where(EarlyWarning.acknowledged_at.is_(None))
    rows = db.session.scalars(query.order_by(EarlyWarning.day.desc(), EarlyWarning.id.desc())
                              .limit(LIST_LIMIT)).all()
    return render_template("review/warnings.html", warnings=rows, open_only=open_only,
                           list_days=LIST_DAYS, **_context(_themes()))


@bp.get("/warnings/<int:warning_id>")
@roles_required(*VIEW_ROLES)
def warning_page(warning_id: int) -> ResponseReturnValue:
    warning = db.get_or_404(EarlyWarning, warning_id)
    themes = _themes()
    detail = warnings.detail(db.session, warning, themes)
    acknowledger = (db.session.get(User, warning.acknowledged_by_id)
                    if warning.acknowledged_by_id else None)
    return render_template(
        "review/warning.html", detail=detail, warning=warning, acknowledger=acknowledger,
        form=AcknowledgeWarningForm(), may_act=current_user.role in TRIAGE_ROLES,
        **_context(themes))


@bp.get("/warnings/<int:warning_id>/series.svg")
@roles_required(*VIEW_ROLES)
def warning_chart(warning_id: int) -> ResponseReturnValue:
    """The warning's series as an SVG drawn on the server (numbers: the page's table)."""
    days = warnings.detail(db.session, db.get_or_404(EarlyWarning, warning_id), _themes()).days
    svg = charts.band(tuple(d.day for d in days), tuple(d.count for d in days),
                      tuple(round(d.expected, 2) for d in days), tuple(d.upper for d in days),
                      tuple(d.flag is not None for d in days),
                      (_("线索数"), _("预期"), _("预期范围上限")))
    return charts.svg_response(svg)


@bp.post("/warnings/<int:warning_id>/acknowledge")
@roles_required(*TRIAGE_ROLES)
def acknowledge_warning(warning_id: int) -> ResponseReturnValue:
    form = AcknowledgeWarningForm()
    if not form.validate_on_submit():
        flash(_("操作未完成：说明不超过500字。"), "error")
    else:
        try:
            warnings.acknowledge(db.session, warning_id, user=current_user,
                                 note=form.note.data or "", now=utcnow())
        except DomainError as exc:
            if exc.code == "not_found":
                abort(404)
            flash(_("该预警已确认，无需重复确认。"), "error")
        else:
            flash(_("已确认该预警。"), "success")
    return redirect(url_for("review.warning_page", warning_id=warning_id))
