"""The console's hotline pages: review the screening, settle disputes, import a day's file."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Clue, Dispute, HardDispatchType, HotlineOrder
from tests import hotline_data
from tests.api.test_hotline_api import RELATED, UNRELATED, order
from tests.conftest import bearer
from tests.web.test_admin import signed_in


@pytest.fixture
def reviewer(app):
    app.config["WTF_CSRF_ENABLED"] = False
    yield signed_in(app, "reviewer", name="rev")
    app.config["WTF_CSRF_ENABLED"] = True


def send(client, token, **changes):
    return client.post("/api/v1/hotline/orders", json=order(**changes), headers=bearer(token))


def order_id(number):
    return db.session.scalar(select(HotlineOrder.id).where(HotlineOrder.order_no == number))


def test_the_list_and_an_order_page_show_why(reviewer, client, ready, hotline_token):
    send(client, hotline_token)
    send(client, hotline_token, order_no="12345-20250501-0002", content=UNRELATED)
    page = reviewer.get("/review/hotline").get_data(as_text=True)
    assert "12345-20250501-0001" in page
    assert "12345-20250501-0002" in page
    screened_out = reviewer.get("/review/hotline?view=screened_out").get_data(as_text=True)
    assert "12345-20250501-0002" in screened_out
    assert "12345-20250501-0001" not in screened_out
    detail = reviewer.get(f"/review/hotline/{order_id('12345-20250501-0002')}")
    text = detail.get_data(as_text=True)
    assert "不属于涉企执法问题" in text
    assert "未见企业或经营者" in text or "要求查处" in text
    assert "13957001234" not in text  # the caller stays sealed


def test_a_reviewer_corrects_the_screening_and_a_clue_appears(reviewer, client, ready,
                                                              hotline_token):
    send(client, hotline_token, order_no="12345-20250501-0002", content=UNRELATED)
    target = order_id("12345-20250501-0002")
    response = reviewer.post(f"/review/hotline/{target}/screening",
                             data={"verdict": "related", "category": "other"},
                             follow_redirects=True)
    assert "已保存" in response.get_data(as_text=True)
    stored = db.session.get(HotlineOrder, target)
    db.session.refresh(stored)
    assert (stored.reviewed_related, stored.reviewed_category) == (True, "other")
    clue = db.session.get(Clue, stored.clue_id)
    assert (clue.channel, clue.category_code, clue.real_name) == ("hotline", "other", False)
    state = client.get("/api/v1/hotline/orders/12345-20250501-0002",
                       headers=bearer(hotline_token)).get_json()
    assert state["screening"] == {"enforcement_related": True, "category": "other"}
    assert state["status"] == "received"
    # Related without a category is refused in words.
    refused = reviewer.post(f"/review/hotline/{target}/screening",
                            data={"verdict": "related", "category": ""}, follow_redirects=True)
    assert "请从列表中选择" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "hotline.screening_review")) == 1


def test_mark_disputed_then_settle_and_the_hotline_reads_it(reviewer, client, ready,
                                                           hotline_token):
    send(client, hotline_token)
    target = order_id("12345-20250501-0001")
    reviewer.post(f"/review/hotline/{target}/dispute",
                  data={"departments": ["market", "urban"]})
    dispute = db.session.scalars(select(Dispute)).one()
    assert dispute.departments == ["market", "urban"]
    page = reviewer.get(f"/review/hotline/{target}").get_data(as_text=True)
    assert "前明确承办部门" in page
    reviewer.post(f"/review/hotline/{target}/dispute/settle",
                  data={"department": "urban",
                        "legal_basis": "依据职责清单，占道经营由综合执法负责。"})
    state = client.get("/api/v1/hotline/orders/12345-20250501-0001",
                       headers=bearer(hotline_token)).get_json()
    assert state["dispute"]["department"] == "urban"
    assert state["dispute"]["resolved_at"]


def test_import_a_day_with_a_broken_row(reviewer, ready, tmp_path):
    data = list(hotline_data.rows(30))
    data[3][3] = "火星区"
    path = hotline_data.write_csv(tmp_path / "day.csv", data)
    response = reviewer.post("/review/hotline/import", data={
        "file": (io.BytesIO(path.read_bytes()), "day.csv")},
        content_type="multipart/form-data")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r"导入工单：<strong>29</strong>", text)
    assert "<td>5</td>" in text  # the fourth data row is line 5
    assert "所属区域" in text
    assert db.session.scalar(select(func.count(HotlineOrder.id))) == 29


def test_import_with_a_mapping_and_a_missing_column(reviewer, ready):
    body = "单号,时间,内容,区域\n12345-X-1,2025-05-03 09:00:00,来电人反映路灯不亮。,定海区\n"
    missing = reviewer.post("/review/hotline/import", data={
        "file": (io.BytesIO(body.encode()), "x.csv")}, content_type="multipart/form-data")
    assert "找不到“工单编号”列" in missing.get_data(as_text=True)
    mapped = reviewer.post("/review/hotline/import", data={
        "file": (io.BytesIO(body.encode()), "x.csv"), "map-order_no": "单号",
        "map-received_at": "时间", "map-content": "内容", "map-district": "区域"},
        content_type="multipart/form-data")
    assert re.search(r"导入工单：<strong>1</strong>", mapped.get_data(as_text=True))
    nothing = reviewer.post("/review/hotline/import", data={},
                            content_type="multipart/form-data")
    assert "请选择要导入的文件" in nothing.get_data(as_text=True)


def test_the_hard_to_dispatch_list_shows_on_a_disputed_order(reviewer, client, ready,
                                                            hotline_token):
    reviewer.post("/review/hotline/hard-types", data={
        "title": "海鲜加工厂卫生检查归属", "keywords": "海鲜加工 卫生检查",
        "department": "market",
        "responsibility": "食品生产加工环节卫生由市场监管负责（职责清单第8项）。"})
    assert db.session.scalar(select(func.count(HardDispatchType.id))) == 1
    send(client, hotline_token, disputed=True, content=RELATED)
    page = reviewer.get(f"/review/hotline/{order_id('12345-20250501-0001')}")
    assert "职责清单第8项" in page.get_data(as_text=True)
    refused = reviewer.post("/review/hotline/hard-types", data={"title": "", "keywords": "",
                                                                "department": "market",
                                                                "responsibility": ""})
    assert refused.status_code == 200
    assert db.session.scalar(select(func.count(HardDispatchType.id))) == 1
