"""Intake keeps the reference data in memory, and sees every change at the next submission.

The changes here are made as an operator with psql would make them: plain SQL
on a connection of its own, outside the ORM, so that only the database's
triggers can tell the process that its copy is stale.
"""

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, text

from app.extensions import db
from app.models import Clue, Situation
from app.services import counts, reference_cache
from app.services.errors import CampaignClosed, ValidationFailed
from app.timeutil import utcnow
from tests.conftest import bearer
from tests.factories import anonymous_payload
from tests.unit.test_intake import submit

REFERENCE_TABLES = set(reference_cache.WATCHED)


def as_psql(statement: str, **params: object) -> None:
    with db.engine.begin() as connection:
        connection.execute(text(statement), params)


def test_a_district_added_with_sql_is_accepted_at_the_next_submission(ready):
    with pytest.raises(ValidationFailed) as refused:
        submit(anonymous_payload(district="newisle"))
    assert refused.value.fields == {"district": "choice"}
    db.session.rollback()  # the request ends; within one, the snapshot is read once
    as_psql("INSERT INTO districts (code, name, name_en, position) "
            "VALUES ('newisle', '新岛', 'New Isle', 99)")
    stored = submit(anonymous_payload(district="newisle"))
    assert db.session.get(Clue, stored.clue_id).district_code == "newisle"


def test_a_situation_removed_with_sql_is_refused_at_once(ready):
    code = db.session.scalar(select(Situation.code).where(Situation.category_code == "fees")
                             .order_by(Situation.position))
    submit(anonymous_payload())  # the snapshot is read, with the situation in it
    as_psql("DELETE FROM situations WHERE code = :code", code=code)
    with pytest.raises(ValidationFailed) as refused:
        submit(anonymous_payload(category="fees", situations=[code]))
    assert refused.value.fields == {"situations": "choice"}


def test_a_deadline_moved_with_sql_closes_intake_at_once(ready):
    submit(anonymous_payload())
    as_psql("UPDATE campaigns SET deadline = :past", past=utcnow() - timedelta(minutes=1))
    before = db.session.scalar(select(func.count(Clue.id)))
    with pytest.raises(CampaignClosed):
        submit(anonymous_payload())
    assert db.session.scalar(select(func.count(Clue.id))) == before


def test_a_token_revoked_with_sql_is_refused_at_the_next_request(client, ready, app_token):
    sent = client.post("/api/v1/clues", json=anonymous_payload(), headers=bearer(app_token))
    assert sent.status_code == 201
    as_psql("UPDATE api_tokens SET revoked_at = :now", now=utcnow() - timedelta(seconds=1))
    again = client.post("/api/v1/clues", json=anonymous_payload(), headers=bearer(app_token))
    assert again.status_code == 401
    assert again.get_json()["error"]["code"] == "unauthorized"


def test_a_submission_reads_no_reference_table_once_warm(client, ready, app_token):
    assert client.post("/api/v1/clues", json=anonymous_payload(),
                       headers=bearer(app_token)).status_code == 201
    sent: list[str] = []

    def record(conn, cursor, statement, params, context, executemany):
        sent.append(" ".join(statement.split()).lower())

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        answer = client.post("/api/v1/clues", json=anonymous_payload(category="fines"),
                             headers=bearer(app_token))
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert answer.status_code == 201
    reads = [s for s in sent if s.startswith("select")]
    touched = {t for t in REFERENCE_TABLES for s in reads if f" from {t}" in s}
    assert touched == set(), reads
    # One look at the counter, the tracking number, the colour rule's count and
    # the reviewers to tell; then the writes.
    assert len(reads) == 4, reads
    assert len(sent) <= 9, sent


def test_a_rebuilt_database_never_matches_a_kept_snapshot(app):
    first = reference_cache.current(db.session).version
    db.session.rollback()
    as_psql("DELETE FROM reference_version")
    with db.engine.begin() as connection:
        reference_cache.install(connection)
    second = reference_cache.current(db.session).version
    assert first is not None
    assert second is not None
    assert first != second


def test_status_counts_add_up_over_their_shards(ready):
    for _ in range(40):
        submit(anonymous_payload())
    assert counts.totals(db.session)["received"] == 40
    shards = db.session.scalar(text("SELECT count(*) FROM status_counts "
                                    "WHERE status = 'received'"))
    assert 1 < shards <= counts.SHARDS
