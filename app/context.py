"""Key material for the doors, read from configuration and the database."""

from __future__ import annotations

from flask import current_app

from app.extensions import db
from app.security import serverbox
from app.services import keys
from app.services.errors import NotConfigured
from app.services.intake import Keys


def notify_key() -> bytes:
    return serverbox.derive_key(current_app.config["JIDU_RECEIPT_KEY"], "notify-email")


def intake_keys() -> Keys:
    try:
        public = keys.active_public_key(db.session)
    except NotConfigured:
        public = None
    return Keys(identity_public=public, receipt_key=current_app.config["JIDU_RECEIPT_KEY"],
                notify_key=notify_key())
