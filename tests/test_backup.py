"""Backup and restore (issue 8, point 5): consistent while serving, restored only whole and checked.

Each test runs on SQLite and on PostgreSQL. A restore goes into a second
instance made for the test: an empty SQLite file, or an empty PostgreSQL
database created beside the test database.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, inspect, make_url, select, text

from app import create_app
from app.context import attachment_policy, intake_keys
from app.extensions import db
from app.models import Attachment, AuditEvent, Channel, Clue, StatusCount
from app.security import archive
from app.services import attachments, backup, intake, lookup, restore
from app.timeutil import utcnow
from tests.conftest import EVIDENCE_PASSPHRASE, _database_url, make_config
from tests.evidence_files import jpeg_with_gps
from tests.factories import anonymous_payload, payload

BACKUP_KEY = "a backup key only for the tests, long enough 0123456789"


@pytest.fixture
def backup_key(app: Flask) -> Iterator[str]:
    app.config["JIDU_BACKUP_KEY"] = BACKUP_KEY
    yield BACKUP_KEY
    app.config["JIDU_BACKUP_KEY"] = None


def submit(*, files: bool = False, real_name: bool = True) -> str:
    uploads = [attachments.Upload("照片.jpg", io.BytesIO(jpeg_with_gps((32, 24))))] \
        if files else []
    done = intake.submit(db.session, payload() if real_name else anonymous_payload(),
                         channel=Channel.WEB, keys=intake_keys(), now=utcnow(),
                         actor="reporter", uploads=uploads, policy=attachment_policy())
    return done.receipt


@pytest.fixture
def target(backend: str, tmp_path: Path) -> Iterator[Flask]:
    """A second instance with an empty database and data directory, to restore into."""
    admin = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'restored' / 'jidu.sqlite3'}"
    else:
        source = make_url(_database_url(backend, tmp_path))
        name = f"{source.database}_restore"
        admin = create_engine(source.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = source.set(database=name).render_as_string(hide_password=False)
    config = make_config(tmp_path / "restored", url)
    config.JIDU_BACKUP_KEY = BACKUP_KEY  # type: ignore[attr-defined]
    restored = create_app(config)
    yield restored
    with restored.app_context():
        db.session.remove()
        db.engine.dispose()
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def invoke(instance: Flask, *args: str):
    """A command run against ``instance`` (the runner uses whichever app is current)."""
    with instance.app_context():
        return instance.test_cli_runner().invoke(args=list(args))


def create(runner, tmp_path: Path) -> Path:
    result = runner.invoke(args=["backup", "create", "--to", str(tmp_path / "backups")])
    assert result.exit_code == 0, result.output
    return Path(result.output.strip().splitlines()[-1])


def test_backup_while_submitting_restores_every_receipt_issued_before(
        app, ready, evidence_key, backup_key, runner, target, tmp_path):
    before = [submit(files=i % 2 == 0) for i in range(6)]
    during: list[str] = []
    stop = threading.Event()
    errors: list[BaseException] = []

    def keep_submitting() -> None:
        with app.app_context():
            try:
                while not stop.is_set():
                    during.append(submit(files=len(during) % 3 == 0))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    writer = threading.Thread(target=keep_submitting)
    writer.start()
    try:
        while len(during) < 3 and writer.is_alive():
            time.sleep(0.01)
        issued_before = before + list(during)
        path = create(runner, tmp_path)
        # Let the writer go on a little after the snapshot, too.
        count = len(during)
        while len(during) < count + 3 and writer.is_alive():
            time.sleep(0.01)
    finally:
        stop.set()
        writer.join(timeout=60)
    assert not errors, errors
    assert path.name.startswith("jidu-backup-")
    assert path.suffix == ".jbk"
    assert path.stat().st_mode & 0o777 == 0o600
    assert b"SQLite format" not in path.read_bytes()

    result = invoke(target, "backup", "restore", str(path))
    assert result.exit_code == 0, result.output
    with target.app_context():
        key = target.config["JIDU_RECEIPT_KEY"]
        for receipt in issued_before:
            assert lookup.by_receipt(db.session, receipt, receipt_key=key).status == "received"
        clues = db.session.scalar(select(func.count(Clue.id)))
        # One instant: the per-status counts kept in each transaction match the clues.
        assert db.session.scalar(select(func.sum(StatusCount.n))) == clues
        assert len(issued_before) <= clues <= len(before) + len(during)
        rows = db.session.scalars(select(Attachment)).all()
        assert rows
        folder = Path(target.config["JIDU_DATA_DIR"]) / attachments.FOLDER
        assert {p.name for p in folder.iterdir()} == {r.storage_name for r in rows}
        got = attachments.open_for_download(
            db.session, rows[0].id, clue_id=rows[0].clue_id, actor="test",
            passphrase=EVIDENCE_PASSPHRASE, folder=folder, now=utcnow())
        assert b"".join(got.chunks).startswith(b"\xff\xd8")
        assert "backup.restored" in set(db.session.scalars(select(AuditEvent.action)))
    verified = invoke(target, "audit", "verify")
    assert verified.exit_code == 0, verified.output


def test_restore_refuses_a_database_that_is_not_empty(app, ready, backup_key, runner,
                                                      tmp_path):
    submit()
    path = create(runner, tmp_path)
    clues = db.session.scalar(select(func.count(Clue.id)))
    result = runner.invoke(args=["backup", "restore", str(path)])
    assert result.exit_code == 1
    assert "the database is not empty" in result.output
    assert db.session.scalar(select(func.count(Clue.id))) == clues


def test_restore_refuses_a_data_directory_that_is_not_empty(app, ready, backup_key, runner,
                                                            target, tmp_path):
    submit()
    path = create(runner, tmp_path)
    stray = Path(target.config["JIDU_DATA_DIR"]) / attachments.FOLDER / "leftover"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"x")
    result = invoke(target, "backup", "restore", str(path))
    assert result.exit_code == 1
    assert "not empty" in result.output


def empty(instance: Flask) -> bool:
    with instance.app_context(), db.engine.connect() as conn:
        tables = inspect(conn).get_table_names()
    data = Path(instance.config["JIDU_DATA_DIR"])
    return not tables and not any(p.is_file() for p in data.rglob("*"))


def test_a_tampered_archive_is_refused_and_nothing_restored(app, ready, evidence_key,
                                                            backup_key, runner, target,
                                                            tmp_path):
    submit(files=True)
    path = create(runner, tmp_path)
    body = bytearray(path.read_bytes())
    for at in (len(body) // 2, len(body) - 5, 300):
        flipped = tmp_path / f"flipped-{at}.jbk"
        changed = bytearray(body)
        changed[at] ^= 0x01
        flipped.write_bytes(bytes(changed))
        result = invoke(target, "backup", "restore", str(flipped))
        assert result.exit_code == 1, result.output
        assert "refused" in result.output or "not a Jidu backup" in result.output
        assert empty(target)
    cut = tmp_path / "cut.jbk"
    cut.write_bytes(bytes(body[: len(body) - 1000]))
    result = invoke(target, "backup", "restore", str(cut))
    assert result.exit_code == 1
    assert "refused" in result.output
    assert empty(target)
    target.config["JIDU_BACKUP_KEY"] = BACKUP_KEY + "-another"
    result = invoke(target, "backup", "restore", str(path))
    assert result.exit_code == 1
    assert "another JIDU_BACKUP_KEY" in result.output
    assert empty(target)


def test_an_archive_that_does_not_match_its_manifest_is_refused(app, backend, backup_key,
                                                               target, tmp_path):
    """Even one made with the right key: every part must be listed with its hash."""
    forged = tmp_path / "jidu-backup-20260101T000000Z.jbk"
    part = backup.DATABASE_PART[backend]
    with forged.open("wb") as raw, archive.writing(
            raw, archive.derive_key(BACKUP_KEY),
            {"format": 1, "created_at": "2026-01-01T00:00:00+00:00", "backend": backend}) as tar:
        backup._add(tar, part, io.BytesIO(b"not a database"), 14, {})
        manifest = json.dumps({"backend": backend, "parts": {
            part: {"sha256": "0" * 64, "bytes": 14}}}).encode()
        backup._add(tar, "manifest.json", io.BytesIO(manifest), len(manifest), {})
    result = invoke(target, "backup", "restore", str(forged))
    assert result.exit_code == 1
    assert "does not match its manifest" in result.output
    assert empty(target)


def test_verify_reads_the_whole_archive(app, ready, evidence_key, backup_key, runner, tmp_path):
    submit(files=True)
    path = create(runner, tmp_path)
    result = runner.invoke(args=["backup", "verify", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 clues, 1 attachments" in result.output
    assert "backup.created" in set(db.session.scalars(select(AuditEvent.action)))


def test_backup_needs_its_key_and_stays_out_of_the_data_directory(app, ready, runner, tmp_path):
    result = runner.invoke(args=["backup", "create", "--to", str(tmp_path)])
    assert result.exit_code == 1
    assert "JIDU_BACKUP_KEY must be set" in result.output
    app.config["JIDU_BACKUP_KEY"] = BACKUP_KEY
    try:
        inside = Path(app.config["JIDU_DATA_DIR"]) / "backups"
        result = runner.invoke(args=["backup", "create", "--to", str(inside)])
        assert result.exit_code == 1
        assert "inside JIDU_DATA_DIR" in result.output
    finally:
        app.config["JIDU_BACKUP_KEY"] = None


def test_mail_and_exports_are_not_backed_up(app, ready, backup_key, runner, tmp_path):
    data = Path(app.config["JIDU_DATA_DIR"])
    for folder, name in (("mail", "a.eml"), ("exports", "x.xlsx"), ("reports/daily", "d.html")):
        (data / folder).mkdir(parents=True, exist_ok=True)
        (data / folder / name).write_text("内容")
    submit()
    path = create(runner, tmp_path)
    checked = restore.read(path, archive.derive_key(BACKUP_KEY), None)
    names = set(checked.manifest["parts"])
    assert "reports/daily/d.html" in names
    assert not [n for n in names if n.startswith(("mail", "exports"))]


def test_prune_keeps_backups_no_longer_than_the_period(app, runner, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    now = utcnow()
    for days in (0, 29, 31, 400):
        made = (now - timedelta(days=days)).strftime(backup.STAMP)
        (folder / f"jidu-backup-{made}.jbk").write_bytes(b"x")
    (folder / "notes.txt").write_text("kept: not a backup")
    result = runner.invoke(args=["backup", "prune", "--dir", str(folder), "--keep-days", "30"])
    assert result.exit_code == 0, result.output
    assert "2 backups removed" in result.output
    assert len(list(folder.glob("jidu-backup-*.jbk"))) == 2
    assert (folder / "notes.txt").exists()
    too_long = runner.invoke(args=["backup", "prune", "--dir", str(folder), "--keep-days",
                                   str(app.config["JIDU_RETENTION_DAYS"] + 1)])
    assert too_long.exit_code == 1
    assert "at most the retention period" in too_long.output
    assert "backup.pruned" in set(db.session.scalars(select(AuditEvent.action)))
