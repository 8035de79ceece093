"""``reports daily --date D`` · ``reports monthly --month YYYY-MM``: keep a period's report."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli import CLI_ACTOR, fails_cleanly
from app.extensions import db
from app.services import reports
from app.timeutil import local_today, utcnow

reports_cli = AppGroup("reports", help="民情日报 and 月报.")


def _run(kind: str, value: str) -> None:
    try:
        path = reports.generate(db.session, kind, value,
                                data_dir=Path(current_app.config["JIDU_DATA_DIR"]), now=utcnow(),
                                actor=CLI_ACTOR)
    except ValueError:
        raise click.ClickException(f"not a valid {'date' if kind == 'daily' else 'month'}: "
                                   f"{value}") from None
    click.echo(f"{kind} report for {value} written, with its XLSX beside it")
    click.echo(str(path))


@reports_cli.command("daily")
@click.option("--date", "day", default=None, help="YYYY-MM-DD (default: yesterday, Shanghai)")
@fails_cleanly
def reports_daily(day: str | None) -> None:
    """Generate (or regenerate) the daily report; last line: the file's path."""
    _run("daily", day or (local_today() - timedelta(days=1)).isoformat())


@reports_cli.command("monthly")
@click.option("--month", default=None, help="YYYY-MM (default: last month, Shanghai)")
@fails_cleanly
def reports_monthly(month: str | None) -> None:
    """Generate (or regenerate) the monthly report; last line: the file's path."""
    if month is None:
        first = local_today().replace(day=1)
        month = date.fromordinal(first.toordinal() - 1).strftime("%Y-%m")
    _run("monthly", month)
