"""``keys rotate | verify | split | destroy``: the keypairs' lifecycle (services/key_lifecycle.py).

Each acts on the identity keypair, or with ``--evidence`` on the evidence
keypair: they have different custodians, so never both at once. A command
that needs a private key takes its passphrase from ``--passphrase-file``,
its custodians' shares from ``--share-file`` (once per file), or asks for
them without echo. Nothing secret is printed except new shares, once.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import current_app

from app.cli import CLI_ACTOR, fails_cleanly, keys_cli, read_secret_file
from app.extensions import db
from app.security import keystore, shares
from app.services import attachments, key_lifecycle, key_verify
from app.services.sealed import KeyKind

PROGRESS_EVERY = 10_000


def _kind(evidence: bool) -> KeyKind:
    return KeyKind.EVIDENCE if evidence else KeyKind.IDENTITY


def unlock_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--share-file", "share_files", multiple=True,
                        type=click.Path(dir_okay=False),
                        help="A custodian's share (repeat for each); for a split key.")(func)
    return click.option("--passphrase-file", type=click.Path(dir_okay=False),
                        help="The key's passphrase; without it (or shares) you are asked.")(func)


def secret_for(kind: KeyKind, kid: str, split: keystore.SplitInfo | None,
               passphrase_file: str | None, share_files: tuple[str, ...]) -> keystore.Secret:
    """The passphrase or shares that open ``kid``, from files or typed without echo."""
    if passphrase_file and share_files:
        raise click.ClickException("give --passphrase-file or --share-file, not both")
    if passphrase_file and split is not None:
        raise click.ClickException(f"{kind} key {kid} is split among custodians: give "
                                   f"{split.threshold} --share-file options")
    if share_files:
        words: list[str] = []
        for path in share_files:
            found = shares.from_text(Path(path).read_text(encoding="utf-8"))
            if found is None:
                raise click.ClickException(f"{path} holds no share (20 words each)")
            words.extend(found)
        return keystore.Shares(tuple(words))
    if passphrase_file:
        return read_secret_file(passphrase_file)
    if split is None:
        return str(click.prompt(f"passphrase of {kind} key {kid}", hide_input=True))
    typed = []
    for number in range(1, split.threshold + 1):
        text = str(click.prompt(f"share {number} of the {split.threshold} needed for "
                                f"{kind} key {kid}", hide_input=True))
        found = shares.from_text(text)
        if found is None:
            raise click.ClickException("that is not a share (20 words)")
        typed.extend(found)
    return keystore.Shares(tuple(typed))


def _deliver(kind: KeyKind, shares_dir: str | None) -> key_lifecycle.Deliver:
    """Print new shares, or write each to its own file (0600) under ``shares_dir``."""

    def deliver(kid: str, info: keystore.SplitInfo, dealt: tuple[str, ...]) -> None:
        folder = Path(shares_dir) if shares_dir else None
        if folder is not None:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        click.echo(f"{kind} key {kid} is now split: any {info.threshold} of these {info.count} "
                   f"shares open it (split {info.identifier}). Give one to each custodian; "
                   "keep no copy together.")
        for share in dealt:
            number = shares.info(share).number
            header = (f"# Jidu {kind} key {kid}: share {number} of {info.count}, any "
                      f"{info.threshold} open it (split {info.identifier})")
            if folder is None:
                click.echo(f"{header}\n{share}")
                continue
            path = folder / f"{kind}-key-{kid}-share-{number}-of-{info.count}.txt"
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as out:
                out.write(f"{header}\n{share}\n")
            click.echo(f"  share {number}: {path}")

    return deliver


def _progress(verb: str) -> key_lifecycle.Progress:
    shown = {"count": 0}

    def progress(place: str, done: int) -> None:
        if done - shown["count"] >= PROGRESS_EVERY:
            shown["count"] = done
            click.echo(f"  {verb} {done} ({place})")

    return progress


@keys_cli.command("rotate")
@click.option("--evidence", is_flag=True, help="The evidence keypair instead of the identity one.")
@unlock_options
@click.option("--new-passphrase-file", type=click.Path(dir_okay=False),
              help="Keep the new private key under this passphrase.")
@click.option("--new-shares", type=click.IntRange(2, shares.MAX_SHARES),
              help="Or split the new key among this many custodians…")
@click.option("--new-threshold", type=click.IntRange(2, shares.MAX_SHARES),
              help="…any this many of whom open it.")
@click.option("--shares-dir", type=click.Path(file_okay=False),
              help="Write new shares to files here instead of printing them.")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=key_lifecycle.BATCH,
              show_default=True)
@fails_cleanly
def keys_rotate(evidence: bool, passphrase_file: str | None, share_files: tuple[str, ...],
                new_passphrase_file: str | None, new_shares: int | None,
                new_threshold: int | None, shares_dir: str | None, batch_size: int) -> None:
    """New keypair; every value's data key re-wrapped for it. Re-run to finish after a crash."""
    kind = _kind(evidence)
    if new_passphrase_file and (new_shares or new_threshold):
        raise click.ClickException("give --new-passphrase-file or --new-shares, not both")
    if bool(new_shares) != bool(new_threshold):
        raise click.ClickException("--new-shares and --new-threshold go together")
    if new_shares and new_threshold and new_threshold > new_shares:
        raise click.ClickException("--new-threshold cannot exceed --new-shares")
    protection = None
    if new_passphrase_file:
        new_passphrase = read_secret_file(new_passphrase_file)
        if len(new_passphrase) < keystore.MIN_PASSPHRASE:
            raise click.ClickException(
                f"the new passphrase needs at least {keystore.MIN_PASSPHRASE} characters")
        protection = key_lifecycle.Protection(passphrase=new_passphrase)
    elif new_shares and new_threshold:
        protection = key_lifecycle.Protection(threshold=new_threshold, count=new_shares)
    todo = key_lifecycle.plan(db.session, kind)
    key_lifecycle.check(todo, protection)  # before asking for any secret
    kid = todo.unlock[0]
    if todo.resume:
        click.echo(f"finishing the rotation to {kind} key {todo.current}: {todo.pending} "
                   f"values still on key {', '.join(todo.unlock)}")
    else:
        click.echo(f"rotating {kind} key {kid}")
    if todo.stranded:
        click.echo(f"{todo.stranded} values are sealed for a destroyed or unknown key: no "
                   "rotation can move them (`keys verify` names them)", err=True)
    secret = secret_for(kind, kid, todo.split(db.session, kid), passphrase_file, share_files)
    try:
        result = key_lifecycle.rotate(
            db.session, kind, secret=secret, protection=protection,
            log2n=current_app.config["JIDU_SCRYPT_LOG2N"], actor=CLI_ACTOR, batch=batch_size,
            progress=_progress("re-wrapped"), deliver=_deliver(kind, shares_dir))
    except keystore.PassphraseError as exc:
        raise click.ClickException(f"{kind} key {kid}: {exc}") from None
    click.echo(f"re-wrapped {result.moved} values from key {', '.join(result.old)} "
               f"to {kind} key {result.new}")
    for failure in result.failed:
        click.echo(f"failed: {failure}", err=True)
    if result.failed or result.remaining:
        raise click.ClickException(
            f"{len(result.failed)} values failed, {result.remaining} are not on key "
            f"{result.new}: see `keys verify`; run `keys rotate` again for values left behind")
    click.echo(f"{kind} key {result.new} is current. Next: `keys verify"
               f"{' --evidence' if evidence else ''}` with the new key's secret; when it "
               f"passes, destroy the old private key with `keys destroy "
               f"{' '.join(result.old)}{' --evidence' if evidence else ''}`, and expire "
               "database backups that still hold it.")


@keys_cli.command("verify")
@click.option("--evidence", is_flag=True, help="The evidence keypair instead of the identity one.")
@unlock_options
@click.option("--files/--no-files", default=False,
              help="With --evidence: decrypt every attachment file to its end too.")
@fails_cleanly
def keys_verify(evidence: bool, passphrase_file: str | None, share_files: tuple[str, ...],
                files: bool) -> None:
    """Open every sealed value with the current key, in memory; non-zero exit unless all do."""
    kind = _kind(evidence)
    key = key_lifecycle.current(db.session, kind)
    secret = secret_for(kind, key.kid, keystore.split_of(key.private_key_protected),
                        passphrase_file, share_files)
    folder = Path(current_app.config["JIDU_DATA_DIR"]) / attachments.FOLDER if files else None
    try:
        result = key_verify.verify(db.session, kind, secret=secret, actor=CLI_ACTOR,
                                      files=folder, progress=_progress("checked"))
    except keystore.PassphraseError as exc:
        raise click.ClickException(f"{kind} key {key.kid}: {exc}") from None
    for failure in result.failed:
        click.echo(f"failed: {failure}")
    old = sum(result.old.values())
    detail = ", ".join(f"{kid}: {n}" for kid, n in sorted(result.old.items()))
    click.echo(f"{kind} key {result.kid}: {result.ok} ok, {len(result.failed)} failed, "
               f"{old} on an old key{f' ({detail})' if detail else ''}")
    if not result.passed:
        raise click.ClickException(
            "verify failed" + (": run `keys rotate` to move values still on an old key"
                               if old else ""))


@keys_cli.command("split")
@click.option("--evidence", is_flag=True, help="The evidence keypair instead of the identity one.")
@unlock_options
@click.option("--shares", "count", required=True, type=click.IntRange(2, shares.MAX_SHARES),
              help="How many custodians get a share.")
@click.option("--threshold", required=True, type=click.IntRange(2, shares.MAX_SHARES),
              help="How many shares open the key.")
@click.option("--shares-dir", type=click.Path(file_okay=False),
              help="Write the shares to files here instead of printing them.")
@fails_cleanly
def keys_split(evidence: bool, passphrase_file: str | None, share_files: tuple[str, ...],
               count: int, threshold: int, shares_dir: str | None) -> None:
    """Keep the current private key under a random secret dealt as M-of-N shares."""
    kind = _kind(evidence)
    if threshold > count:
        raise click.ClickException("--threshold cannot exceed --shares")
    key = key_lifecycle.current(db.session, kind)
    secret = secret_for(kind, key.kid, keystore.split_of(key.private_key_protected),
                        passphrase_file, share_files)
    try:
        key_lifecycle.split(db.session, kind, secret=secret, threshold=threshold, count=count,
                            log2n=current_app.config["JIDU_SCRYPT_LOG2N"], actor=CLI_ACTOR,
                            deliver=_deliver(kind, shares_dir))
    except keystore.PassphraseError as exc:
        raise click.ClickException(f"{kind} key {key.kid}: {exc}") from None
    click.echo(f"the old {'shares' if share_files else 'passphrase'} no longer opens {kind} "
               f"key {key.kid} (backups taken before still hold the old protection)")


@keys_cli.command("destroy")
@click.argument("kid")
@click.option("--evidence", is_flag=True, help="The evidence keypair instead of the identity one.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@fails_cleanly
def keys_destroy(kid: str, evidence: bool, yes: bool) -> None:
    """Erase a retired private key; refused while any value is still sealed for it."""
    kind = _kind(evidence)
    if not yes:
        click.confirm(f"erase the private key of {kind} key {kid} for good?", abort=True)
    key_lifecycle.destroy(db.session, kind, kid, actor=CLI_ACTOR)
    click.echo(f"private key of {kind} key {kid} destroyed")
