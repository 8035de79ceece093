"""``hotline import FILE [--mapping F]``: a day's hotline export into Jidu."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli import CLI_ACTOR, fails_cleanly
from app.extensions import db
from app.services import hotline_import, keys
from app.services.errors import NotConfigured
from app.timeutil import utcnow

hotline_cli = AppGroup("hotline", help="12345 hotline work orders.")


@hotline_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--mapping", "mapping_file", type=click.Path(exists=True, dir_okay=False),
              help='JSON {"field": "column"}, e.g. {"order_no": "工单号"}; fields: '
                   + ", ".join(hotline_import.DEFAULT_MAPPING))
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="processes preparing rows (default JIDU_IMPORT_WORKERS, the CPU count)")
@fails_cleanly
def hotline_import_command(file: str, mapping_file: str | None, workers: int | None) -> None:
    """Import a hotline export (CSV or XLSX); prints each refused row with its line."""
    overrides = None
    if mapping_file:
        try:
            overrides = json.loads(Path(mapping_file).read_text(encoding="utf-8"))
        except ValueError:
            raise click.ClickException(f"{mapping_file} is not JSON") from None
        if not isinstance(overrides, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in overrides.items()):
            raise click.ClickException('the mapping must be {"field": "column", …}')
    try:
        public = keys.active_public_key(db.session)
    except NotConfigured:
        public = None
    with open(file, "rb") as stream:
        try:
            report = hotline_import.import_file(
                db.session, file, stream, overrides=overrides, public_key=public,
                receipt_key=current_app.config["JIDU_RECEIPT_KEY"], now=utcnow(),
                actor=CLI_ACTOR, workers=workers or current_app.config["JIDU_IMPORT_WORKERS"])
        except hotline_import.ImportError_ as exc:
            raise click.ClickException(str(exc)) from None
    for row in report.rejected:
        click.echo(f"line {row.line}: {row.reason}")
    click.echo(f"imported {report.imported} (enforcement-related {report.related}, "
               f"disputed {report.disputed}), already there {report.skipped}, "
               f"refused {len(report.rejected)}")
