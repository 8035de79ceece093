"""Public pages: the notice, the form, receipts, QR codes, the poster."""

from flask import Blueprint

bp = Blueprint("public", __name__)

from app.web.public import routes  # noqa: E402,F401
