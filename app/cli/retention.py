"""``flask --app wsgi purge run``: retention (services/retention.py), from a daily timer."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli import CLI_ACTOR, fails_cleanly
from app.extensions import db
from app.services import attachments, compaction, retention
from app.timeutil import parse_aware, rfc3339, utcnow

purge_cli = AppGroup("purge", help="Retention: destroy identities and evidence of clues "
                                   "closed long ago (statistics stay).")


def policy() -> retention.Policy:
    config = current_app.config
    return retention.Policy(
        retention_days=int(config["JIDU_RETENTION_DAYS"]),
        campaign_days=int(config["JIDU_CAMPAIGN_RETENTION_DAYS"]),
        folder=Path(config["JIDU_DATA_DIR"]) / attachments.FOLDER,
        receipt_key=config["JIDU_RECEIPT_KEY"])


@purge_cli.command("run")
@click.option("--dry-run", is_flag=True, help="Count what would be destroyed; change nothing.")
@click.option("--now", "now_text", default=None,
              help="Judge eligibility as of this ISO 8601 time (with offset); never later "
                   "than now.")
@click.option("--full", is_flag=True,
              help="PostgreSQL: VACUUM FULL the touched tables afterwards (locks them while "
                   "it runs; for a maintenance window).")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10_000))
@fails_cleanly
def purge_run(dry_run: bool, now_text: str | None, full: bool, batch_size: int) -> None:
    """Destroy identities, notify addresses, attachments and hotline callers that are due.

    Due: JIDU_RETENTION_DAYS after a clue was closed (or the clue it was
    merged into), or JIDU_CAMPAIGN_RETENTION_DAYS after its campaign's
    deadline. One audit event per run; one history event per clue.
    """
    now = utcnow()
    if now_text:
        try:
            chosen = parse_aware(now_text)
        except ValueError as exc:
            raise click.ClickException(f"bad --now: {exc}") from None
        if chosen > now:
            raise click.ClickException("--now cannot be in the future: a purge never "
                                       "destroys early")
        now = chosen
    try:
        chosen_policy = policy()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    report = retention.run(db.session, policy=chosen_policy, now=now, actor=CLI_ACTOR,
                           dry_run=dry_run, batch=batch_size)
    db.session.remove()
    verb = "would destroy" if dry_run else "destroyed"
    campaign = rfc3339(report.campaign_deadline_before) if report.campaign_deadline_before \
        else "off"
    click.echo(f"clues closed before {rfc3339(report.closed_before)}; campaigns ended before "
               f"{campaign}")
    rules = ", ".join(f"{k} {v}" for k, v in sorted(report.by_rule.items())) or "none"
    click.echo(f"{verb}: {report.clues} clues ({rules}), "
               f"{report.identities} identities, {report.notify_addresses} notify addresses, "
               f"{report.attachments} attachments ({report.files} files), "
               f"{report.callers} hotline callers, {report.mails} unsent reporter mails"
               + ("" if dry_run else f", {report.orphans} orphaned files"))
    if report.files_missing:
        click.echo(f"{report.files_missing} attachment files were already gone")
    # --full compacts even when nothing was due: a previous run's VACUUM
    # may have had to keep rows an older transaction could see.
    if dry_run or not (report.destroyed or full):
        return
    done = compaction.compact(db.engine, full=full)
    what = "VACUUM FULL" if done.full and done.backend != "sqlite" else "VACUUM"
    click.echo(f"{what} on {done.backend} in {done.seconds:.1f} s")
    if done.kept_dead:
        click.echo(f"VACUUM had to keep {done.kept_dead} dead row versions that a transaction "
                   "older than the purge (in any database of the server) could still see; "
                   f"run `purge run{' --full' if full else ''}` again later", err=True)
    if done.checkpoint_busy:
        click.echo("the write-ahead log could not be emptied while other connections read; "
                   "it empties at the next checkpoint", err=True)
