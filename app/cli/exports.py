"""``exports run [--once]``: builds the queue's large XLSX exports."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli import every
from app.exports_worker import run_once

exports_cli = AppGroup("exports", help="Background exports of the queue.")


@exports_cli.command("run")
@click.option("--once", is_flag=True, help="Build what is pending now and exit.")
def exports_run(once: bool) -> None:
    """Build pending XLSX exports and remove expired files.

    Safe to run in several processes at once, and beside the web processes'
    own export threads: each job is claimed by exactly one runner.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def build() -> None:
        built = run_once(app)
        if once or built:
            click.echo(f"exports built: {built}")

    if once:
        build()
    else:
        every(app.config["JIDU_EXPORT_INTERVAL"], build)
