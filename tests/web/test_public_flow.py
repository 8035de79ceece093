"""More of the public intake as a reporter meets it: the notice, the edges of the form,
the receipt page, the look-up."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Clue
from app.services import campaigns
from app.timeutil import utcnow
from tests.web.test_public import FORM, clue_count, csrf, nonce, post_form, receipt_on


def receipt_from(client, response) -> str:
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    return receipt_on(page)


def test_no_campaign_is_a_polite_page(client, app):
    response = client.get("/")
    assert response.status_code == 200
    assert "目前没有征集活动" in response.get_data(as_text=True)


def test_open_notice_has_the_window_and_both_buttons(client, ready):
    page = client.get("/").get_data(as_text=True)
    assert "测试征集" in page
    assert "正在受理，截止" in page
    assert 'href="/report"' in page
    assert 'href="/status"' in page
    assert "我要反映" in page
    assert "查询办理进度" in page


def test_notice_paragraphs(client, identity_key):
    now = utcnow()
    campaigns.create_campaign(db.session, slug="n", title="征集", actor="t",
                              opens_at=now - timedelta(days=1), deadline=now + timedelta(days=9),
                              notice="关于征集的公告\n\n一、征集范围\n\n(一)乱收费问题。")
    page = client.get("/").get_data(as_text=True)
    assert "<h2>关于征集的公告</h2>" in page
    assert "<p>(一)乱收费问题。</p>" in page


def test_exclusion_yes_wins_even_with_the_rest_empty(client, ready):
    page = client.get("/report").get_data(as_text=True)
    response = client.post("/report", data={
        "csrf_token": csrf(page), "nonce": nonce(page), "ex_discipline": "yes",
        "ex_petition": "no", "ex_reconsideration": "no", "ex_litigation": "no"})
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "不属于本次征集范围" in text
    assert "纪检监察" in text
    assert "请填写被反映的执法单位" not in text
    assert clue_count() == 0


def test_exclusion_questions_are_required(client, ready):
    page = post_form(client, ex_litigation=None).get_data(as_text=True)
    assert "请选择是或否" in page
    assert clue_count() == 0


def test_anonymous_report_ignores_identity_typed_before_switching(client, ready):
    response = post_form(client, real_name="no", phone="12345", credit_code="bad")
    assert response.status_code == 302
    clue = db.session.scalar(select(Clue))
    assert (clue.real_name, clue.identity_sealed) == (False, None)


def test_real_name_without_an_identity_key_keeps_the_input(client, open_campaign):
    page = post_form(client).get_data(as_text=True)
    assert "系统暂时无法受理实名线索" in page
    assert "普陀区某某局执法大队" in page
    assert "林晓梅" in page
    assert clue_count() == 0
    assert post_form(client, real_name="no").status_code == 302


def test_notify_email_is_kept_sealed_and_apart(client, ready):
    response = post_form(client, notify="y", notify_email="lin@example.com")
    assert response.status_code == 302
    clue = db.session.scalar(select(Clue))
    assert clue.notify_email_sealed
    assert "lin@example.com" not in clue.notify_email_sealed
    assert "lin@example.com" not in (clue.identity_sealed or "")


def test_notify_ticked_without_address_asks_for_it(client, ready):
    page = post_form(client, notify="y", notify_email="").get_data(as_text=True)
    assert "请填写提醒邮箱" in page
    assert clue_count() == 0


def test_receipt_page_is_never_cached_and_holds_no_identity(client, ready):
    response = post_form(client)
    done = client.get(response.headers["Location"])
    assert done.headers["Cache-Control"] == "no-store"
    page = done.get_data(as_text=True)
    for secret in ("林晓梅", "13857001234", "舟山海韵民宿", "91350100M000100Y43"):
        assert secret not in page
    assert "乱罚款" in page
    assert "保存为图片" in page
    assert "js/done.js" in page


def test_repeated_post_after_success_shows_the_result_link(client, ready):
    page = client.get("/report").get_data(as_text=True)
    data = {**FORM, "csrf_token": csrf(page), "nonce": nonce(page)}
    client.post("/report", data=data)
    client.get("/report/done")
    again = client.post("/report", data=data, follow_redirects=True).get_data(as_text=True)
    assert "回执码只显示一次" in again
    assert 'href="/status"' in again
    assert clue_count() == 1


def test_status_feedback_and_no_internal_detail(client, ready):
    from app.models import Department
    receipt = receipt_from(client, post_form(client))
    clue = db.session.scalar(select(Clue))
    department = db.session.scalar(select(Department).where(Department.code == "market"))
    clue.handling_department_code = "market"
    db.session.commit()
    page = client.get("/status").get_data(as_text=True)
    text = client.post("/status", data={"csrf_token": csrf(page),
                                        "receipt": receipt}).get_data(as_text=True)
    assert clue.tracking_no in text
    assert department.name not in text
    assert "暂无反馈" in text


def test_status_with_a_stale_token_keeps_the_receipt(client, ready):
    client.get("/status")
    page = client.post("/status", data={"csrf_token": "stale",
                                        "receipt": "ABCD-EFGH-JKMN-PQRS-TVWX"}).get_data(
        as_text=True)
    assert "ABCD-EFGH-JKMN-PQRS-TVWX" in page
    assert "再点一次" in page
    assert "没有找到" not in page


def test_lookup_limit_per_session(client, ready, app, monkeypatch):
    monkeypatch.setitem(app.config, "JIDU_LIMIT_LOOKUP_SESSION", "2 per hour")
    page = client.get("/status").get_data(as_text=True)
    codes = [client.post("/status", data={"csrf_token": csrf(page),
                                          "receipt": f"ABCD-EFGH-JKMN-PQRS-TVW{i}"}
                         ).status_code for i in range(3)]
    assert codes == [200, 200, 429]
    limited = client.post("/status", data={"csrf_token": csrf(page),
                                           "receipt": "ABCD-EFGH-JKMN-PQRS-TVWX"})
    assert limited.status_code == 429
    assert "查询过于频繁" in limited.get_data(as_text=True)
    assert "ABCD-EFGH-JKMN-PQRS-TVWX" in limited.get_data(as_text=True)


def test_too_many_requests_page_is_chinese_and_self_contained(client, ready, app, monkeypatch):
    monkeypatch.setitem(app.config, "JIDU_LIMIT_SUBMIT_SESSION", "1 per hour")
    post_form(client)
    response = post_form(client)
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "操作过于频繁" in page
    assert "<script>" not in page
    # The form comes back with what was typed, and nothing more is stored.
    assert "普陀区某某局执法大队" in page
    assert 'value="13857001234"' in page or 'value="138 5700 1234"' in page
    assert clue_count() == 1


def test_error_page_reveals_nothing(client, app):
    response = client.get("/no-such-page")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "页面不存在" in page
    assert "Traceback" not in page
    assert "werkzeug" not in page.lower()
