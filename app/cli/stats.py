"""``flask --app wsgi stats …``: the daily roll-ups behind the dashboard."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.cli import fails_cleanly
from app.extensions import db
from app.services import rollup

stats_cli = AppGroup("stats", help="Daily roll-ups (日汇总) behind the dashboard.")


@stats_cli.command("refresh")
@fails_cleanly
def stats_refresh() -> None:
    """Recompute every day marked stale, and recount the themes of every day counted
    with other scenario rules (run from a schedule, after an import or a scenario edit)."""
    total = 0
    while done := rollup.refresh(db.session):
        total += done
    click.echo(f"{total} days refreshed")


@stats_cli.command("rebuild")
@fails_cleanly
def stats_rebuild() -> None:
    """Recompute every day from the clues (after an upgrade, or to check)."""
    click.echo(f"{rollup.rebuild(db.session)} days rebuilt")
