"""Demo data and the one-step development set-up that ``make run`` calls."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import select

from app.cli import fails_cleanly
from app.context import intake_keys
from app.extensions import db
from app.models import Campaign, User
from app.services import bulk, demo, evidence_keys, keys, people, rollup
from app.timeutil import utcnow

# Up to this many clues go through the real intake one by one; more are
# bulk-inserted (benchmarks, large demos).
ONE_BY_ONE = 2_000


@click.command("demo-data")
@click.option("--clues", "n", default=200, show_default=True, type=click.IntRange(0, 10_000_000))
@fails_cleanly
def demo_data(n: int) -> None:
    """Realistic synthetic data: campaigns, QR tags and N clues."""
    now = utcnow()
    created = demo.ensure_campaigns(db.session, now)
    for slug in created:
        click.echo(f"campaign created: {slug}")
    started = time.monotonic()
    if n <= ONE_BY_ONE:
        made = demo.make_clues(db.session, n, keys=intake_keys(), now=now)
    else:
        filled = bulk.fill(db.session, n, keys=intake_keys(), now=now)
        made = filled.clues
        click.echo(f"bulk: {filled.events} events, {filled.orders} hotline orders, "
                   f"{filled.disputes} disputes, {filled.cases} enforcement cases")
    click.echo(f"clues created: {made} in {time.monotonic() - started:.1f} s")
    click.echo(f"enforcement cases loaded: {demo.load_cases(db.session, now)}")
    click.echo("hotline orders imported: "
               f"{demo.load_hotline(db.session, now, keys=intake_keys())}")
    started = time.monotonic()
    days = rollup.refresh(db.session, limit=None)
    click.echo(f"daily roll-ups: {days} days in {time.monotonic() - started:.1f} s")


@click.command("dev-setup")
@click.option("--clues", "n", default=60, show_default=True, type=click.IntRange(0, 100_000))
@fails_cleanly
def dev_setup(n: int) -> None:
    """Development only: keys, demo data and a first admin, on an empty database."""
    if current_app.config.get("ENV_NAME", "") == "production":
        raise click.ClickException("dev-setup is for development only")
    _dev_evidence_key()
    if db.session.scalar(select(Campaign.id).limit(1)) or db.session.scalar(
        select(User.id).limit(1)
    ):
        click.echo("database already set up; nothing to do")
        return
    instance = Path(current_app.instance_path)
    passphrase_file = instance / "dev-identity-passphrase.txt"
    passphrase = secrets.token_urlsafe(24)
    passphrase_file.write_text(passphrase + "\n", encoding="utf-8")
    passphrase_file.chmod(0o600)
    kid = keys.init_keys(db.session, passphrase=passphrase,
                         log2n=current_app.config["JIDU_SCRYPT_LOG2N"], actor="dev-setup")
    now = utcnow()
    demo.ensure_campaigns(db.session, now)
    demo.make_clues(db.session, n, keys=intake_keys(), now=now)
    n_cases = demo.load_cases(db.session, now)
    n_orders = demo.load_hotline(db.session, now, keys=intake_keys())
    rollup.refresh(db.session, limit=None)
    password = secrets.token_urlsafe(15)
    _user, totp = people.create_user(db.session, username="admin", role="admin",
                                     password=password, actor="dev-setup")
    click.echo("=" * 64)
    click.echo("Development set-up done (development only — never in production):")
    click.echo(f"  identity key {kid}; its passphrase is in {passphrase_file}:")
    click.echo(f"    {passphrase}")
    click.echo(f"  demo campaigns, {n} demo clues, {n_cases} enforcement cases and "
               f"{n_orders} hotline orders created")
    click.echo("  first admin (shown once):")
    click.echo("    user:     admin")
    click.echo(f"    password: {password}")
    click.echo(f"    totp:     {totp}")
    click.echo("=" * 64)


def _dev_evidence_key() -> None:
    """Development only: the evidence keypair (attachments), also for a database set
    up before attachments existed. Its passphrase is kept beside the identity one."""
    if evidence_keys.active_public_key(db.session) is not None:
        return
    passphrase_file = Path(current_app.instance_path) / "dev-evidence-passphrase.txt"
    passphrase = secrets.token_urlsafe(24)
    passphrase_file.write_text(passphrase + "\n", encoding="utf-8")
    passphrase_file.chmod(0o600)
    kid = evidence_keys.init_key(db.session, passphrase=passphrase,
                                 log2n=current_app.config["JIDU_SCRYPT_LOG2N"],
                                 actor="dev-setup")
    click.echo(f"evidence key {kid} (opens attachments); its passphrase is in "
               f"{passphrase_file}:")
    click.echo(f"    {passphrase}")
