"""``outbox run [--once]``: the mail worker."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli import every
from app.context import outbox_round
from app.timeutil import utcnow

outbox_cli = AppGroup("outbox", help="Queued mail.")


@outbox_cli.command("run")
@click.option("--once", is_flag=True, help="Send what is due now and exit.")
def outbox_run(once: bool) -> None:
    """Send queued mail, with reminders and digests as they fall due.

    Safe to run in several processes at once. With --once, an unreachable
    mail server is reported in one line (exit code 1) and the mail stays
    queued for the next try.
    """
    def send() -> None:
        queued, result = outbox_round(utcnow())
        if queued or result.sent or result.failed or result.cancelled:
            click.echo(f"queued {queued}, {result.summary()}", err=bool(result.error))

    if not once:
        every(current_app.config["JIDU_OUTBOX_INTERVAL"], send)
        return
    queued, result = outbox_round(utcnow())
    line = f"queued {queued}, {result.summary()}"
    if result.error:
        click.echo(f"mail server unreachable, will retry: {line}", err=True)
        sys.exit(1)
    click.echo(line)
