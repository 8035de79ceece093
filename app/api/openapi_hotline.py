"""OpenAPI paths and schemas of /api/v1/hotline (kept apart: a subject of its own)."""

from __future__ import annotations

from typing import Any

from app.reference import CATEGORIES, DEPARTMENTS, DISTRICTS

RATINGS = ["satisfied", "basically", "unsatisfied"]
ORDER_STATUSES = ["received", "triaging", "accepted", "not_accepted", "assigned",
                  "investigating", "concluded", "feedback_given", "closed", "merged",
                  "screened_out"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": _ref("Error")}}}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def schemas() -> dict[str, Any]:
    time = {"type": "string", "format": "date-time"}
    department = {"type": "string", "enum": [c for c, _n, _e in DEPARTMENTS]}
    screening = {
        "type": "object", "required": ["enforcement_related", "category"],
        "properties": {"enforcement_related": {"type": "boolean"},
                       "category": _nullable({"type": "string",
                                              "enum": [c[0] for c in CATEGORIES]})}}
    return {
        "HotlineOrder": {
            "type": "object", "additionalProperties": False,
            "required": ["order_no", "received_at", "content", "district"],
            "properties": {
                "order_no": {"type": "string", "maxLength": 64,
                             "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"},
                "received_at": time,
                "content": {"type": "string", "minLength": 1, "maxLength": 4000},
                "district": {"type": "string", "enum": [c for c, _n, _e in DISTRICTS]},
                "hotline_category": {"type": "string", "maxLength": 100},
                "caller": {"type": "object", "additionalProperties": False,
                           "properties": {"name": {"type": "string", "maxLength": 50},
                                          "phone": {"type": "string", "maxLength": 20}}},
                "dispatched_to": department,
                "disputed": {"type": "boolean", "default": False},
            }},
        "HotlineScreening": screening,
        "HotlineOrderCreated": {
            "type": "object",
            "required": ["order_no", "screening", "clue_tracking_no", "dispute"],
            "properties": {
                "order_no": {"type": "string"}, "screening": _ref("HotlineScreening"),
                "clue_tracking_no": _nullable({"type": "string"}),
                "dispute": _nullable({"type": "object", "required": ["opened_at", "due_at"],
                                      "properties": {"opened_at": time, "due_at": time}}),
            }},
        "HotlineOrderState": {
            "type": "object",
            "required": ["order_no", "status", "handling_department", "dispute"],
            "properties": {
                "order_no": {"type": "string"},
                "status": {"type": "string", "enum": ORDER_STATUSES},
                "status_label": {"type": "string"},
                "handling_department": _nullable({"type": "string"}),
                "dispute": _nullable({
                    "type": "object",
                    "required": ["opened_at", "due_at", "resolved_at", "department"],
                    "properties": {"opened_at": time, "due_at": time,
                                   "resolved_at": _nullable(time),
                                   "department": _nullable({"type": "string"}),
                                   "overdue": {"type": "boolean"}}}),
                "screening": _ref("HotlineScreening"),
                "clue_tracking_no": _nullable({"type": "string"}),
                "conclusion": _nullable({"type": "string", "enum": [
                    "substantiated", "partly", "unsubstantiated"]}),
                "feedback": {"type": "array", "items": {
                    "type": "object", "required": ["at", "message"],
                    "properties": {"at": time, "message": {"type": "string"}}}},
                "callback": _nullable({
                    "type": "object", "required": ["satisfaction", "at"],
                    "properties": {"satisfaction": {"type": "string", "enum": RATINGS},
                                   "at": time}}),
            }},
        "HotlineCallback": {
            "type": "object", "required": ["satisfaction"],
            "properties": {"satisfaction": {"type": "string", "enum": RATINGS}}},
    }


def paths(bearer: list[dict[str, list[str]]]) -> dict[str, Any]:
    order_no = [{"name": "order_no", "in": "path", "required": True,
                 "schema": {"type": "string"}}]
    auth = {"401": _error("`unauthorized`: missing or wrong token"),
            "403": _error("`forbidden`: not a hotline token"),
            "429": _error("rate limit of the token, or too many wrong tokens from this "
                          "address")}
    return {
        "/hotline/orders": {"post": {
            "summary": "Receive a 12345 work order",
            "description": (
                "Idempotent on `order_no`: the same order again answers 200 with the current "
                "state of the same record; the same number with any field different answers "
                "409 `order_conflict`. The order is screened (is it about enforcement against "
                "an enterprise, and which category); a related order becomes a clue in the "
                "review queue. `disputed: true` opens a jurisdiction dispute whose 24-hour "
                "clock starts now. The caller is encrypted like a reporter's identity."),
            "operationId": "receiveHotlineOrder", "security": bearer,
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": _ref("HotlineOrder")}}},
            "responses": {
                "201": {"description": "Received",
                        "content": {"application/json": {
                            "schema": _ref("HotlineOrderCreated")}}},
                "200": {"description": "Already received: the same record",
                        "content": {"application/json": {
                            "schema": _ref("HotlineOrderCreated")}}},
                "400": _error("`bad_request`: not a JSON object"),
                "409": _error("`order_conflict`: this order number came with other content"),
                "422": _error("`validation` with `fields`"),
                "503": _error("`not_configured`: no identity key yet to seal the caller"),
                **auth,
            }}},
        "/hotline/orders/{order_no}": {"get": {
            "summary": "What became of a work order",
            "description": ("Status (a clue status, or `screened_out`), handling department, "
                            "dispute outcome, conclusion and the feedback written for the "
                            "caller, so that the 12345 operator can answer them."),
            "operationId": "hotlineOrderState", "security": bearer, "parameters": order_no,
            "responses": {
                "200": {"description": "The order's state",
                        "content": {"application/json": {
                            "schema": _ref("HotlineOrderState")}}},
                "404": _error("`not_found`"), **auth,
            }}},
        "/hotline/orders/{order_no}/callback": {"post": {
            "summary": "The hotline's satisfaction call-back (回访)",
            "description": ("Counts like the reporter's own answer: once per conclusion; "
                            "`unsatisfied` lets a supervisor reopen the clue."),
            "operationId": "hotlineCallback", "security": bearer, "parameters": order_no,
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": _ref("HotlineCallback")}}},
            "responses": {
                "200": {"description": "Recorded",
                        "content": {"application/json": {
                            "schema": _ref("HotlineOrderState")}}},
                "400": _error("`bad_request`: not a JSON object"),
                "404": _error("`not_found`"),
                "409": _error("`not_ratable`: no concluded outcome to rate, or rated already"),
                "422": _error("`validation`"), **auth,
            }}},
    }
