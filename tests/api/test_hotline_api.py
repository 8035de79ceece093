"""The 12345 hotline API: idempotent orders, screening, disputes, status back, 回访."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import Base, db
from app.models import Clue, Dispute, HotlineOrder
from app.services import disputes, hotline, keys, people, workflow
from app.timeutil import utcnow
from tests.api.test_openapi_conformance import check
from tests.conftest import bearer

RELATED = ("企业负责人来电反映，其公司经营的海鲜加工厂上月被普陀区某执法中队以卫生检查为名"
           "一个月内检查了四次，每次都要求停工配合，还在未告知陈述申辩权利的情况下罚款两万元，"
           "认为检查过于频繁、罚款过重。")
UNRELATED = "市民来电反映，小区楼下烧烤店夜间噪音扰民，油烟很大，要求相关部门查处。"


def order(**changes):
    body = {"order_no": "12345-20250501-0001", "received_at": "2025-05-01T09:30:00+08:00",
            "content": RELATED, "district": "putuo", "hotline_category": "投诉举报",
            "caller": {"name": "王海明", "phone": "13957001234"}}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def post(client, token, body):
    return client.post("/api/v1/hotline/orders", json=body, headers=bearer(token))


def test_an_enforcement_order_becomes_a_clue_with_the_caller_sealed(client, ready,
                                                                      hotline_token):
    response = post(client, hotline_token, order())
    assert response.status_code == 201
    body = response.get_json()
    assert body["screening"]["enforcement_related"] is True
    assert body["screening"]["category"] in ("inspections", "fines")
    assert body["dispute"] is None
    clue = db.session.scalars(select(Clue).where(Clue.tracking_no == body["clue_tracking_no"])
                              ).one()
    assert (clue.channel, clue.district_code, clue.real_name) == ("hotline", "putuo", True)
    assert clue.identity_sealed
    check(response, "/hotline/orders")
    # The caller is nowhere in the database in the clear.
    for table in ("hotline_orders", "clues"):
        rows = db.session.execute(select(Base.metadata.tables[table]))
        dump = " ".join(str(row) for row in rows)
        assert "13957001234" not in dump
        assert "王海明" not in dump


def test_a_resent_order_is_the_same_record_and_a_changed_one_conflicts(client, ready,
                                                                       hotline_token):
    first = post(client, hotline_token, order())
    again = post(client, hotline_token, order())
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    check(again, "/hotline/orders")
    assert db.session.scalar(select(func.count(HotlineOrder.id))) == 1
    assert db.session.scalar(select(func.count(Clue.id))) == 1
    changed = post(client, hotline_token, order(content=RELATED + "补充：已整改。"))
    assert changed.status_code == 409
    assert changed.get_json()["error"]["code"] == "order_conflict"
    check(changed, "/hotline/orders")
    other_caller = post(client, hotline_token, order(caller={"name": "王海明",
                                                             "phone": "13957009999"}))
    assert other_caller.status_code == 409


def test_an_unrelated_order_is_screened_out_and_kept(client, ready, hotline_token):
    response = post(client, hotline_token, order(order_no="12345-20250501-0002",
                                                  content=UNRELATED))
    body = response.get_json()
    assert response.status_code == 201
    assert body["screening"] == {"enforcement_related": False, "category": None}
    assert body["clue_tracking_no"] is None
    state = client.get("/api/v1/hotline/orders/12345-20250501-0002",
                       headers=bearer(hotline_token))
    assert state.get_json()["status"] == "screened_out"
    check(state, "/hotline/orders/{order_no}", "get")
    stored = db.session.scalars(select(HotlineOrder)).one()
    assert stored.screening_reasons


@pytest.mark.parametrize(("changes", "field"), [
    ({"order_no": None}, "order_no"), ({"order_no": "bad no/1"}, "order_no"),
    ({"received_at": "2025-05-01 09:30"}, "received_at"), ({"content": ""}, "content"),
    ({"content": "x" * 4001}, "content"), ({"district": "mars"}, "district"),
    ({"dispatched_to": "nobody"}, "dispatched_to"), ({"disputed": "yes"}, "disputed"),
    ({"caller": {"name": "王", "phone": "call me"}}, "caller.phone"),
    ({"caller": "王海明"}, "caller"), ({"extra": 1}, "extra"),
])
def test_bad_orders_get_422_with_the_field(client, ready, hotline_token, changes, field):
    response = post(client, hotline_token, order(**changes))
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    check(response, "/hotline/orders")
    assert db.session.scalar(select(func.count(HotlineOrder.id))) == 0


def test_tokens_and_bodies(client, ready, hotline_token, app_token):
    assert post(client, "wrong", order()).status_code == 401
    assert post(client, app_token, order()).status_code == 403
    not_json = client.post("/api/v1/hotline/orders", data="[1]", headers={
        **bearer(hotline_token), "Content-Type": "application/json"})
    assert not_json.status_code == 400
    check(not_json, "/hotline/orders")
    missing = client.get("/api/v1/hotline/orders/none", headers=bearer(hotline_token))
    assert missing.status_code == 404
    check(missing, "/hotline/orders/{order_no}", "get")
    assert client.get("/api/v1/hotline/orders/none", headers=bearer(app_token)
                      ).status_code == 403


def test_a_disputed_order_is_settled_within_24_hours_and_the_hotline_reads_it(
        client, ready, hotline_token):
    before = utcnow()
    response = post(client, hotline_token, order(disputed=True, dispatched_to="market"))
    dispute = response.get_json()["dispute"]
    opened = datetime.fromisoformat(dispute["opened_at"])
    assert before - timedelta(seconds=1) <= opened <= utcnow()
    assert datetime.fromisoformat(dispute["due_at"]) - opened == timedelta(hours=24)
    row = db.session.scalars(select(Dispute)).one()
    reviewer, _ = people.create_user(db.session, username="rev", role="reviewer",
                                     password="a long enough password", actor="test")
    disputes.settle(db.session, row.id, department="tourism",
                    legal_basis="依据《舟山市涉旅行政执法职责清单》第12项，民宿卫生由文旅部门牵头。",
                    actor="user:rev", now=row.opened_at + timedelta(hours=20))
    state = client.get("/api/v1/hotline/orders/12345-20250501-0001",
                       headers=bearer(hotline_token))
    assert state.status_code == 200
    body = state.get_json()
    assert body["dispute"]["department"] == "tourism"
    assert body["dispute"]["resolved_at"] is not None
    assert body["dispute"]["overdue"] is False
    check(state, "/hotline/orders/{order_no}", "get")


def test_the_dispute_clock_with_a_frozen_clock(app, ready):
    now = datetime(2025, 5, 1, 1, 30, tzinfo=UTC)
    public = keys.active_public_key(db.session)
    created, is_new = hotline.receive(db.session, order(disputed=True), public_key=public,
                                      receipt_key=app.config["JIDU_RECEIPT_KEY"], now=now,
                                      actor="api:test")
    assert is_new
    dispute = db.session.get(Dispute, created.dispute_id)
    assert dispute.due_at == now + timedelta(hours=24)
    assert not dispute.overdue(now + timedelta(hours=23, minutes=59))
    assert dispute.overdue(now + timedelta(hours=24, seconds=1))
    disputes.settle(db.session, dispute.id, department="urban", legal_basis="职责清单第3项",
                    actor="user:rev", now=now + timedelta(hours=25))
    assert dispute.settled_in_time() is False


def test_status_back_and_the_hotline_callback_counts_as_the_answer(client, ready,
                                                                  hotline_token):
    body = post(client, hotline_token, order()).get_json()
    clue = db.session.scalars(select(Clue).where(Clue.tracking_no == body["clue_tracking_no"])
                              ).one()
    early = client.post("/api/v1/hotline/orders/12345-20250501-0001/callback",
                        json={"satisfaction": "satisfied"}, headers=bearer(hotline_token))
    assert early.status_code == 409
    check(early, "/hotline/orders/{order_no}/callback")
    reviewer, _ = people.create_user(db.session, username="rev", role="reviewer",
                                     password="a long enough password", actor="test")
    now = utcnow()
    workflow.start_triage(db.session, clue.id, actor=reviewer, now=now)
    workflow.accept(db.session, clue.id, actor=reviewer, now=now)
    workflow.assign(db.session, clue.id, department="market", due_at=now + timedelta(days=3),
                    reason="", actor=reviewer, now=now)
    workflow.start_investigation(db.session, clue.id, actor=reviewer, now=now)
    workflow.conclude(db.session, clue.id, outcome="partly", summary="检查频次过高属实",
                      actor=reviewer, now=now)
    workflow.give_feedback(db.session, clue.id, message="经核查，已督促该中队合并检查事项。",
                           actor=reviewer, now=now)
    state = client.get("/api/v1/hotline/orders/12345-20250501-0001",
                       headers=bearer(hotline_token)).get_json()
    assert (state["status"], state["conclusion"], state["handling_department"]) == (
        "feedback_given", "partly", "market")
    assert [f["message"] for f in state["feedback"]] == ["经核查，已督促该中队合并检查事项。"]
    rated = client.post("/api/v1/hotline/orders/12345-20250501-0001/callback",
                        json={"satisfaction": "unsatisfied"}, headers=bearer(hotline_token))
    assert rated.status_code == 200
    check(rated, "/hotline/orders/{order_no}/callback")
    db.session.expire_all()
    clue = db.session.get(Clue, clue.id)
    assert (clue.satisfaction, clue.first_satisfaction) == ("unsatisfied", "unsatisfied")
    again = client.post("/api/v1/hotline/orders/12345-20250501-0001/callback",
                        json={"satisfaction": "satisfied"}, headers=bearer(hotline_token))
    assert again.status_code == 409
    bad = client.post("/api/v1/hotline/orders/12345-20250501-0001/callback",
                      json={"satisfaction": "great"}, headers=bearer(hotline_token))
    assert bad.status_code == 422
    check(bad, "/hotline/orders/{order_no}/callback")
