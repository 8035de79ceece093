"""``exports run [--once]``: builds the queue's large XLSX exports; keeps the data folder tidy."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli import every
from app.exports_worker import run_once
from app.extensions import db
from app.services import attachments
from app.timeutil import utcnow

# Evidence files left by a killed submission are rare: one look an hour is enough.
ORPHAN_SWEEP_SECONDS = 3600

exports_cli = AppGroup("exports", help="Background exports of the queue.")


@exports_cli.command("run")
@click.option("--once", is_flag=True, help="Build what is pending now and exit.")
def exports_run(once: bool) -> None:
    """Build pending XLSX exports and remove expired files.

    Safe to run in several processes at once, and beside the web processes'
    own export threads: each job is claimed by exactly one runner. Once an
    hour it also removes evidence files that no submission was stored for
    (services/attachments.py: sweep_orphans).
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    folder = Path(app.config["JIDU_DATA_DIR"]) / attachments.FOLDER
    last_sweep: float | None = None

    def build() -> None:
        nonlocal last_sweep
        built = run_once(app)
        if once or built:
            click.echo(f"exports built: {built}")
        if last_sweep is None or time.monotonic() - last_sweep >= ORPHAN_SWEEP_SECONDS:
            last_sweep = time.monotonic()
            removed = attachments.sweep_orphans(db.session, folder, now=utcnow())
            db.session.rollback()
            if removed:
                click.echo(f"attachments: removed {removed} file(s) of interrupted submissions")

    if once:
        build()
    else:
        every(app.config["JIDU_EXPORT_INTERVAL"], build)
