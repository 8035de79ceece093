"""/api/v1/hotline: work orders from the 12345 hotline, their outcome and 回访."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, jsonify, request
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app.api import bp
from app.api.errors import error_response, validation_error
from app.api.routes import _limit, require_token
from app.extensions import db, limiter
from app.messages import status_label
from app.models import Clue, ClueEvent, Dispute, HotlineOrder, TokenChannel
from app.ratelimit import token_key
from app.services import hotline, keys
from app.services.errors import Conflict, NotConfigured, NotFound, ValidationFailed
from app.services.workflow import IllegalTransition
from app.timeutil import rfc3339, utcnow

SCREENED_OUT = "screened_out"


def _dispute(order: HotlineOrder, *, full: bool) -> dict[str, Any] | None:
    if order.dispute_id is None:
        return None
    dispute = db.session.get(Dispute, order.dispute_id)
    if dispute is None:
        return None
    body: dict[str, Any] = {"opened_at": rfc3339(dispute.opened_at),
                            "due_at": rfc3339(dispute.due_at)}
    if full:
        body.update({"resolved_at": rfc3339(dispute.resolved_at),
                     "department": dispute.designated_department_code,
                     "overdue": dispute.overdue(utcnow())})
    return body


def created_body(order: HotlineOrder) -> dict[str, Any]:
    clue = db.session.get(Clue, order.clue_id) if order.clue_id else None
    return {"order_no": order.order_no, "screening": order.screening(),
            "clue_tracking_no": clue.tracking_no if clue else None,
            "dispute": _dispute(order, full=False)}


def state_body(order: HotlineOrder) -> dict[str, Any]:
    """What the 12345 operator may tell the caller: status, department, outcome."""
    clue = db.session.get(Clue, order.clue_id) if order.clue_id else None
    status = str(clue.status) if clue else SCREENED_OUT
    with force_locale("zh_CN"):
        label = status_label(status) if clue else _("非涉企执法问题，按热线流程办理")
    feedback = []
    if clue is not None:
        feedback = [{"at": rfc3339(e.at), "message": e.public_message}
                    for e in db.session.scalars(
                        select(ClueEvent).where(ClueEvent.clue_id == clue.id,
                                                ClueEvent.public_message.is_not(None))
                        .order_by(ClueEvent.id))]
    return {
        "order_no": order.order_no,
        "status": status,
        "status_label": label,
        "handling_department": clue.handling_department_code if clue else None,
        "dispute": _dispute(order, full=True),
        "screening": order.screening(),
        "clue_tracking_no": clue.tracking_no if clue else None,
        "conclusion": clue.conclusion if clue else None,
        "feedback": feedback,
        "callback": ({"satisfaction": order.callback_satisfaction,
                      "at": rfc3339(order.callback_at)} if order.callback_satisfaction else None),
    }


@bp.post("/hotline/orders")
@require_token(TokenChannel.HOTLINE)
@limiter.limit(_limit("JIDU_LIMIT_API_TOKEN"), key_func=token_key)
def hotline_order() -> Any:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return error_response(400, "bad_request", _("请求体必须是 JSON 对象。"))
    try:
        public = keys.active_public_key(db.session)
    except NotConfigured:
        public = None
    try:
        order, created = hotline.receive(
            db.session, payload, public_key=public,
            receipt_key=current_app.config["JIDU_RECEIPT_KEY"], now=utcnow(),
            actor=f"api:{g.api_token.name}")
    except ValidationFailed as exc:
        return validation_error(exc.fields)
    except hotline.OrderConflict:
        return error_response(409, "order_conflict",
                              _("该工单编号已以不同内容提交过；如需更正请使用新的工单编号。"))
    except NotConfigured:
        return error_response(503, "not_configured",
                              _("系统暂时无法受理含来电人信息的工单，请稍后再试。"))
    return jsonify(created_body(order)), 201 if created else 200


@bp.get("/hotline/orders/<order_no>")
@require_token(TokenChannel.HOTLINE)
@limiter.limit(_limit("JIDU_LIMIT_API_TOKEN"), key_func=token_key)
def hotline_order_state(order_no: str) -> Any:
    try:
        order = hotline.get(db.session, order_no)
    except NotFound:
        return error_response(404, "not_found", _("未找到该工单。"))
    return jsonify(state_body(order))


@bp.post("/hotline/orders/<order_no>/callback")
@require_token(TokenChannel.HOTLINE)
@limiter.limit(_limit("JIDU_LIMIT_API_TOKEN"), key_func=token_key)
def hotline_callback(order_no: str) -> Any:
    """The hotline's 回访: the caller's satisfaction, counted like a reporter's answer."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return error_response(400, "bad_request", _("请求体必须是 JSON 对象。"))
    satisfaction = payload.get("satisfaction")
    if not isinstance(satisfaction, str):
        return validation_error({"satisfaction": "required"})
    try:
        order = hotline.record_callback(db.session, order_no, satisfaction=satisfaction,
                                        now=utcnow())
    except NotFound:
        return error_response(404, "not_found", _("未找到该工单。"))
    except ValidationFailed as exc:
        return validation_error(exc.fields)
    except (Conflict, IllegalTransition):
        db.session.rollback()
        return error_response(409, "not_ratable",
                              _("该工单尚无可评价的办理结果，或本次结果已评价过。"))
    return jsonify(state_body(order))
