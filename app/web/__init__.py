"""Blueprints for people, and what every page shares: headers, errors, filters."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, Response, abort, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from app.timeutil import local

# No inline script or style anywhere, nothing from another host: a page can
# make requests only to this service.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    lang = request.args.get("lang")
    if lang in ("zh_CN", "en"):
        response.set_cookie("lang", lang, max_age=365 * 86400, samesite="Lax", httponly=True,
                            secure=bool(current_app.config["SESSION_COOKIE_SECURE"]))
    return response


def format_local(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "" if moment is None else local(moment).strftime(fmt)


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/open311/")) or request.path == "/healthz"


def _refuse_nul() -> None:
    """400 for a NUL byte in a page's query or form: no person types one, and
    PostgreSQL refuses it in a query (a 500). The API and Open311 check their
    own input, so that their answers keep the order INTERFACES.md gives."""
    if _wants_json():
        return
    values = [f"{k}{v}" for k, v in request.args.items(multi=True)]
    if request.method == "POST" and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        values += [f"{k}{v}" for k, v in request.form.items(multi=True)]
    if any("\x00" in value for value in values):
        abort(400)


def register(app: Flask) -> None:
    from app.web.admin import bp as admin_bp
    from app.web.public import bp as public_bp
    from app.web.review import bp as review_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(admin_bp)
    app.before_request(_refuse_nul)
    app.after_request(_security_headers)
    app.add_template_filter(format_local, "local")

    @app.context_processor
    def _globals() -> dict[str, object]:
        return {"current_locale": str(get_locale() or "zh_CN")}

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> tuple[str, int]:
        return render_template("errors/error.html", code=400, reason="csrf"), 400

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> ResponseReturnValue:
        code = error.code or 500
        if _wants_json():
            body = {"error": {"code": (error.name or "error").lower().replace(" ", "_"),
                              "message": error.description or error.name}}
            return jsonify(body), code
        return render_template("errors/error.html", code=code, reason=None), code

    @app.errorhandler(OperationalError)
    def _database_unavailable(error: OperationalError) -> ResponseReturnValue:
        # The database did not answer (a restart, a fail-over, a lock held too
        # long): a passing state, so 503 and "try again", not a fault of Jidu's.
        # The pool checks connections before use: the next request reconnects.
        app.logger.warning("database unavailable on %s %s: %s", request.method, request.path,
                           type(error.orig).__name__)
        retry = {"Retry-After": "30"}
        if _wants_json():
            body = {"error": {"code": "unavailable", "message": _("系统繁忙，请稍后再试")}}
            return jsonify(body), 503, retry
        return render_template("errors/error.html", code=503, reason=None), 503, retry

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> ResponseReturnValue:
        # Log the fault, never the request body: it may hold an identity.
        app.logger.exception("unhandled %s on %s %s", type(error).__name__, request.method,
                             request.path)
        if _wants_json():
            return jsonify({"error": {"code": "internal", "message": "internal error"}}), 500
        return render_template("errors/error.html", code=500, reason=None), 500
