"""JSON API v1: token auth, explicit JSON validation, JSON errors."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def register(app: Flask) -> None:
    from app.api import hotline, routes  # noqa: F401  (attach the views to bp)
    from app.extensions import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp)
