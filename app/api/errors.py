"""The API's error shape: {"error": {"code", "message", "fields"?}} with a 4xx."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask_babel import gettext as _

from app.messages import field_message


def error_response(status: int, code: str, message: str, **extra: Any) -> tuple[Response, int]:
    body: dict[str, Any] = {"code": code, "message": message}
    body.update(extra)
    return jsonify({"error": body}), status


def validation_error(fields: dict[str, str]) -> tuple[Response, int]:
    return error_response(
        422, "validation", _("提交的内容有误，请检查标出的字段。"),
        fields={key: field_message(code) for key, code in sorted(fields.items())},
    )
