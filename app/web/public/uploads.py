"""Attachments at the public door: words for refusals, the done page, too-large requests."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import IO, Any, cast

from flask import current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from werkzeug.formparser import FormDataParser
from werkzeug.wsgi import LimitedStream

from app.extensions import db
from app.services import attachments
from app.services.attachments import AttachmentsRefused, Upload
from app.uploads.request import uploads
from app.uploads.text import KINDS, refusal, removed_summary, size_label
from app.web.public import bp

RESELECT = _l("请重新选择附件：页面重新显示后，浏览器不会保留已选择的文件。")
REPORT_ENDPOINTS = ("public.report", "public.report_tagged")


def limits() -> dict[str, int]:
    config = current_app.config
    return {"max_files": int(config["JIDU_MAX_ATTACHMENTS"]),
            "max_mb": int(config["JIDU_MAX_ATTACHMENT_MB"])}


def chosen(name: str = "attachments") -> list[Upload]:
    return uploads(request.files.getlist(name))


def refusal_messages(exc: AttachmentsRefused) -> list[str]:
    """One line per problem, naming the file it is about."""
    words = limits()
    lines = []
    for problem in exc.problems:
        text = refusal(problem.code, **words)
        lines.append(f"{problem.filename}：{text}" if problem.filename else text)
    return lines


def ask_to_reselect(field: Any) -> None:
    """The browser forgets chosen files when a page comes back: say so at the field."""
    if request.method == "POST" and chosen() and str(RESELECT) not in field.errors:
        field.errors = [*list(field.errors), str(RESELECT)]


def stored_summaries(clue_id: int, sent: list[Upload],
                     files: Sequence[Any] | None = None) -> list[dict[str, str]]:
    """What the reporter is told on the done page, file by file (names from the request:
    the server cannot read the stored ones back). ``files``: what intake stored, when it
    says so itself (then the database is not asked again)."""
    rows: Sequence[Any] = files if files is not None else (
        attachments.for_clue(db.session, clue_id)[-len(sent):] if sent else [])
    return [{"name": attachments.clean_name(upload.filename)[:80],
             "kind": str(KINDS.get(row.kind, row.kind)), "size": size_label(row.size_bytes),
             "summary": removed_summary(row.kind, row.removed)}
            for upload, row in zip(sent, rows, strict=False)]


class _Discard(io.RawIOBase):
    """Where files go when only the typed fields of a too-large form are wanted."""

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0


def _typed_fields() -> MultiDict[str, str] | None:
    """The text fields of a too-large multipart form, its files thrown away unread.

    Only up to four times the upload limit is read this way; beyond that the
    connection is not worth it and the reporter is asked to go back instead.
    """
    length = request.content_length
    if request.mimetype != "multipart/form-data" or length is None or (
            length > 4 * int(current_app.config["JIDU_UPLOAD_REQUEST_BYTES"])):
        return None
    parser = FormDataParser(stream_factory=lambda *_a, **_k: cast(IO[bytes], _Discard()),
                            max_form_memory_size=current_app.config["MAX_FORM_MEMORY_SIZE"],
                            max_content_length=None)
    try:
        body = cast(IO[bytes], LimitedStream(request.environ["wsgi.input"], length))
        _stream, form, _files = parser.parse(body,
                                             request.mimetype, length,
                                             request.mimetype_params)
    except Exception:  # noqa: BLE001 - a broken body: fall back to the plain answer
        return None
    return form


def _report_again(form_data: MultiDict[str, str], message: str) -> ResponseReturnValue:
    from app.services import campaigns
    from app.timeutil import utcnow
    from app.web.public.forms import ReportForm
    from app.web.public.routes import _prepare, _reference

    reference = _reference()
    form = ReportForm(formdata=form_data)
    _prepare(form, reference)
    form.attachments.errors = [message, str(RESELECT)]
    tag = (request.view_args or {}).get("tag")
    page = render_template("public/report.html", form=form, tag=tag, problem=message,
                           campaign=campaigns.current_campaign(db.session, utcnow()),
                           **reference, **limits())
    return page, 413


@bp.app_errorhandler(413)
def too_large(error: Exception) -> ResponseReturnValue:
    from app.uploads.request import UPLOAD_ENDPOINTS

    words = limits()
    # Files make a request too large; a request within its limit was refused
    # for a text field over MAX_FORM_MEMORY_SIZE, which no file caused.
    files = request.endpoint in UPLOAD_ENDPOINTS and request.mimetype == "multipart/form-data" and (
        request.content_length is None
        or request.content_length > (request.max_content_length or 0))
    message = _("提交的附件合计过大。附件最多%(max_files)d个，每个不超过%(max_mb)d MB。", **words)
    if not files:
        message = _("提交的内容过大，请精简后再试。")
    if request.path.startswith("/api/"):
        return jsonify({"error": {"code": "too_large", "message": message}}), 413
    if request.method == "POST" and request.endpoint in REPORT_ENDPOINTS:
        typed = _typed_fields()
        if typed is not None:
            return _report_again(typed, message + _("您填写的其他内容都还在。"))
    back = _("请返回上一页，去掉过大的附件后再提交；返回后您填写的文字通常仍在。")
    if not files:
        back = _("请返回上一页，精简过长的文字后再提交。")
    return render_template("public/message.html", message=f"{message}{back}"), 413


@bp.app_context_processor
def _attachment_limits() -> dict[str, Any]:
    """What the file fields say and check: limits and the accept= list."""
    from app.uploads.sniff import ACCEPT

    return {"attachment_limits": limits(), "attachment_accept": ACCEPT}
