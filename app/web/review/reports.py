"""报告 in the console: the kept daily and monthly reports, generated and downloaded.

For supervisors and analysts. A report is downloaded as a file (its own
print style travels inside it, and the console's strict CSP stays strict).
"""

from __future__ import annotations

import re
from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from app.extensions import db
from app.services import audit, reports
from app.timeutil import utcnow
from app.web.forms import Form
from app.web.review import bp
from app.web.review.access import roles_required
from app.web.review.figures import INSIGHT_ROLES

FILE = re.compile(r"^\d{4}-\d{2}(-\d{2})?\.(html|xlsx)$")
MIMETYPES = {"html": "text/html", "xlsx":
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class ReportForm(Form):
    kind = SelectField(_l("报告"), choices=[SelectChoice("daily", _l("民情日报")),
                                             SelectChoice("monthly", _l("月报"))],
                       validators=[DataRequired()])
    period = StringField(_l("日期（日报，如 2026-03-02）或月份（月报，如 2026-03）"),
                         validators=[DataRequired(), Length(max=10)])


def _data_dir() -> Path:
    return Path(current_app.config["JIDU_DATA_DIR"])


@bp.route("/reports", methods=["GET", "POST"])
@roles_required(*INSIGHT_ROLES)
def reports_page() -> ResponseReturnValue:
    form = ReportForm()
    if form.validate_on_submit():
        try:
            reports.generate(db.session, form.kind.data or "daily",
                             (form.period.data or "").strip(), data_dir=_data_dir(),
                             now=utcnow(), actor=f"user:{current_user.username}")
        except ValueError:
            db.session.rollback()
            flash(_("日期或月份格式不正确：日报填写如 2026-03-02，月报填写如 2026-03。"), "error")
        else:
            flash(_("报告已生成。"), "success")
            return redirect(url_for("review.reports_page"))
    return render_template("review/reports.html", form=form, kept=reports.stored(_data_dir()))


@bp.get("/reports/<kind>/<name>")
@roles_required(*INSIGHT_ROLES)
def report_file(kind: str, name: str) -> ResponseReturnValue:
    if kind not in reports.KINDS or not FILE.match(name):
        abort(404)
    path = reports.folder(_data_dir(), kind) / name
    if not path.is_file():
        abort(404)
    audit.record(db.session, actor=f"user:{current_user.username}", action="reports.download",
                 target=f"report:{kind}:{name}", now=utcnow())
    db.session.commit()
    response = send_file(path, mimetype=MIMETYPES[name.rsplit(".", 1)[1]], as_attachment=True,
                         download_name=f"jidu-{kind}-{name}", max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response
