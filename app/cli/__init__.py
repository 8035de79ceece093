"""``flask --app wsgi …`` commands: thin doors onto the services.

A command that fails prints one clear line on stderr and exits non-zero.
"""

from __future__ import annotations

import functools
import signal
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.extensions import db
from app.services import audit, campaigns, evidence_keys, keys, people
from app.services.errors import DomainError, ValidationFailed
from app.timeutil import parse_aware, rfc3339

F = TypeVar("F", bound=Callable[..., Any])
CLI_ACTOR = "cli"


def fails_cleanly(func: F) -> F:
    """Turn domain and input errors into one line on stderr and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ValidationFailed as exc:
            fields = ", ".join(f"{k}: {v}" for k, v in sorted(exc.fields.items()))
            raise click.ClickException(f"invalid input ({fields})") from None
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        except OSError as exc:
            raise click.ClickException(f"{exc.strerror}: {exc.filename}") from None

    return wrapper  # type: ignore[return-value]


def every(interval: int, work: Callable[[], object]) -> None:
    """Run ``work`` every ``interval`` seconds until SIGTERM or SIGINT: a worker service.

    The pause is cut into tenths of a second so that a stop request (systemd,
    Ctrl+C) ends the loop at once, never in the middle of ``work``.
    """
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        work()
        for _ in range(interval * 10):
            if stopping:
                return
            time.sleep(0.1)


def read_secret_file(path: str) -> str:
    text = Path(path).read_text(encoding="utf-8").strip("\r\n")
    if not text:
        raise click.ClickException(f"{path} is empty")
    return text


keys_cli = AppGroup("keys", help="The identity and evidence keypairs: init, rotate, verify, "
                              "split, destroy.")
users_cli = AppGroup("users", help="Console users.")
tokens_cli = AppGroup("tokens", help="Partner API tokens.")
campaigns_cli = AppGroup("campaigns", help="Campaigns.")
audit_cli = AppGroup("audit", help="The audit log.")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain; exits non-zero at the first broken entry."""
    broken = audit.verify_chain(db.session)
    if broken is not None:
        raise click.ClickException(f"audit chain broken at entry {broken}")
    click.echo("audit chain intact")


@keys_cli.command("init")
@click.option("--passphrase-file", required=True, type=click.Path(dir_okay=False))
@click.option("--evidence", is_flag=True,
              help="Create the evidence keypair (attachments) instead of the identity one.")
@fails_cleanly
def keys_init(passphrase_file: str, evidence: bool) -> None:
    """Create the identity (or evidence) keypair; the private key is stored only encrypted."""
    passphrase = read_secret_file(passphrase_file)
    create = evidence_keys.init_key if evidence else keys.init_keys
    try:
        kid = create(db.session, passphrase=passphrase,
                     log2n=current_app.config["JIDU_SCRYPT_LOG2N"], actor=CLI_ACTOR)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{'evidence' if evidence else 'identity'} key created: {kid}")


@users_cli.command("create")
@click.argument("name")
@click.option("--role", required=True)
@click.option("--department", default=None)
@click.option("--email", default=None)
@click.option("--password-file", required=True, type=click.Path(dir_okay=False))
@fails_cleanly
def users_create(name: str, role: str, department: str | None, email: str | None,
                 password_file: str) -> None:
    """Create a console user; prints the TOTP secret on the last line."""
    user, secret = people.create_user(
        db.session, username=name, role=role, department=department, email=email,
        password=read_secret_file(password_file), actor=CLI_ACTOR,
    )
    click.echo(f"user {user.username} created with role {user.role}")
    click.echo(f"totp: {secret}")


@tokens_cli.command("create")
@click.option("--channel", required=True, type=click.Choice(["app", "hotline"]))
@click.option("--name", required=True)
@fails_cleanly
def tokens_create(channel: str, name: str) -> None:
    """Create a partner API token; prints it on the last line, once."""
    token = people.create_token(db.session, channel=channel, name=name, actor=CLI_ACTOR)
    click.echo(f"token for {name} ({channel}), shown only now:")
    click.echo(token)


@campaigns_cli.command("create")
@click.option("--slug", required=True)
@click.option("--title", required=True)
@click.option("--opens", required=True, help="ISO 8601 with offset")
@click.option("--deadline", required=True, help="ISO 8601 with offset")
@click.option("--notice-file", default=None, type=click.Path(dir_okay=False))
@fails_cleanly
def campaigns_create(slug: str, title: str, opens: str, deadline: str,
                     notice_file: str | None) -> None:
    """Create a campaign; times need an offset and are shown in Asia/Shanghai."""
    try:
        opens_at, deadline_at = parse_aware(opens), parse_aware(deadline)
    except ValueError as exc:
        raise click.ClickException(f"bad time: {exc}") from None
    notice = Path(notice_file).read_text(encoding="utf-8") if notice_file else ""
    campaign = campaigns.create_campaign(db.session, slug=slug, title=title, opens_at=opens_at,
                                         deadline=deadline_at, notice=notice, actor=CLI_ACTOR)
    click.echo(f"campaign {campaign.slug}: {rfc3339(campaign.opens_at)} – "
               f"{rfc3339(campaign.deadline)}")


def register(app: Flask) -> None:
    from app.cli import key_lifecycle  # noqa: F401 (adds rotate, verify, split, destroy)
    from app.cli.backup import backup_cli
    from app.cli.cases import cases_cli
    from app.cli.demo import demo_data, dev_setup
    from app.cli.exports import exports_cli
    from app.cli.hotline import hotline_cli
    from app.cli.outbox import outbox_cli
    from app.cli.reports import reports_cli
    from app.cli.retention import purge_cli
    from app.cli.stats import stats_cli
    from app.cli.warnings import warnings_cli

    for group in (keys_cli, users_cli, tokens_cli, campaigns_cli, audit_cli, outbox_cli,
                  hotline_cli, exports_cli, cases_cli, warnings_cli, reports_cli,
                  stats_cli, purge_cli, backup_cli):
        app.cli.add_command(group)
    app.cli.add_command(demo_data)
    app.cli.add_command(dev_setup)
