"""PostgreSQL stopped hard and started again under load: clean failures, then recovery.

A cluster of the test's own (never the shared server) is stopped with
``pg_ctl stop -m immediate`` (a crash: WAL recovery on start) while reporters
keep posting; during the outage every request must end within a bounded time
with a JSON error (never a hang, never a traceback), and once the database is
back requests must succeed again with the same gunicorn processes.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from app import create_app, schema
from app.extensions import db
from app.services import campaigns, evidence_keys, keys, people
from app.timeutil import utcnow
from tests.conftest import EVIDENCE_PASSPHRASE, PASSPHRASE, make_config
from tests.deploy.conftest import production_env
from tests.evidence_files import jpeg_with_gps
from tests.resilience.conftest import Attempt, Gunicorn, Load, request
from tests.resilience.pg_cluster import PrivateCluster
from tests.resilience.test_crash import clue_payload

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

REPORTERS = 8
OUTAGE_SECONDS = 4
# No request may take longer: connect_timeout (5 s) + pool_timeout (10 s), with room.
SLOWEST = 20


def prepare(cluster: PrivateCluster, tmp: Any) -> str:
    """Schema, keys, an open campaign; returns an API token."""
    app = create_app(make_config(tmp, cluster.url))
    with app.app_context():
        schema.rebuild(db.engine)
        log2n = app.config["JIDU_SCRYPT_LOG2N"]
        keys.init_keys(db.session, passphrase=PASSPHRASE, log2n=log2n, actor="test")
        evidence_keys.init_key(db.session, passphrase=EVIDENCE_PASSPHRASE, log2n=log2n,
                               actor="test")
        now = utcnow()
        campaigns.create_campaign(db.session, slug="open", title="测试征集",
                                  opens_at=now - timedelta(days=1),
                                  deadline=now + timedelta(days=30), actor="test")
        token = people.create_token(db.session, channel="app", name="浙企之家", actor="test")
        db.session.remove()
        db.engine.dispose()
    return token


def test_database_restart_fails_cleanly_and_recovers_without_the_app(private_pg, tmp_path):
    token = prepare(private_pg, tmp_path)
    env = production_env(tmp_path, private_pg.url, JIDU_RATELIMITS="false",
                         JIDU_WEB_WORKERS="1", JIDU_WEB_THREADS="4")
    server = Gunicorn(tmp_path, env)
    server.start()
    load = Load(server.port, token, clue_payload, jpeg_with_gps((64, 48)), threads=REPORTERS,
                timeout=60)
    print(f"\n[pg-restart] private cluster on port {private_pg.port}; {REPORTERS} reporters; "
          f"gunicorn 1 worker x 4 threads")
    try:
        load.start()
        load.wait_for("created", 30, timeout=60)
        pids = server.pids()
        down = time.monotonic()
        private_pg.stop("immediate")
        print(f"[pg-restart] pg_ctl stop -m immediate after {load.count('created')} receipts")
        time.sleep(OUTAGE_SECONDS)
        private_pg.start()
        up = time.monotonic()
        print(f"[pg-restart] started again after {up - down:.1f} s (WAL recovery)")
        before = load.count("created")
        load.wait_for("created", before + 1, timeout=60)
        time.sleep(3)  # reporters keep going on the recovered pool
        load.wait_for("created", load.count("created") + 30, timeout=60)
    finally:
        load.stop()
    try:
        same = server.pids() == pids
        check_outage(load.attempts, down, up)
        check_recovery(load.attempts, up)
        assert same, "gunicorn's processes changed: the app was restarted"
        assert "WORKER TIMEOUT" not in server.log()
        print(f"[pg-restart] held: the same gunicorn master and worker {pids} throughout")
        check_nothing_lost(server, load.attempts, private_pg)
    finally:
        server.stop()
    private_pg.run("pg_amcheck", "-h", "127.0.0.1", "-p", str(private_pg.port), "-U", "postgres",
                   "--install-missing", "--heapallindexed", "jidu")
    print("[pg-restart] held: pg_amcheck --heapallindexed found no corruption")


def check_outage(attempts: list[Attempt], down: float, up: float) -> None:
    during = [a for a in attempts if a.started < up and a.started + a.elapsed > down]
    failed = [a for a in during if a.outcome != "created"]
    assert failed, "no request met the outage"
    for attempt in failed:
        assert attempt.outcome == "status", (attempt.marker, attempt.outcome, attempt.error)
        assert attempt.status in (500, 503), (attempt.status, attempt.body[:300])
        assert attempt.content_type.startswith("application/json")
        error = attempt.answer["error"]
        assert error["code"]
        assert error["message"]
        assert b"Traceback" not in attempt.body
        assert b"psycopg" not in attempt.body
    slowest = max(a.elapsed for a in attempts)
    assert slowest < SLOWEST
    codes = sorted({(a.status, a.answer["error"]["code"]) for a in failed})
    print(f"[pg-restart] held: {len(failed)} requests met the outage, each answered "
          f"{codes} in JSON without a traceback; slowest request {slowest:.1f} s "
          f"(limit {SLOWEST} s); none hung, none lost its connection")


def check_recovery(attempts: list[Attempt], up: float) -> None:
    after = sorted((a for a in attempts if a.started >= up), key=lambda a: a.started)
    first = next(a for a in after if a.outcome == "created")
    settled = [a for a in after if a.started > first.started + first.elapsed + 1]
    assert settled, "no request after recovery"
    assert [a.status for a in settled if a.outcome != "created"] == []
    print(f"[pg-restart] held: first receipt {first.started + first.elapsed - up:.1f} s after "
          f"the database was back; all {len(settled)} requests after it succeeded, "
          f"without restarting the app")


def check_nothing_lost(server: Gunicorn, attempts: list[Attempt],
                       cluster: PrivateCluster) -> None:
    created = {a.marker: a.answer for a in attempts if a.outcome == "created"}
    for answer in created.values():
        status, body, _type = request(server.port, "POST", "/api/v1/receipts/lookup",
                                      json.dumps({"receipt": answer["receipt"]}).encode(),
                                      {"Content-Type": "application/json"})
        assert status == 200, body
    engine = create_engine(cluster.url)
    try:
        with engine.connect() as connection:
            stored = [row[0].split()[0] for row in connection.execute(
                text("SELECT description FROM clues WHERE description LIKE 'crash-%'"))]
    finally:
        engine.dispose()
    assert len(stored) == len(set(stored))
    assert set(created) <= set(stored)
    failed = {a.marker: a for a in attempts if a.outcome != "created"}
    extra = set(stored) - set(created)
    assert extra <= failed.keys()
    print(f"[pg-restart] held: all {len(created)} receipts look up; {len(stored)} clues "
          f"stored, none twice; {len(extra)} stored though answered with an error: "
          f"{[(m, failed[m].with_file, failed[m].body[:80]) for m in extra]}")
