"""``flask --app wsgi cases import FILE``: enforcement case records from CSV or XLSX."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from app.cli import CLI_ACTOR, fails_cleanly
from app.extensions import db
from app.services import cases
from app.timeutil import utcnow

cases_cli = AppGroup("cases", help="Enforcement case records.")


@cases_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@fails_cleanly
def cases_import(file: str) -> None:
    """Import case records; one line per rejected row. Exits non-zero only if the file
    cannot be read at all: bad rows are reported and the good ones imported."""
    started = time.monotonic()
    result = cases.import_file(db.session, file, now=utcnow(), actor=CLI_ACTOR)
    elapsed = time.monotonic() - started
    for error in result.errors:
        click.echo(f"rejected row {error.line}: {error.reason}")
    click.echo(
        f"{file}: {result.rows} rows, imported {result.imported} (new {result.inserted}, "
        f"updated {result.updated}, unchanged {result.unchanged}), "
        f"rejected {len(result.errors)}, in {elapsed:.1f} s")
