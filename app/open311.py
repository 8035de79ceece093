"""Open311 GeoReport v2, read-only, for the hotline: categories as services, orders as requests.

So that standard 311 tools can read what became of the hotline's orders.
Only hotline-linked clues are requests; each is named by the hotline's own
order number and carries only what the hotline already holds (its order
text) plus status, department and expected time — never an identity, never
a reporter's text from another channel. JSON only; errors in GeoReport's
shape, ``[{"code", "description"}]``. Authentication: the hotline's Bearer
token (never a key in the URL, which would end up in access logs).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from flask import Blueprint, Flask, current_app, jsonify, request
from flask_babel import force_locale
from sqlalchemy import select

from app.api.routes import bearer_token
from app.extensions import db, limiter
from app.messages import status_label
from app.models import Category, Clue, ClueEvent, Department, HotlineOrder, TokenChannel
from app.ratelimit import count_token_failure, token_failures_exhausted, token_key
from app.services import hotline
from app.timeutil import parse_aware, rfc3339

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
F = TypeVar("F", bound=Callable[..., Any])
CLOSED = {"closed", "merged", "feedback_given", "not_accepted"}
MAX_REQUESTS = 1000


def _error(status: int, description: str) -> Any:
    return jsonify([{"code": status, "description": description}]), status


def hotline_only(view: F) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if token_failures_exhausted():
            return _error(429, "too many wrong tokens from this address; try again later")
        row = bearer_token()
        if row is None:
            count_token_failure()
            return _error(401, "missing or wrong Bearer token")
        if row.channel != TokenChannel.HOTLINE:
            return _error(403, "this token may not read Open311")
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _limit() -> str:
    return str(current_app.config["JIDU_LIMIT_API_TOKEN"])


def _json_only(fmt: str) -> Any | None:
    if fmt != "json":
        return _error(400, "only the json format is offered")
    return None


@bp.get("/services.<fmt>")
@hotline_only
@limiter.limit(_limit, key_func=token_key)
def services(fmt: str) -> Any:
    if (refused := _json_only(fmt)) is not None:
        return refused
    rows = db.session.scalars(select(Category).order_by(Category.position))
    return jsonify([
        {"service_code": c.code, "service_name": c.name, "description": "；".join(
            s.name for s in c.situations), "metadata": False, "type": "realtime",
         "keywords": ",".join(s.code for s in c.situations), "group": "涉企行政执法"}
        for c in rows])


@bp.get("/services/<code>.<fmt>")
@hotline_only
@limiter.limit(_limit, key_func=token_key)
def service_definition(code: str, fmt: str) -> Any:
    if (refused := _json_only(fmt)) is not None:
        return refused
    if "\x00" in code or db.session.get(Category, code) is None:
        return _error(404, "no such service")
    return jsonify({"service_code": code, "attributes": []})


def _request(order: HotlineOrder, clue: Clue, departments: dict[str, str],
             notes: dict[int, str]) -> dict[str, Any]:
    with force_locale("zh_CN"):
        label = status_label(clue.status)
    note = notes.get(clue.id)
    return {
        "service_request_id": order.order_no,
        "status": "closed" if clue.status in CLOSED else "open",
        "status_notes": f"{label}：{note}" if note else label,
        "service_name": clue.category.name,
        "service_code": clue.category_code,
        "description": order.content,
        "agency_responsible": departments.get(clue.handling_department_code or "", ""),
        "service_notice": f"即督线索 {clue.tracking_no}",
        "requested_datetime": rfc3339(order.received_at),
        "updated_datetime": rfc3339(clue.updated_at),
        "expected_datetime": rfc3339(clue.due_at),
        "address": "", "address_id": "", "zipcode": "", "lat": None, "long": None,
        "media_url": "",
    }


def _answer(pairs: list[tuple[HotlineOrder, Clue]]) -> Any:
    departments = dict(db.session.execute(select(Department.code, Department.name)).all())
    ids = [clue.id for _order, clue in pairs]
    notes: dict[int, str] = {}
    if ids:
        for clue_id, message in db.session.execute(
                select(ClueEvent.clue_id, ClueEvent.public_message)
                .where(ClueEvent.clue_id.in_(ids), ClueEvent.public_message.is_not(None))
                .order_by(ClueEvent.id)):
            notes[clue_id] = message or ""  # the latest wins
    return jsonify([_request(order, clue, departments, notes) for order, clue in pairs])


def _date(name: str) -> datetime | None:
    value = request.args.get(name)
    return parse_aware(value) if value else None


@bp.get("/requests.<fmt>")
@hotline_only
@limiter.limit(_limit, key_func=token_key)
def requests_(fmt: str) -> Any:
    if (refused := _json_only(fmt)) is not None:
        return refused
    query = select(HotlineOrder, Clue).join(Clue, Clue.id == HotlineOrder.clue_id)
    ids = request.args.get("service_request_id")
    if ids:
        query = query.where(HotlineOrder.order_no.in_(
            [i.strip() for i in ids.split(",") if hotline.ORDER_NO.fullmatch(i.strip())]
            [:MAX_REQUESTS]))
    else:
        try:
            start, end = _date("start_date"), _date("end_date")
        except ValueError:
            return _error(400, "start_date and end_date must be RFC 3339 times with an offset")
        if start:
            query = query.where(HotlineOrder.received_at >= start)
        if end:
            query = query.where(HotlineOrder.received_at <= end)
        code = request.args.get("service_code")
        if code:
            # NUL never names a category, and PostgreSQL refuses it in a query.
            query = query.where(Clue.category_code.in_(
                [c for c in code.split(",") if "\x00" not in c]))
        status = request.args.get("status")
        if status == "closed":
            query = query.where(Clue.status.in_(CLOSED))
        elif status == "open":
            query = query.where(Clue.status.not_in(CLOSED))
        elif status:
            return _error(400, "status is open or closed")
    rows = db.session.execute(
        query.order_by(HotlineOrder.received_at.desc()).limit(MAX_REQUESTS)).all()
    return _answer([(order, clue) for order, clue in rows])


@bp.get("/requests/<order_no>.<fmt>")
@hotline_only
@limiter.limit(_limit, key_func=token_key)
def request_(order_no: str, fmt: str) -> Any:
    if (refused := _json_only(fmt)) is not None:
        return refused
    if not hotline.ORDER_NO.fullmatch(order_no):
        return _error(404, "no such request")
    row = db.session.execute(
        select(HotlineOrder, Clue).join(Clue, Clue.id == HotlineOrder.clue_id)
        .where(HotlineOrder.order_no == order_no)).first()
    if row is None:
        return _error(404, "no such request")
    return _answer([(row[0], row[1])])


def register(app: Flask) -> None:
    app.register_blueprint(bp)
