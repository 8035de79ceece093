"""``flask --app wsgi warnings scan``: early-warning detection, run from a schedule."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.cli import CLI_ACTOR, fails_cleanly
from app.context import scenario_set
from app.extensions import db
from app.services import warnings
from app.services.scenario_config import ScenarioError, ScenarioSet
from app.timeutil import utcnow

warnings_cli = AppGroup("warnings", help="Early warning (预警监测).")


@warnings_cli.command("scan")
@click.option("--days", default=warnings.DEFAULT_DAYS, show_default=True,
              type=click.IntRange(1, 31), help="How many recent days to check, today included.")
@fails_cleanly
def warnings_scan(days: int) -> None:
    """Detect surges now; one line per new warning, then the count.

    A scenario file that fails its checks does not stop the other series:
    they are scanned, its error is printed last and the exit code is 1."""
    themes: ScenarioSet | None = None
    problem: ScenarioError | None = None
    try:
        themes = scenario_set()
    except ScenarioError as exc:
        problem = exc
    result = warnings.scan(db.session, now=utcnow(), days=days, actor=CLI_ACTOR, themes=themes)
    for warning in result.new:
        click.echo(f"warning {warning.id}: {warning.dimension} {warning.key} "
                   f"{warning.day.isoformat()} count {warning.count} "
                   f"expected {warning.expected:.1f} upper {warning.upper} ({warning.rule})")
    click.echo(f"{len(result.new)} new warnings ({result.updated} updated, "
               f"{result.series} series checked)")
    if problem is not None:
        raise click.ClickException(f"themes not scanned: {problem.message}")
