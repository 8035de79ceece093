"""XLSX export of the queue: sent at once when small, else a job on the "我的导出" page.

The same roles as the CSV export, with the same filters (a liaison's scope
included). Only the requester may download a job's file; anyone else gets
404, as for an unknown link.
"""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from app.exports_worker import start_worker
from app.extensions import db
from app.services import export, export_jobs
from app.services.errors import NotFound
from app.timeutil import local, local_today, utcnow
from app.web.review import bp
from app.web.review.access import CLUE_ROLES, roles_required
from app.web.review.forms import ActionForm
from app.web.review.routes import _filters as queue_filters


def _actor() -> str:
    return f"user:{current_user.username}"


@bp.post("/export.xlsx")
@roles_required(*CLUE_ROLES)
def export_xlsx() -> ResponseReturnValue:
    """POST (it may create a job), with the queue's filters in the query string."""
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        result = export_jobs.request_xlsx(
            db.session, queue_filters(), user_id=current_user.id, actor=_actor(),
            inline_rows=current_app.config["JIDU_XLSX_INLINE_ROWS"], now=utcnow())
    except export_jobs.TooManyExports:
        db.session.rollback()
        flash(_("您已有 %(n)d 个导出正在生成，请等其完成后再导出。",
                n=export_jobs.MAX_OPEN_PER_USER), "error")
        return redirect(url_for("review.exports_page"))
    if result.content is not None:
        name = f"jidu-clues-{local_today().isoformat()}.xlsx"
        return Response(result.content, mimetype=export.XLSX_MIMETYPE,
                        headers={"Content-Disposition": f"attachment; filename={name}",
                                 "Cache-Control": "no-store"})
    if current_app.config["JIDU_EXPORT_IN_PROCESS"]:
        start_worker(current_app._get_current_object())  # type: ignore[attr-defined]
    flash(_("符合条件的线索较多，正在后台生成 XLSX 文件，完成后可在此下载。"), "success")
    return redirect(url_for("review.exports_page"))


@bp.get("/exports")
@roles_required(*CLUE_ROLES)
def exports_page() -> ResponseReturnValue:
    jobs = export_jobs.jobs_of(db.session, current_user.id)
    working = any(job.status in export_jobs.OPEN for job in jobs)
    retention = current_app.config["JIDU_EXPORT_RETENTION_HOURS"]
    return render_template("review/exports.html", jobs=jobs, working=working,
                           retention=retention)


@bp.get("/exports/<token>")
@roles_required(*CLUE_ROLES)
def download_export(token: str) -> ResponseReturnValue:
    try:
        job, path = export_jobs.open_download(
            db.session, token, user_id=current_user.id, actor=_actor(),
            data_dir=current_app.config["JIDU_DATA_DIR"], now=utcnow())
    except NotFound:
        db.session.rollback()
        abort(404)
    name = f"jidu-clues-{local(job.created_at).strftime('%Y-%m-%d-%H%M')}.xlsx"
    response = send_file(path, mimetype=export.XLSX_MIMETYPE, as_attachment=True,
                         download_name=name, max_age=0, conditional=False)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
