"""/api/v1 views: each validates its input, calls one service, shapes the answer."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, jsonify, request
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app.api import bp
from app.api.errors import error_response, validation_error
from app.api.openapi import document
from app.context import attachment_policy, intake_keys
from app.extensions import db, limiter
from app.messages import status_label
from app.models import (
    Category,
    Channel,
    Department,
    District,
    Exclusion,
    TokenChannel,
)
from app.ratelimit import (
    client_key,
    count_token_failure,
    receipt_key,
    session_key,
    token_failures_exhausted,
    token_key,
)
from app.services import campaigns, intake, lookup, people, reference_cache
from app.services.attachments import AttachmentsRefused
from app.services.errors import (
    CampaignClosed,
    Excluded,
    NotConfigured,
    NotFound,
    ValidationFailed,
)
from app.timeutil import rfc3339, utcnow
from app.uploads.request import uploads
from app.uploads.text import refusal

F = TypeVar("F", bound=Callable[..., Any])


def _limit(name: str) -> Callable[[], str]:
    return lambda: current_app.config[name]


def bearer_token() -> reference_cache.Token | None:
    """The live API token named by the request's ``Authorization: Bearer`` header."""
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return people.authenticate_token(db.session, token.strip(), utcnow())


def require_token(*channels: TokenChannel) -> Callable[[F], F]:
    """Bearer token of one of ``channels``: 401 if missing or wrong, 403 if elsewhere."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if token_failures_exhausted():
                return error_response(429, "too_many_requests", _("请求过于频繁，请稍后再试。"))
            row = bearer_token()
            if row is None:
                count_token_failure()
                return error_response(401, "unauthorized", _("缺少或无效的访问令牌。"))
            if row.channel not in channels:
                return error_response(403, "forbidden", _("该令牌无权调用此接口。"))
            g.api_token = row
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


@bp.get("/openapi.json")
def openapi() -> Any:
    return jsonify(document())


@bp.get("/campaigns/current")
def current_campaign() -> Any:
    campaign = campaigns.current_campaign(db.session, utcnow())
    if campaign is None:
        return error_response(404, "no_campaign", _("目前没有征集活动。"))
    categories = db.session.scalars(select(Category).order_by(Category.position))
    return jsonify({
        "slug": campaign.slug,
        "title": campaign.title,
        "opens_at": rfc3339(campaign.opens_at),
        "deadline": rfc3339(campaign.deadline),
        "open": campaign.is_open(utcnow()),
        "categories": [
            {"code": c.code, "name": c.name, "name_en": c.name_en,
             "situations": [{"code": s.code, "name": s.name, "name_en": s.name_en}
                            for s in c.situations]}
            for c in categories
        ],
        "exclusions": [
            {"code": e.code, "question": e.question, "question_en": e.question_en}
            for e in db.session.scalars(select(Exclusion).order_by(Exclusion.position))
        ],
        "districts": [
            {"code": d.code, "name": d.name, "name_en": d.name_en}
            for d in db.session.scalars(select(District).order_by(District.position))
        ],
        "departments": [
            {"code": d.code, "name": d.name, "name_en": d.name_en}
            for d in db.session.scalars(
                select(Department).where(Department.active.is_(True))
                .order_by(Department.position))
        ],
    })


@bp.post("/clues")
@require_token(TokenChannel.APP, TokenChannel.HOTLINE)
@limiter.limit(_limit("JIDU_LIMIT_API_TOKEN"), key_func=token_key)
def create_clue() -> Any:
    # Addition to v1: multipart/form-data with the same JSON in a ``payload``
    # part and up to JIDU_MAX_ATTACHMENTS ``files`` parts.
    sent = []
    if request.mimetype == "multipart/form-data":
        sent = uploads(request.files.getlist("files"))
        try:
            payload = json.loads(request.form.get("payload") or "")
        except ValueError:
            payload = None
    else:
        payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return error_response(400, "bad_request", _("请求体必须是 JSON 对象。"))
    token = g.api_token
    channel = Channel.HOTLINE if token.channel == TokenChannel.HOTLINE else Channel.APP
    try:
        submitted = intake.submit(db.session, payload, channel=channel, keys=intake_keys(),
                                  now=utcnow(), actor=f"api:{token.name}",
                                  api_token_id=token.id, uploads=sent,
                                  policy=attachment_policy())
    except AttachmentsRefused as exc:
        return _attachments_refused(exc)
    except CampaignClosed:
        return error_response(403, "campaign_closed", _("征集活动不在受理期内，未保存任何内容。"))
    except Excluded as exc:
        return error_response(422, "excluded",
                              _("该线索不属于本次征集范围，未保存任何内容。"), rules=exc.rules)
    except ValidationFailed as exc:
        return validation_error(exc.fields)
    except NotConfigured:
        return error_response(503, "not_configured", _("系统暂时无法受理实名线索，请稍后再试。"))
    body: dict[str, Any] = {"tracking_no": submitted.tracking_no, "receipt": submitted.receipt,
                            "status": "received"}
    if sent:
        body["attachments"] = [
            {"kind": row.kind, "mime": row.mime, "size": row.size_bytes,
             "removed": list(row.removed)}
            for row in submitted.files]
    return jsonify(body), 201


def _attachments_refused(exc: AttachmentsRefused) -> Any:
    config = current_app.config
    words = {"max_files": int(config["JIDU_MAX_ATTACHMENTS"]),
             "max_mb": int(config["JIDU_MAX_ATTACHMENT_MB"])}
    fields = {("files" if p.index < 0 else f"files.{p.index}"): refusal(p.code, **words)
              for p in exc.problems}
    codes = {("files" if p.index < 0 else f"files.{p.index}"): p.code for p in exc.problems}
    status = 503 if any(p.code == "not_configured" for p in exc.problems) else 422
    return error_response(status, "attachment_refused", _("附件未能接收，未保存任何内容。"),
                          fields=fields, reasons=codes)


@bp.post("/receipts/lookup")
@limiter.limit(_limit("JIDU_LIMIT_LOOKUP_ADDRESS"), key_func=client_key)
@limiter.limit(_limit("JIDU_LIMIT_LOOKUP_SESSION"), key_func=session_key)
@limiter.limit(_limit("JIDU_LIMIT_LOOKUP_RECEIPT"), key_func=receipt_key)
def lookup_receipt() -> Any:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return error_response(400, "bad_request", _("请求体必须是 JSON 对象。"))
    receipt = payload.get("receipt")
    if not isinstance(receipt, str) or not receipt.strip() or len(receipt) > 100:
        return validation_error({"receipt": "required" if not receipt else "type"})
    try:
        view = lookup.by_receipt(db.session, receipt,
                                 receipt_key=current_app.config["JIDU_RECEIPT_KEY"])
    except NotFound:
        return error_response(404, "not_found", _("未找到与该回执码对应的线索。"))
    with force_locale("zh_CN"):
        label = status_label(view.status)
    return jsonify({
        "tracking_no": view.tracking_no,
        "status": str(view.status),
        "status_label": label,
        "submitted_at": rfc3339(view.submitted_at),
        "feedback": [{"at": rfc3339(f.at), "message": f.message} for f in view.feedback],
    })
