"""Crash consistency: gunicorn SIGKILLed under 32 concurrent reporters, then started again.

Nothing a reporter was given a receipt for may be lost or doubled, nothing
may be half-written, no evidence file may be missing or left without its
row, and the database must pass its own integrity check. Runs on SQLite and,
with TEST_DATABASE_URL, on PostgreSQL. (The PostgreSQL server itself restarted
under load: test_pg_restart.py.)
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import Attachment, Clue, ClueEvent, StatusCount
from tests.conftest import EVIDENCE_PASSPHRASE, PASSPHRASE
from tests.deploy.conftest import production_env
from tests.evidence_files import jpeg_with_gps
from tests.factories import anonymous_payload, payload
from tests.resilience.conftest import Attempt, Gunicorn, Load, request

pytestmark = pytest.mark.slow

REPORTERS = 32
KILLS = 2
# Receipts handed out before each kill and after the last restart.
PER_ROUND = 40


def clue_payload(marker: str, real_name: bool) -> dict[str, Any]:
    description = f"{marker} 首次轻微违法已当场改正，仍被按最高档罚款五千元。"
    if real_name:
        return payload(description=description)
    return anonymous_payload(description=description)


def test_sigkill_under_load_loses_and_doubles_nothing(app, ready, evidence_key, app_token,
                                                      tmp_path):
    env = production_env(tmp_path, app.config["SQLALCHEMY_DATABASE_URI"],
                         JIDU_RATELIMITS="false", JIDU_WEB_WORKERS="2", JIDU_WEB_THREADS="4")
    server = Gunicorn(tmp_path, env)
    server.start()
    load = Load(server.port, app_token, clue_payload, jpeg_with_gps((64, 48)), threads=REPORTERS)
    began = time.monotonic()
    print(f"\n[crash] {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}: {REPORTERS} "
          f"reporters (1 in 4 with a photo, 1 in 3 real-name), gunicorn 2 workers x 4 threads")
    try:
        load.start()
        for kill in range(1, KILLS + 1):
            load.wait_for("created", PER_ROUND * kill, timeout=120)
            pids = server.kill()
            print(f"[crash] kill {kill}: SIGKILL to master and workers {pids} after "
                  f"{load.count('created')} receipts; so far {load.summary()}")
            time.sleep(1.0)  # reporters meet a closed port meanwhile
            server.start()
            print(f"[crash] restarted on the same port ({time.monotonic() - began:.1f} s)")
        load.wait_for("created", PER_ROUND * (KILLS + 1), timeout=120)
    finally:
        load.stop()
    print(f"[crash] load stopped after {time.monotonic() - began:.1f} s: {load.summary()}")
    try:
        check_every_receipt_looks_up(server, load.attempts)
        data = Path(env["JIDU_DATA_DIR"])
        orphans = check_database(load.attempts, data)
        check_orphans_are_swept(server, data, orphans)
        check_keys_open_everything(server, tmp_path)
    finally:
        server.stop()
    check_integrity()


def check_every_receipt_looks_up(server: Gunicorn, attempts: list[Attempt]) -> None:
    created = [a for a in attempts if a.outcome == "created"]
    for attempt in created:
        answer = attempt.answer
        status, body, _type = request(server.port, "POST", "/api/v1/receipts/lookup",
                                      json.dumps({"receipt": answer["receipt"]}).encode(),
                                      {"Content-Type": "application/json"})
        assert status == 200, (attempt.marker, status, body)
        assert json.loads(body)["tracking_no"] == answer["tracking_no"]
    print(f"[crash] held: all {len(created)} receipts handed out look up after the restarts")


def check_database(attempts: list[Attempt], data: Path) -> set[str]:
    db.session.rollback()  # a fresh snapshot: the server wrote meanwhile
    rows = db.session.execute(
        select(Clue.id, Clue.tracking_no, Clue.receipt_hash, Clue.description,
               Clue.identity_sealed).where(Clue.description.like("crash-%"))).all()
    markers = Counter(row.description.split()[0] for row in rows)
    assert [m for m, n in markers.items() if n > 1] == [], "a submission was stored twice"
    assert len({r.tracking_no for r in rows}) == len({r.receipt_hash for r in rows}) == len(rows)

    by_outcome: dict[str, set[str]] = {}
    for attempt in attempts:
        by_outcome.setdefault(attempt.outcome, set()).add(attempt.marker)
    created, lost = by_outcome.get("created", set()), by_outcome.get("lost", set())
    stored = set(markers)
    assert created - stored == set(), "a clue with a receipt is missing"
    extra = stored - created
    # A clue whose answer was lost in the kill may be stored (the reporter holds no
    # receipt); one that was refused, or answered with an error, must not be.
    assert extra <= lost, f"stored without a receipt and not in flight: {extra - lost}"
    failed = {a.marker: a.status for a in attempts if a.outcome == "status"}
    assert failed.keys() & stored == set()

    # Complete, never half-written: its event, its identity, its photo.
    ids = {row.description.split()[0]: row.id for row in rows}
    events = Counter(db.session.scalars(
        select(ClueEvent.clue_id).where(ClueEvent.kind == "submitted",
                                        ClueEvent.clue_id.in_(ids.values()))))
    photos = Counter(db.session.scalars(
        select(Attachment.clue_id).where(Attachment.clue_id.in_(ids.values()))))
    for row in rows:
        marker = row.description.split()[0]
        number = int(marker.split("-")[1])
        assert events[row.id] == 1, marker
        assert (row.identity_sealed is not None) == (number % 3 == 0), marker
        assert photos[row.id] == (1 if number % 4 == 0 else 0), marker
    received = db.session.scalar(select(func.sum(StatusCount.n))
                                 .where(StatusCount.status == "received"))
    total = db.session.scalar(select(func.count()).select_from(Clue))
    assert received == total, "the status counter drifted from the clues"

    storage = set(db.session.scalars(select(Attachment.storage_name)))
    on_disk = {p.name for p in (data / "attachments").iterdir()}
    assert storage - on_disk == set(), "an attachment row has no file"
    # Files are written before the transaction: a kill in between leaves one
    # file without a row, at most one per photo in flight (exports run removes it).
    orphans = on_disk - storage
    in_flight = [a for a in attempts if a.outcome == "lost" and a.with_file]
    assert len(orphans) <= len(in_flight)
    print(f"[crash] held: {len(rows)} clues = {len(created)} with a receipt + "
          f"{len(extra)} of {len(lost)} whose answer was lost in a kill; none twice; "
          f"each with its event, identity and photo; status counter = {total}; "
          f"{len(storage)} attachment rows, each with its file; {len(orphans)} files "
          f"without a row (<= {len(in_flight)} photos in flight at a kill)")
    return orphans


def check_orphans_are_swept(server: Gunicorn, data: Path, orphans: set[str]) -> None:
    """Two hours later (files backdated), ``exports run`` removes the orphans and only them."""
    folder = data / "attachments"
    before = {p.name for p in folder.iterdir()}
    two_hours_ago = time.time() - 7200
    for path in folder.iterdir():
        os.utime(path, (two_hours_ago, two_hours_ago))
    result = server.flask("exports", "run", "--once")
    assert result.returncode == 0, result.stdout + result.stderr
    after = {p.name for p in folder.iterdir()}
    assert after == before - orphans
    print(f"[crash] held: exports run --once removed the {len(orphans)} orphaned files, "
          f"kept all {len(after)} others ({result.stdout.strip().splitlines()[-1]})")


def check_keys_open_everything(server: Gunicorn, tmp: Path) -> None:
    for name, secret, flags in (("identity", PASSPHRASE, ()),
                                ("evidence", EVIDENCE_PASSPHRASE, ("--evidence", "--files"))):
        secret_file = tmp / f"{name}.txt"
        secret_file.write_text(secret)
        result = server.flask("keys", "verify", *flags, "--passphrase-file", str(secret_file))
        assert result.returncode == 0, result.stdout + result.stderr
        print(f"[crash] held: keys verify {' '.join(flags)}: {result.stdout.strip()}")


def check_integrity() -> None:
    engine = db.engine
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        with sqlite3.connect(str(path)) as connection:
            integrity = connection.execute("PRAGMA integrity_check").fetchall()
            foreign = connection.execute("PRAGMA foreign_key_check").fetchall()
        assert integrity == [("ok",)]
        assert foreign == []
        print("[crash] held: PRAGMA integrity_check = ok, foreign_key_check empty")
        return
    # PostgreSQL never saw a crash here (only its clients died); its data is
    # checked for what a dead client could leave: rows pointing nowhere.
    dangling = {
        "events": "SELECT count(*) FROM clue_events e LEFT JOIN clues c ON c.id = e.clue_id "
                  "WHERE c.id IS NULL",
        "attachments": "SELECT count(*) FROM attachments a LEFT JOIN clues c "
                       "ON c.id = a.clue_id WHERE c.id IS NULL",
        "open transactions": "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                             "current_database() AND state LIKE 'idle in transaction%' "
                             "AND pid <> pg_backend_pid()",
    }
    found = {name: db.session.scalar(text(sql)) for name, sql in dangling.items()}
    assert found == dict.fromkeys(dangling, 0)
    print(f"[crash] held: PostgreSQL consistency queries {found}")
