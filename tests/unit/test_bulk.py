"""Bulk synthetic data: the counts add up, runs continue, real envelopes for real names,
histories that follow the workflow, hotline orders, disputes and cases in proportion."""

import json
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, func, insert, inspect, select, text

from app.context import intake_keys
from app.extensions import Base, db
from app.models import (
    Clue,
    ClueEvent,
    DailyStat,
    Dispute,
    EnforcementCase,
    HotlineOrder,
    clue_situations,
)
from app.models.clue import identity_aad
from app.security import envelope, receipts
from app.services import bulk, bulk_write, intake, keys, queue, rollup
from app.services.hotline_store import caller_aad
from app.timeutil import utcnow
from tests.conftest import PASSPHRASE
from tests.factories import anonymous_payload

NOW = datetime(2026, 3, 14, 4, 0, tzinfo=UTC)


def test_bulk_insert_twice_and_everything_is_consistent(identity_key):
    assert bulk.bulk_clues(db.session, 1200, keys=intake_keys(), now=utcnow(), batch=500) == 1200
    bulk.bulk_clues(db.session, 300, keys=intake_keys(), now=utcnow(), batch=500)
    count = db.session.scalar(select(func.count(Clue.id)))
    assert count == 1500
    assert db.session.scalar(select(func.count()).select_from(clue_situations)) == 1500
    assert db.session.scalar(select(func.count(ClueEvent.id)).where(
        ClueEvent.kind == "submitted")) == 1500
    assert len(set(db.session.scalars(select(Clue.tracking_no)))) == 1500
    sealed = db.session.scalar(select(Clue).where(Clue.identity_sealed.is_not(None)))
    private = keys.unlock_private_key(db.session, identity_key, PASSPHRASE)
    identity = json.loads(envelope.open_sealed(sealed.identity_sealed, private,
                                               identity_aad(sealed.tracking_no)))
    assert identity["phone"].startswith("139")
    page = queue.list_clues(db.session, queue.Filters(status="closed"), now=utcnow())
    assert sum(page.counts.values()) == 1500
    assert all(c.status == "closed" for c in page.clues)
    # Nothing else is made by bulk_clues: the benchmarks add their own.
    assert db.session.scalar(select(func.count(HotlineOrder.id))) == 0
    assert db.session.scalar(select(func.count(EnforcementCase.id))) == 0


def test_fill_histories_follow_the_workflow(identity_key):
    filled = bulk.fill(db.session, 1000, keys=intake_keys(), now=NOW, days=60, batch=300,
                       workers=1)
    assert filled.clues == 1000
    assert filled.events == db.session.scalar(select(func.count(ClueEvent.id)))
    events = defaultdict(list)
    for event in db.session.scalars(select(ClueEvent).order_by(ClueEvent.at, ClueEvent.id)):
        events[event.clue_id].append(event)
    clues = list(db.session.scalars(select(Clue).order_by(Clue.id)))
    assert [c.created_at for c in clues] == sorted(c.created_at for c in clues)
    assert NOW - timedelta(days=60) <= clues[0].created_at
    assert clues[-1].created_at <= NOW
    for clue in clues:
        history = events[clue.id]
        assert history[0].kind == "submitted"
        assert history[0].at == clue.created_at
        assert all(e.at <= NOW for e in history)
        moves = [e for e in history if e.to_status is not None]
        assert moves[-1].to_status == clue.status
        for before, after in zip(moves, moves[1:], strict=False):
            assert after.from_status == before.to_status
        kinds = [e.kind for e in history]
        if clue.status in bulk.HANDLED:
            assigned = next(e for e in history if e.kind == "assigned")
            assert assigned.data["to"] == clue.handling_department_code
        if clue.status in ("assigned", "investigating"):
            assert clue.due_at == datetime.fromisoformat(assigned.data["due_at"])
        if clue.status in ("feedback_given", "closed"):
            assert any(e.kind == "feedback" and e.public_message for e in history)
        if clue.status == "closed":
            assert kinds[-2:] == ["rated", "closed"]
            assert clue.closed_at == history[-1].at
            assert clue.satisfaction is not None
        else:
            assert clue.closed_at is None
    statuses = Counter(c.status for c in clues)
    assert statuses["closed"] > statuses["received"] > 0


def test_fill_makes_orders_disputes_and_cases_in_proportion(identity_key):
    filled = bulk.fill(db.session, 1000, keys=intake_keys(), now=NOW, days=60, batch=300,
                       workers=1)
    hotline_clues = {c.id: c for c in db.session.scalars(
        select(Clue).where(Clue.channel == "hotline"))}
    orders = list(db.session.scalars(select(HotlineOrder)))
    assert filled.orders == len(orders) == 2 * len(hotline_clues) > 100
    related = [o for o in orders if o.clue_id is not None]
    assert len(related) == len(hotline_clues)
    assert {o.clue_id for o in related} == set(hotline_clues)
    for order in related:
        clue = hotline_clues[order.clue_id]
        assert order.enforcement_related
        assert order.category_code == clue.category_code
        assert order.content == clue.description
        assert order.received_at <= clue.created_at
    assert all(not o.enforcement_related for o in orders if o.clue_id is None)
    assert len({o.order_no for o in orders}) == len(orders)
    private = keys.unlock_private_key(db.session, identity_key, PASSPHRASE)
    caller = json.loads(envelope.open_sealed(orders[0].caller_sealed, private,
                                             caller_aad(orders[0].order_no)))
    assert caller["phone"].startswith("13")
    disputes = {d.id: d for d in db.session.scalars(select(Dispute))}
    assert filled.disputes == len(disputes) == sum(o.disputed for o in orders)
    for order in (o for o in orders if o.disputed):
        dispute = disputes[order.dispute_id]
        assert dispute.clue_id == order.clue_id
        assert dispute.due_at - dispute.opened_at == timedelta(hours=24)
    cases = db.session.scalar(select(func.count(EnforcementCase.id)))
    assert filled.cases == cases == 500


def test_fill_leaves_the_database_ready_for_use(app, identity_key):
    """Indexes, keys, unique constraints and the search index that a fresh load set
    aside are back (the keys validated), sequences continue after the bulk ids,
    and the roll-ups add up."""
    before = {name: _schema(name) for name in bulk.TABLES}
    bulk.fill(db.session, 600, keys=intake_keys(), now=NOW, days=30, batch=250, workers=1)
    assert {name: _schema(name) for name in bulk.TABLES} == before
    term = db.session.scalar(select(Clue.description).limit(1))[:6]
    found = queue.list_clues(db.session, queue.Filters(text=term), now=NOW)
    assert found.clues
    assert all(term in c.description for c in found.clues)
    submitted = intake.submit(db.session, anonymous_payload(description="冷链仓库被反复检查一事"),
                              channel="app", keys=intake_keys(), now=NOW, actor="test",
                              require_open_campaign=False)
    assert submitted.clue_id == 601
    page = queue.list_clues(db.session, queue.Filters(text="冷链仓库被反复"), now=NOW)
    assert [c.id for c in page.clues] == [601]
    rollup.refresh(db.session, limit=None)
    received = db.session.scalar(select(func.sum(DailyStat.n)).where(
        DailyStat.dimension == "category"))
    assert received == db.session.scalar(select(func.count(Clue.id)).where(
        Clue.status != "merged"))
    incremental = _stats()
    rollup.rebuild(db.session, today=date(2026, 3, 14))
    assert _stats() == incremental


def test_a_pool_of_processes_builds_the_same_clues(app, identity_key, monkeypatch):
    monkeypatch.setattr(bulk, "POOL_FROM", 0)
    bulk.fill(db.session, 900, keys=intake_keys(), now=NOW, days=30, batch=200, workers=2)
    pooled = _made()
    _empty()
    bulk.fill(db.session, 900, keys=intake_keys(), now=NOW, days=30, batch=200, workers=1)
    assert _made() == pooled


def test_rows_are_stored_as_insert_would_store_them(app):
    moment = datetime(2025, 5, 1, 1, 2, 3, 456789, tzinfo=UTC)
    rows = [{"order_no": f"o{i}", "received_at": moment, "content": "内容",
             "district_code": "putuo",
             "hotline_category": None, "dispatched_to": None, "disputed": i < 2,
             "caller_sealed": None, "fingerprint": "f", "source": "api", "created_at": moment,
             "enforcement_related": True, "category_code": None,
             "screening_reasons": ["中文", "a"], "screening_version": "1", "clue_id": None,
             "dispute_id": None, "reviewed_related": None if i < 2 else True}
            for i in range(4)]
    table = Base.metadata.tables["hotline_orders"]
    db.session.execute(insert(table), rows[::2])
    bulk_write.insert_many(db.session, "hotline_orders", rows[1::2])
    stored = db.session.execute(text(
        "SELECT order_no, received_at, disputed, screening_reasons, reviewed_related "
        "FROM hotline_orders ORDER BY order_no")).all()
    assert [row[1:] for row in stored[::2]] == [row[1:] for row in stored[1::2]]
    with pytest.raises(ValueError, match="naive"):
        bulk_write.values(db.session.get_bind().dialect, "hotline_orders",
                          [{**rows[0], "received_at": moment.replace(tzinfo=None)}])


def test_receipt_hasher_is_receipt_hash():
    hash_ = bulk.receipt_hasher("a receipt key of some length")
    assert hash_("ABCD") == receipts.receipt_hash("ABCD", "a receipt key of some length")


def _schema(name):
    inspector = inspect(db.engine)
    # PostgreSQL: the keys a fresh load added back NOT VALID have been validated.
    unchecked = db.session.scalars(text(
        "SELECT conname FROM pg_constraint WHERE NOT convalidated")).all(
    ) if db.engine.dialect.name == "postgresql" else []
    return (sorted(i["name"] for i in inspector.get_indexes(name)),
            sorted(str(k["name"]) for k in inspector.get_foreign_keys(name)),
            sorted(str(u["name"]) for u in inspector.get_unique_constraints(name)),
            unchecked)


def _stats():
    return sorted(db.session.execute(select(
        DailyStat.dimension, DailyStat.day, DailyStat.campaign_id, DailyStat.key,
        DailyStat.n)).all())


def _made():
    return (db.session.execute(select(Clue.id, Clue.tracking_no, Clue.status, Clue.created_at,
                                      Clue.receipt_hash).order_by(Clue.id)).all(),
            db.session.execute(select(ClueEvent.clue_id, ClueEvent.kind, ClueEvent.at)
                               .order_by(ClueEvent.clue_id, ClueEvent.at,
                                         ClueEvent.kind)).all(),
            db.session.execute(select(HotlineOrder.order_no, HotlineOrder.clue_id,
                                      HotlineOrder.dispute_id)
                               .order_by(HotlineOrder.id)).all())


def _empty():
    for name in ("hotline_orders", "disputes", "clue_events", "clue_situations", "clues",
                 "enforcement_cases", "status_counts", "stats_dirty"):
        db.session.execute(delete(Base.metadata.tables[name]))
    db.session.commit()


def test_demo_data_above_two_thousand_fills_in_bulk(runner, identity_key):
    result = runner.invoke(args=["demo-data", "--clues", "2500"])
    assert result.exit_code == 0, result.output
    assert "clues created: 2500" in result.output
    assert "enforcement cases" in result.output
    assert db.session.scalar(select(func.count(EnforcementCase.id))) >= 1250
    assert db.session.scalar(select(func.count(HotlineOrder.id))) > 500
    assert rollup.pending(db.session) == 0
