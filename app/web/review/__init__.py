"""The reviewer console under /review/: sign-in, queue, clue pages."""

from flask import Blueprint

bp = Blueprint("review", __name__, url_prefix="/review")

from app.web.review import (  # noqa: E402,F401
    access,
    attachments,
    cases,
    dashboard,
    exports,
    figures,
    hotline,
    reports,
    routes,
    scenarios,
    warnings,
)
