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

from app.extensions import db
from app.models import Category, District, EarlyWarning, Role, User
from app.services import warnings
from app.services.errors import DomainError
from app.timeutil import local_today, utcnow
from app.web.review import bp
from app.web.review.access import TRIAGE_ROLES, roles_required
from app.web.review.forms import AcknowledgeWarningForm

VIEW_ROLES = (Role.REVIEWER, Role.SUPERVISOR, Role.ANALYST)
LIST_DAYS = 90
LIST_LIMIT = 300
DIMENSION_LABELS = {"category": _l("类别"), "district": _l("区域"), "agency": _l("执法主体")}
RULE_LABELS = {"day": _l("单日超出上限"), "two_days": _l("连续两日合计超出上限")}


def _labels() -> dict[str, dict[str, str]]:
    return {"category": {r.code: r.name for r in db.session.execute(
                select(Category.code, Category.name))},
            "district": {r.code: r.name for r in db.session.execute(
                select(District.code, District.name))}}


def _context() -> dict[str, Any]:
    return {"names": _labels(), "dimension_labels": DIMENSION_LABELS,
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
                           list_days=LIST_DAYS, **_context())


@bp.get("/warnings/<int:warning_id>")
@roles_required(*VIEW_ROLES)
def warning_page(warning_id: int) -> ResponseReturnValue:
    warning = db.session.get(EarlyWarning, warning_id)
    if warning is None:
        abort(404)
    detail = warnings.detail(db.session, warning)
    acknowledger = (db.session.get(User, warning.acknowledged_by_id)
                    if warning.acknowledged_by_id else None)
    return render_template(
        "review/warning.html", detail=detail, warning=warning, acknowledger=acknowledger,
        form=AcknowledgeWarningForm(), may_act=current_user.role in TRIAGE_ROLES,
        chart_top=max([d.count for d in detail.days] + [d.upper for d in detail.days] + [1]),
        **_context())


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
