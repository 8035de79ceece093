"""The public pages through the test client: form, receipt, status, QR codes, poster."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import func, select

from app.extensions import db
from app.models import Clue, SourceTag
from app.services import campaigns
from app.timeutil import utcnow

FORM = {
    "ex_discipline": "no", "ex_petition": "no", "ex_reconsideration": "no",
    "ex_litigation": "no", "category": "fines", "situations": ["fines_discretion"],
    "agency": "普陀区某某局执法大队", "department": "", "district": "putuo",
    "occurred_on": "2025-05-01", "description": "首次轻微违法已当场改正，仍被按最高档罚款。",
    "amount_yuan": "5000", "real_name": "yes", "confidential": "y", "name": "林晓梅",
    "phone": "138 5700 1234", "email": "", "company": "舟山海韵民宿",
    "credit_code": "91350100M000100Y43", "pledge": "y", "notify_email": "", "website": "",
}


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def nonce(page: str) -> str:
    return re.search(r'name="nonce" value="([^"]*)"', page).group(1)


def receipt_on(page: str) -> str:
    """The receipt as the reporter reads it on the result page (groups joined)."""
    shown = re.search(r'id="receipt-code">(.*?)</p>', page).group(1)
    return re.sub(r"<[^>]+>", "", shown)


def post_form(client, url="/report", **changes):
    page = client.get(url).get_data(as_text=True)
    data = {**FORM, **changes, "csrf_token": csrf(page), "nonce": nonce(page)}
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(url, data=data)


def clue_count():
    return db.session.scalar(select(func.count(Clue.id)))


class Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and "src" not in attrs:
            self.problems.append("inline script")
        if "style" in attrs:
            self.problems.append(f"inline style on <{tag}>")
        if any(value == "None" for value in attrs.values()):
            self.problems.append(f"attribute printed as None on <{tag}>")
        if any(name.startswith("on") for name in attrs):
            self.problems.append(f"event handler on <{tag}>")
        for name in ("src", "href", "action"):
            value = attrs.get(name) or ""
            if value.startswith(("http://", "https://", "//")):
                self.problems.append(f"off-host {name}={value}")


def test_form_shows_exclusions_first_then_every_category_and_situation(client, ready):
    page = client.get("/report").get_data(as_text=True)
    assert page.index("纪检监察机关") < page.index("乱收费")
    for name in ["乱收费", "乱罚款", "乱检查", "乱查封", "违规异地执法", "趋利性执法", "执法质效",
                 "其他执法规范问题"]:
        assert name in page
    assert page.count('name="situations"') == 31
    assert 'lang="zh-CN"' in page


def test_english(client, ready):
    page = client.get("/report?lang=en").get_data(as_text=True)
    assert 'lang="en"' in page
    assert "Arbitrary fines" in page
    assert "discipline inspection" in page


@pytest.mark.parametrize("url", ["/", "/report", "/q/hall-putuo", "/status", "/poster",
                                 "/report/done", "/review/login", "/report?lang=en"])
def test_pages_are_self_contained(client, ready, url):
    response = client.get(url)
    assert response.status_code == 200
    collector = Collector()
    collector.feed(response.get_data(as_text=True))
    assert collector.problems == []
    assert "'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_real_name_submission_receipt_once_and_status(client, ready):
    response = post_form(client)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    receipt = receipt_on(page)
    tracking = db.session.scalar(select(Clue.tracking_no))
    assert tracking in page
    assert "林晓梅" not in page
    again = client.get("/report/done").get_data(as_text=True)
    assert receipt not in again
    assert "只显示一次" in again
    status_page = client.get("/status").get_data(as_text=True)
    looked = client.post("/status", data={"csrf_token": csrf(status_page),
                                          "receipt": receipt.lower().replace("-", " ")})
    text = looked.get_data(as_text=True)
    assert tracking in text
    assert "已收到" in text
    clue = db.session.scalar(select(Clue))
    assert (clue.channel, clue.real_name, clue.amount_fen) == ("web", True, 500000)
    assert "林晓梅" not in clue.identity_sealed


def test_wrong_and_unknown_receipts_get_the_same_message(client, ready):
    page = client.get("/status").get_data(as_text=True)
    token = csrf(page)
    wrong = client.post("/status", data={"csrf_token": token, "receipt": "ABCD-EFGH"})
    unknown = client.post("/status", data={"csrf_token": token,
                                           "receipt": "0000-0000-0000-0000-0000"})
    assert "没有找到" in wrong.get_data(as_text=True)
    assert "没有找到" in unknown.get_data(as_text=True)


def test_anonymous_submission_stores_no_identity(client, ready):
    response = post_form(client, real_name="no", name="", phone="", company="",
                         credit_code="")
    assert response.status_code == 302
    clue = db.session.scalar(select(Clue))
    assert clue.real_name is False
    assert clue.identity_sealed is None


@pytest.mark.parametrize(("changes", "message"), [
    ({"phone": "12345"}, "请填写11位中国大陆手机号码"),
    ({"credit_code": "91350100M000100Y44"}, "统一社会信用代码应为18位"),
    ({"pledge": None}, "请确认如实反映的承诺"),
    ({"occurred_on": "2999-01-01"}, "日期不能晚于今天"),
    ({"description": "长" * 4001}, "4000"),
    ({"category": None}, "请选择问题类别"),
    ({"name": ""}, "实名反映请填写姓名"),
    ({"amount_yuan": "-5"}, "请填写不小于0"),
])
def test_errors_keep_every_typed_value(client, ready, changes, message):
    response = post_form(client, **changes)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert 'aria-invalid="true"' in page or "请确认如实反映的承诺" in page or "请选择" in page
    kept = FormState.read(page)
    sent = {**FORM, **changes}
    for name, value in sent.items():
        if value is None or name in ("website", "csrf_token"):
            continue
        expected = value if isinstance(value, list) else [value]
        if name in ("confidential", "pledge"):
            assert kept.get(name) == ["y"], name
        elif value != "":
            assert kept.get(name) == expected, name
    assert clue_count() == 0


class FormState(HTMLParser):
    """What a browser would send back from a rendered form: the values kept."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, list[str]] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    @classmethod
    def read(cls, page: str) -> dict[str, list[str]]:
        parser = cls()
        parser.feed(page)
        return parser.values

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("radio", "checkbox"):
                if "checked" in attrs:
                    self.values.setdefault(name, []).append(attrs.get("value") or "")
            elif attrs.get("value"):
                self.values.setdefault(name, []).append(attrs["value"])
        elif tag == "textarea":
            self._textarea = name
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs and attrs.get("value"):
            self.values.setdefault(self._select, []).append(attrs["value"])

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea and data.strip():
            # Browsers drop the newline that follows <textarea>, as WTForms expects.
            self.values.setdefault(self._textarea, []).append(data.removeprefix("\r\n"))


def test_expired_csrf_keeps_the_input(client, ready):
    client.get("/report")
    data = {**FORM, "csrf_token": "stale"}
    page = client.post("/report", data=data).get_data(as_text=True)
    assert "再点一次" in page
    assert "普陀区某某局执法大队" in page
    assert clue_count() == 0


def test_exclusion_yes_explains_and_stores_nothing(client, ready):
    response = post_form(client, ex_petition="yes")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "不属于本次征集范围" in page
    assert "信访部门" in page
    assert clue_count() == 0


def test_closed_campaign_shows_dates_and_stores_nothing(client, identity_key):
    now = utcnow()
    campaigns.create_campaign(db.session, slug="past", title="往期征集", actor="t",
                              opens_at=now - timedelta(days=30), deadline=now - timedelta(days=1))
    response = client.get("/report")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "不在受理期" in page
    assert "受理时间：" in page
    assert 'name="agency"' not in page
    assert client.post("/report", data=FORM).status_code == 403
    assert clue_count() == 0


def test_honeypot_stores_nothing(client, ready):
    page = post_form(client, website="http://spam.example").get_data(as_text=True)
    assert "提交未成功" in page
    assert clue_count() == 0


def test_double_submit_makes_one_clue(client, ready):
    page = client.get("/report").get_data(as_text=True)
    data = {**FORM, "csrf_token": csrf(page), "nonce": nonce(page)}
    first = client.post("/report", data=data)
    second = client.post("/report", data=data)
    assert first.status_code == second.status_code == 302
    assert clue_count() == 1


def test_qr_tags(client, ready):
    db.session.add(SourceTag(tag="hall-putuo", label="普陀区行政服务中心"))
    db.session.commit()
    assert post_form(client, url="/q/hall-putuo").status_code == 302
    assert post_form(client, url="/q/no-such-hall").status_code == 302
    rows = db.session.execute(select(Clue.channel, Clue.source_tag).order_by(Clue.id)).all()
    assert [tuple(r) for r in rows] == [("qr", "hall-putuo"), ("qr", "unknown")]


def decode(png: bytes) -> str:
    return zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))[0].text


def test_qr_codes_decode_to_the_form(client, app):
    base = app.config["JIDU_BASE_URL"]
    assert decode(client.get("/qr.png").data) == f"{base}/report"
    response = client.get("/qr.png?tag=hall-putuo")
    assert response.mimetype == "image/png"
    assert decode(response.data) == f"{base}/q/hall-putuo"
    svg = client.get("/qr.svg?tag=hall-putuo")
    assert svg.mimetype == "image/svg+xml"
    assert b"<svg" in svg.data
    assert client.get("/qr.png?tag=Bad Tag!").status_code == 404


def test_poster(client, ready):
    page = client.get("/poster?tag=hall-putuo").get_data(as_text=True)
    assert "/qr.svg?tag=hall-putuo" in page
    assert "0580-12345" in page
    assert "舟山市涉企行政执法监督码" in page


def test_session_limit_stops_flooding_with_a_friendly_page(client, ready, app, monkeypatch):
    monkeypatch.setitem(app.config, "JIDU_LIMIT_SUBMIT_SESSION", "2 per hour")
    statuses = [post_form(client).status_code for _ in range(3)]
    assert statuses[:2] == [302, 302]
    assert statuses[2] == 429
    assert clue_count() == 2


def test_thirty_people_behind_one_address_all_get_through(app, ready):
    statuses = []
    for _ in range(30):
        person = app.test_client()
        statuses.append(post_form(person).status_code)
    assert statuses == [302] * 30
    assert clue_count() == 30


def test_index_shows_notice_deadline_as_last_day(client, app):
    from app.services.demo import ensure_campaigns
    ensure_campaigns(db.session, utcnow())
    db.session.execute(db.delete(db.metadata.tables["campaigns"]).where(
        db.metadata.tables["campaigns"].c.slug == "demo-open"))
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "2025年9月30日" in page
    assert "已于" in page


def test_reporter_answers_a_question_and_rates_at_status(client, ready):
    from app.services import people, workflow
    response = post_form(client)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    receipt = receipt_on(page)
    clue = db.session.scalar(select(Clue))
    reviewer = people.create_user(db.session, username="rv", role="reviewer",
                                  password="a long enough password", actor="t")[0]
    workflow.ask_reporter(db.session, clue.id, question="请补充罚款决定书编号。",
                          actor=reviewer, now=utcnow())

    def look_up():
        token = csrf(client.get("/status").get_data(as_text=True))
        return client.post("/status", data={"csrf_token": token, "receipt": receipt}
                           ).get_data(as_text=True)

    shown = look_up()
    assert "请补充罚款决定书编号。" in shown
    answered = client.post("/status/reply", data={"csrf_token": csrf(shown),
                                                  "reply": "舟普市监罚〔2025〕12号"})
    assert "补充内容已提交" in answered.get_data(as_text=True)
    kinds = [e.kind for e in db.session.get(Clue, clue.id).events]
    assert kinds[-1] == "reporter_reply"
    for step in (workflow.start_triage, workflow.accept):
        step(db.session, clue.id, actor=reviewer, now=utcnow())
    workflow.assign(db.session, clue.id, department="market", due_at=utcnow() + timedelta(1),
                    reason="", actor=reviewer, now=utcnow())
    workflow.start_investigation(db.session, clue.id, actor=reviewer, now=utcnow())
    workflow.conclude(db.session, clue.id, outcome="substantiated", summary="属实",
                      actor=reviewer, now=utcnow())
    workflow.give_feedback(db.session, clue.id, message="已责令退还。", actor=reviewer,
                           now=utcnow())
    shown = look_up()
    assert "您对办理结果是否满意" in shown
    rated = client.post("/status/rate", data={"csrf_token": csrf(shown), "rating": "satisfied"})
    assert "感谢您的评价" in rated.get_data(as_text=True)
    again = client.post("/status/rate", data={"csrf_token": csrf(shown), "rating": "unsatisfied"})
    assert "已评价过" in again.get_data(as_text=True)
    db.session.refresh(clue)
    assert (clue.first_satisfaction, clue.satisfaction) == ("satisfied", "satisfied")


def test_status_actions_need_a_fresh_lookup(client, ready):
    token = csrf(client.get("/status").get_data(as_text=True))
    response = client.post("/status/rate", data={"csrf_token": token, "rating": "satisfied"})
    assert "查询已过期" in response.get_data(as_text=True)
