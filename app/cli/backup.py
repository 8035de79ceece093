"""``flask --app wsgi backup create | verify | restore | prune``: services/backup.py, restore.py."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli import CLI_ACTOR, fails_cleanly
from app.extensions import db
from app.security import archive
from app.services import backup, restore
from app.timeutil import utcnow

backup_cli = AppGroup("backup", help="Encrypted backups of the database and evidence files.")


def _key() -> bytes:
    try:
        return archive.derive_key(current_app.config.get("JIDU_BACKUP_KEY"))
    except archive.ArchiveError as exc:
        raise click.ClickException(str(exc)) from None


@backup_cli.command("create")
@click.option("--to", "to_dir", default=None, type=click.Path(file_okay=False),
              help="Folder to write into (default JIDU_BACKUP_DIR).")
@fails_cleanly
def backup_create(to_dir: str | None) -> None:
    """Write one encrypted backup while the service runs; last line: its path."""
    config = current_app.config
    data_dir = Path(config["JIDU_DATA_DIR"]).resolve()
    target = Path(to_dir or config["JIDU_BACKUP_DIR"]).resolve()
    if target == data_dir or data_dir in target.parents:
        raise click.ClickException("backups cannot be written inside JIDU_DATA_DIR")
    created = backup.create(db.session, db.engine, data_dir=data_dir, target_dir=target,
                            key=_key(), pg_bin=config.get("JIDU_PG_BIN"), now=utcnow(),
                            actor=CLI_ACTOR)
    if created.missing:
        click.echo(f"{len(created.missing)} attachment files named by the database were "
                   "already gone (purged meanwhile)", err=True)
    click.echo(f"{created.parts} parts, {created.size:,} bytes in {created.seconds:.1f} s")
    click.echo(str(created.path))


@backup_cli.command("verify")
@click.argument("archive_path", type=click.Path(exists=True, dir_okay=False))
@fails_cleanly
def backup_verify(archive_path: str) -> None:
    """Decrypt and check a backup whole (every chunk and every part's hash); writes nothing."""
    checked = restore.read(Path(archive_path), _key(), None)
    counts = checked.manifest.get("counts", {})
    click.echo(f"ok: {checked.info.get('backend')} backup of {checked.info.get('created_at')}, "
               f"{checked.parts} parts, {counts.get('clues', '?')} clues, "
               f"{counts.get('attachments', '?')} attachments")


@backup_cli.command("restore")
@click.argument("archive_path", type=click.Path(exists=True, dir_okay=False))
@fails_cleanly
def backup_restore(archive_path: str) -> None:
    """Restore a backup into this instance, whose database and data directory must be empty."""
    config = current_app.config
    done = restore.restore(db.session, db.engine, path=Path(archive_path), key=_key(),
                           data_dir=Path(config["JIDU_DATA_DIR"]),
                           pg_bin=config.get("JIDU_PG_BIN"), now=utcnow(), actor=CLI_ACTOR)
    revision = done.checked.manifest.get("revision") or "built from the models"
    click.echo(f"restored the backup of {done.checked.info.get('created_at')}: database "
               f"(schema {revision}) and {done.files} files in {done.seconds:.1f} s")
    click.echo("next: `flask --app wsgi db upgrade` if this code is newer than the backup")


@backup_cli.command("prune")
@click.option("--keep-days", default=None, type=int,
              help="Keep backups this many days (default JIDU_BACKUP_KEEP_DAYS); at most "
                   "JIDU_RETENTION_DAYS.")
@click.option("--dir", "folder", default=None, type=click.Path(file_okay=False),
              help="Folder of the backups (default JIDU_BACKUP_DIR).")
@fails_cleanly
def backup_prune(keep_days: int | None, folder: str | None) -> None:
    """Delete backups older than the keep period (run after each backup)."""
    config = current_app.config
    try:
        removed = backup.prune(
            db.session, Path(folder or config["JIDU_BACKUP_DIR"]),
            keep_days=config["JIDU_BACKUP_KEEP_DAYS"] if keep_days is None else keep_days,
            retention_days=config["JIDU_RETENTION_DAYS"], now=utcnow(), actor=CLI_ACTOR)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    for path in removed:
        click.echo(f"removed {path.name}")
    click.echo(f"{len(removed)} backups removed")
