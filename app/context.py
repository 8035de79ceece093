"""What the doors need from configuration: key material and the mail set-up."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app, has_app_context
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.security import serverbox
from app.services import (
    attachments,
    notify,
    outbox,
    reference_cache,
    scenario_config,
)
from app.services.intake import Keys
from app.services.types import DbSession


def notify_key() -> bytes:
    return serverbox.derive_key(current_app.config["JIDU_RECEIPT_KEY"], "notify-email")


def intake_keys() -> Keys:
    public = reference_cache.current(db.session).identity_public
    return Keys(identity_public=public, receipt_key=current_app.config["JIDU_RECEIPT_KEY"],
                notify_key=notify_key())


def mail_transport() -> outbox.TransportFactory:
    """SMTP when MAIL_SERVER is set; otherwise a folder under JIDU_DATA_DIR (development)."""
    config = current_app.config
    sender = config["MAIL_DEFAULT_SENDER"]
    if config.get("MAIL_SERVER"):
        ext = current_app.extensions["mail"]
        return lambda: outbox.smtp_transport(ext, sender)
    folder = Path(config["JIDU_DATA_DIR"]) / "mail"
    return lambda: outbox.folder_transport(folder, sender)


def outbox_round(now: datetime) -> tuple[int, outbox.Result]:
    """One round of the mail worker: queue what the clock makes due, then send."""
    config = current_app.config
    queued = notify.schedule(db.session, now=now,
                             remind_before=timedelta(hours=config["JIDU_REMINDER_HOURS"]),
                             digest_hour=config["JIDU_DIGEST_HOUR"])
    try:
        db.session.commit()
    except IntegrityError:
        # Another worker queued the same reminder a moment ago: its row stands.
        db.session.rollback()
        queued = 0
    result = outbox.deliver_due(
        db.session, now=now, transport=mail_transport(), notify_key=notify_key(),
        base_url=config["JIDU_BASE_URL"],
        max_attempts=config["JIDU_OUTBOX_MAX_ATTEMPTS"])
    return queued, result


def attachment_policy() -> attachments.Policy:
    """Limits from configuration and the evidence public key (None before ``keys init``)."""
    config = current_app.config
    return attachments.Policy(
        folder=Path(config["JIDU_DATA_DIR"]) / attachments.FOLDER,
        max_files=int(config["JIDU_MAX_ATTACHMENTS"]),
        max_bytes=int(config["JIDU_MAX_ATTACHMENT_MB"]) * 1024 * 1024,
        max_pixels=int(config["JIDU_MAX_IMAGE_PIXELS"]),
        public_key=reference_cache.current(db.session).evidence_public)


def scenario_set() -> scenario_config.ScenarioSet:
    """The scenarios of ``JIDU_SCENARIOS_FILE``, checked against the database's codes.

    Read again whenever the file changes, so that an edited scenario shows
    without a restart; a file that fails its checks raises ScenarioError
    every time until it is fixed (only good files are kept).
    """
    path = Path(current_app.config["JIDU_SCENARIOS_FILE"])
    try:
        stat = path.stat()
    except OSError as exc:
        raise scenario_config.ScenarioError(
            f"scenario file {path}: cannot be read ({exc.strerror})") from None
    version = (str(path), stat.st_mtime_ns, stat.st_size)
    kept = current_app.extensions.get("jidu_scenarios")
    if kept is None or kept[0] != version:
        loaded = scenario_config.load(path, scenario_config.Codes.from_db(db.session))
        kept = current_app.extensions["jidu_scenarios"] = (version, loaded)
    return kept[1]


def rolled_up_themes(_session: DbSession) -> scenario_config.ScenarioSet:
    """The scenarios the daily roll-ups count (services/theme_rollup.py): those of the
    configured file; none when it is missing or broken, or outside the app."""
    if not has_app_context():
        return scenario_config.ScenarioSet()
    try:
        return scenario_set()
    except scenario_config.ScenarioError:
        return scenario_config.ScenarioSet()
