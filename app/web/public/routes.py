"""Public views: the notice, the form, the receipt, the look-up, QR codes, the poster."""

from __future__ import annotations

import io
import re
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import qrcode
import qrcode.image.svg
from flask import (
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from qrcode.constants import ERROR_CORRECT_M
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from wtforms import SelectChoice

from app.context import attachment_policy, intake_keys
from app.extensions import csrf, db, limiter
from app.messages import field_message, status_label
from app.models import (
    Campaign,
    Channel,
    SourceTag,
)
from app.ratelimit import client_key, ensure_session_id, receipt_key, session_key
from app.services import campaigns, lookup, reference_cache, workflow
from app.services.errors import (
    CampaignClosed,
    DomainError,
    Excluded,
    NotConfigured,
    NotFound,
    ValidationFailed,
)
from app.timeutil import local, utcnow
from app.web.public import bp
from app.web.public.forms import FIELD_FOR_KEY, RatingForm, ReplyForm, ReportForm, StatusForm
from app.web.public.uploads import (
    ask_to_reselect,
    chosen,
    refusal_messages,
    stored_summaries,
)

TAG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
STATUS_SESSION_MINUTES = 30


def _limit(name: str) -> Any:
    return lambda: current_app.config[name]


@bp.app_template_filter("localized")
def localized(row: Any, attr: str = "name", *, english: bool | None = None) -> str:
    """A reference row's name in the page's language (``name`` / ``name_en``);
    ``english``: the language, when the caller names many rows at once."""
    if english is None:
        english = str(get_locale()) == "en"
    if english:
        return str(getattr(row, f"{attr}_en", None) or getattr(row, attr))
    return str(getattr(row, attr))


@bp.app_context_processor
def _language_links() -> dict[str, Any]:
    def lang_url(code: str) -> str:
        """The current page in another language: same path, same query, new ``lang``."""
        args = request.args.to_dict(flat=False)
        args["lang"] = [code]
        query = "&".join(f"{quote(k)}={quote(v)}" for k, values in args.items() for v in values)
        return f"{request.path}?{query}"

    return {"lang_url": lang_url}


@bp.app_template_filter("day")
def day(moment: Any) -> str:
    """The calendar day in Asia/Shanghai, written as people write it (2025年4月25日)."""
    when = local(moment).date()
    return _("%(y)d年%(m)d月%(d)d日", y=when.year, m=when.month, d=when.day)


@bp.app_template_filter("last_day")
def last_day(deadline: Any) -> str:
    """A deadline of 2025-10-01 00:00 (exclusive) is shown as 2025年9月30日."""
    return day(deadline - timedelta(seconds=1))


@bp.get("/healthz")
def healthz() -> Any:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return jsonify({"status": "unavailable"}), 503
    return jsonify({"status": "ok"})


@bp.get("/")
def index() -> ResponseReturnValue:
    now = utcnow()
    campaign = campaigns.current_campaign(db.session, now)
    return render_template("public/index.html", campaign=campaign,
                           is_open=bool(campaign and campaign.is_open(now)), now=now)


def _reference() -> dict[str, Any]:
    """What the form shows, from the process's copy of the reference tables."""
    snapshot = reference_cache.current(db.session)
    return {"exclusions": snapshot.exclusion_rows, "categories": snapshot.category_rows,
            "districts": snapshot.district_rows, "departments": snapshot.department_rows}


def _prepare(form: ReportForm, reference: dict[str, Any]) -> None:
    """Choices and question texts from the reference tables, in the page's language."""
    english = str(get_locale()) == "en"

    def name_of(row: Any, attr: str = "name") -> str:
        return localized(row, attr, english=english)

    categories: tuple[reference_cache.CategoryRow, ...] = reference["categories"]
    for exclusion in reference["exclusions"]:
        form[f"ex_{exclusion.code}"].label.text = name_of(exclusion, "question")
    form.category.choices = [SelectChoice(c.code, name_of(c)) for c in categories]
    form.situations.choices = [SelectChoice(s.code, name_of(s)) for c in categories
                               for s in c.situations]
    form.department.choices = [SelectChoice("", _("不清楚"))] + [
        SelectChoice(d.code, name_of(d)) for d in reference["departments"]]
    form.district.choices = [SelectChoice("", _("请选择"))] + [
        SelectChoice(d.code, name_of(d)) for d in reference["districts"]]


def _closed_page(campaign: Campaign | None) -> ResponseReturnValue:
    # A closed notice is a page like any other; only a refused submission is a 403.
    status = 403 if request.method == "POST" else 200
    return render_template("public/closed.html", campaign=campaign, now=utcnow()), status


def _excluded_page(codes: list[str],
                   exclusions: Iterable[reference_cache.Question]) -> ResponseReturnValue:
    guidance = [e for e in exclusions if e.code in codes]
    return render_template("public/excluded.html", exclusions=guidance), 422


@bp.route("/report", methods=["GET", "POST"], endpoint="report")
@bp.route("/q/<tag>", methods=["GET", "POST"], endpoint="report_tagged")
# The form checks its CSRF token itself (FlaskForm), so that a stale token
# re-renders the form with everything typed instead of an error page.
@csrf.exempt
@limiter.limit(_limit("JIDU_LIMIT_SUBMIT_ADDRESS"), key_func=client_key, methods=["POST"])
@limiter.limit(_limit("JIDU_LIMIT_SUBMIT_SESSION"), key_func=session_key, methods=["POST"])
def report(tag: str | None = None) -> ResponseReturnValue:
    now = utcnow()
    if reference_cache.current(db.session).open_campaign(now) is None:
        return _closed_page(campaigns.current_campaign(db.session, now))
    ensure_session_id()
    reference = _reference()
    form = ReportForm()
    _prepare(form, reference)
    source_tag = None
    if tag is not None:
        source_tag = tag[:40] if TAG.fullmatch(tag) else "unknown"
    problem = None
    excluded = [code for code, yes in form.exclusion_answers().items() if yes]
    if request.method == "GET":
        form.nonce.data = secrets.token_urlsafe(16)
    elif excluded and not form.website.data:
        # As in the API, an exclusion is answered before the rest is checked:
        # nothing else typed matters, and nothing is stored.
        return _excluded_page(excluded, reference["exclusions"])
    elif form.validate_on_submit():
        if form.website.data:
            problem = _("提交未成功，请检查后重试。")
        elif form.nonce.data and form.nonce.data == session.get("used_nonce"):
            # The same form sent twice (double tap, reload): one clue only.
            return redirect(url_for("public.done"))
        else:
            outcome, problem = _submit(form, source_tag, tag, reference)
            if outcome is not None:
                return outcome
    else:
        if "csrf_token" in form.errors:
            problem = _("页面停留时间较长或已在别处打开，请再点一次“提交”，您填写的内容都还在。")
        else:
            problem = _("请根据提示修改后再提交，您填写的内容都还在。")
    ask_to_reselect(form.attachments)
    return render_template("public/report.html", form=form, tag=tag, problem=problem,
                           **reference)


def _submit(form: ReportForm, source_tag: str | None, tag: str | None,
            reference: dict[str, Any]) -> tuple[ResponseReturnValue | None, str | None]:
    """Hand the form to intake; a response, or the problem to show above the form."""
    from app.services import intake
    from app.services.attachments import AttachmentsRefused

    channel = Channel.QR if tag is not None else Channel.WEB
    sent = chosen()
    try:
        submitted = intake.submit(db.session, form.payload(source_tag), channel=channel,
                                  keys=intake_keys(), now=utcnow(), actor="reporter",
                                  uploads=sent, policy=attachment_policy())
    except AttachmentsRefused as exc:
        form.attachments.errors = refusal_messages(exc)
        return None, _("附件未能接收，请按提示处理后重新选择文件；您填写的其他内容都还在。")
    except Excluded as exc:
        return _excluded_page(list(exc.rules), reference["exclusions"]), None
    except CampaignClosed:
        return _closed_page(campaigns.current_campaign(db.session, utcnow())), None
    except ValidationFailed as exc:
        for key, code in exc.fields.items():
            name = FIELD_FOR_KEY.get(key, key.split(".")[0])
            field = getattr(form, name, None) or form.description
            field.errors = [*list(field.errors), field_message(code)]
        return None, _("请根据提示修改后再提交，您填写的内容都还在。")
    except NotConfigured:
        # No identity key yet: a real-name report cannot be sealed, so none is taken.
        message = _("系统暂时无法受理实名线索，请稍后再试，或选择匿名反映。您填写的内容都还在。")
        form.real_name.errors = [message]
        return None, message
    category = next(c for c in reference["categories"] if c.code == submitted.category)
    session["used_nonce"] = form.nonce.data
    session["receipt_once"] = {
        "tracking_no": submitted.tracking_no, "receipt": submitted.receipt,
        "date": local(submitted.submitted_at).strftime("%Y-%m-%d %H:%M"),
        "category": localized(category),
        "attachments": stored_summaries(submitted.clue_id, sent, submitted.files),
    }
    return redirect(url_for("public.done")), None


@bp.get("/report/done")
def done() -> ResponseReturnValue:
    shown = session.pop("receipt_once", None)
    page = render_template("public/done.html", shown=shown)
    response = Response(page)
    # The receipt is on this page once: never cached, never shown again.
    response.headers["Cache-Control"] = "no-store"
    return response


def _status_view(receipt: str) -> Any:
    return lookup.by_receipt(db.session, receipt,
                             receipt_key=current_app.config["JIDU_RECEIPT_KEY"])


@bp.route("/status", methods=["GET", "POST"])
@csrf.exempt  # checked by StatusForm, so that a stale page keeps the typed receipt
@limiter.limit(_limit("JIDU_LIMIT_LOOKUP_ADDRESS"), key_func=client_key, methods=["POST"])
@limiter.limit(_limit("JIDU_LIMIT_LOOKUP_SESSION"), key_func=session_key, methods=["POST"])
@limiter.limit(_limit("JIDU_LIMIT_LOOKUP_RECEIPT"), key_func=receipt_key, methods=["POST"])
def status() -> ResponseReturnValue:
    ensure_session_id()
    form = StatusForm()
    view, not_found, expired = None, False, False
    if request.method == "POST" and not form.validate():
        expired = "csrf_token" in form.errors
    elif request.method == "POST":
        try:
            view = _status_view(form.receipt.data or "")
        except NotFound:
            not_found = True
        else:
            # Lets the reporter answer or rate on this page for a while
            # without the receipt being written into the page.
            session["status_clue"] = {"id": view.clue_id, "until": utcnow().timestamp()
                                      + STATUS_SESSION_MINUTES * 60}
    response = Response(render_template(
        "public/status.html", form=form, view=view, not_found=not_found, expired=expired,
        status_label=status_label, reply_form=ReplyForm(), rating_form=RatingForm()))
    response.headers["Cache-Control"] = "no-store"
    return response


def _status_clue() -> int | None:
    held = session.get("status_clue")
    if not isinstance(held, dict) or held.get("until", 0) < utcnow().timestamp():
        return None
    return int(held["id"])


def _reporter_action(form: Any, act: Any, *, done: str, refused: str,
                     invalid: str) -> ResponseReturnValue:
    """A reporter's answer on the status page, for the clue looked up moments ago."""
    clue_id = _status_clue()
    if clue_id is None:
        message = _("查询已过期，请重新输入回执码。")
    elif not form.validate_on_submit():
        message = invalid
    else:
        try:
            act(clue_id)
            message = done
        except DomainError:
            db.session.rollback()
            message = refused
    return render_template("public/message.html", message=message)


@bp.post("/status/reply")
@limiter.limit(_limit("JIDU_LIMIT_SUBMIT_SESSION"), key_func=session_key)
def status_reply() -> ResponseReturnValue:
    """The reporter's answer, with files if any; a refused file gives the page back
    with the answer still typed and the reason at the file field."""
    from app.services.attachments import AttachmentsRefused

    form = ReplyForm()
    sent = chosen()
    clue_id = _status_clue()
    if clue_id is None:
        message = _("查询已过期，请重新输入回执码。")
    elif not form.validate_on_submit():
        message = _("请填写补充内容（最多4000字）。")
    else:
        try:
            workflow.reporter_reply(db.session, clue_id, text=form.reply.data or "",
                                    now=utcnow(), uploads=sent, policy=attachment_policy())
        except AttachmentsRefused as exc:
            db.session.rollback()
            form.attachments.errors = refusal_messages(exc)
            ask_to_reselect(form.attachments)
            response = Response(render_template(
                "public/status.html", form=StatusForm(), view=lookup.for_clue(db.session, clue_id),
                not_found=False, expired=False, status_label=status_label, reply_form=form,
                rating_form=RatingForm(),
                reply_problem=_("附件未能接收，请按提示处理后重新选择文件；您填写的补充内容都还在。")))
            response.headers["Cache-Control"] = "no-store"
            return response, 422
        except DomainError:
            db.session.rollback()
            message = _("该线索已办结，无法再补充。")
        else:
            return render_template("public/message.html", message=_("补充内容已提交，感谢配合。"),
                                   stored=stored_summaries(clue_id, sent))
    return render_template("public/message.html", message=message)


@bp.post("/status/rate")
@limiter.limit(_limit("JIDU_LIMIT_SUBMIT_SESSION"), key_func=session_key)
def status_rate() -> ResponseReturnValue:
    form = RatingForm()
    return _reporter_action(
        form, lambda clue_id: workflow.rate(db.session, clue_id, rating=form.rating.data or "",
                                            now=utcnow()),
        done=_("感谢您的评价。"), refused=_("本次办理结果已评价过。"),
        invalid=_("请选择满意程度。"))


def _qr_target(tag: str | None) -> str:
    base = current_app.config["JIDU_BASE_URL"]
    if tag is None:
        return f"{base}/report"
    if not TAG.fullmatch(tag):
        abort(404)
    return f"{base}/q/{tag}"


def _qr(target: str, factory: Any = None) -> bytes:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=4,
                         image_factory=factory)
    code.add_data(target)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    return buffer.getvalue()


@bp.get("/qr.png")
def qr_png() -> ResponseReturnValue:
    body = _qr(_qr_target(request.args.get("tag") or None))
    return Response(body, mimetype="image/png", headers={"Cache-Control": "public, max-age=3600"})


@bp.get("/qr.svg")
def qr_svg() -> ResponseReturnValue:
    body = _qr(_qr_target(request.args.get("tag") or None), qrcode.image.svg.SvgPathImage)
    return Response(body, mimetype="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=3600"})


@bp.get("/poster")
def poster() -> ResponseReturnValue:
    tag = request.args.get("tag") or None
    _qr_target(tag)
    label = db.session.scalar(select(SourceTag.label).where(SourceTag.tag == tag)) if tag else None
    now = utcnow()
    return render_template("public/poster.html", tag=tag, label=label,
                           campaign=campaigns.current_campaign(db.session, now),
                           categories=_reference()["categories"],
                           target=_qr_target(tag))


@bp.app_errorhandler(429)
def too_many(error: Exception) -> ResponseReturnValue:
    if request.path.startswith("/api/"):
        return jsonify({"error": {"code": "too_many_requests",
                                  "message": _("请求过于频繁，请稍后再试。")}}), 429
    if request.path.startswith("/open311/"):  # GeoReport's error shape
        return jsonify([{"code": 429, "description": "too many requests; try again later"}]), 429
    wait = _("操作过于频繁，请过几分钟再点一次提交；您填写的内容都还在。")
    if request.method == "POST" and request.endpoint in ("public.report", "public.report_tagged"):
        # Limited before the view ran: give the form back with everything typed.
        reference = _reference()
        form = ReportForm()
        _prepare(form, reference)
        tag = (request.view_args or {}).get("tag")
        page = render_template("public/report.html", form=form, tag=tag, problem=wait,
                               campaign=campaigns.current_campaign(db.session, utcnow()),
                               **reference)
        return page, 429
    if request.method == "POST" and request.endpoint == "public.status":
        page = render_template("public/status.html", form=StatusForm(), view=None,
                               not_found=False, expired=False, limited=True,
                               status_label=status_label, reply_form=ReplyForm(),
                               rating_form=RatingForm())
        return page, 429
    return render_template("errors/error.html", code=429, reason=None), 429
