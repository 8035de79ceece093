"""The console's 执法案件 page and the clue page's box of the agency's cases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyotp
import pytest

from app.context import intake_keys
from app.extensions import db
from app.models import Channel, Clue
from app.services import cases, intake, people
from app.timeutil import utcnow
from tests.factories import anonymous_payload

PASSWORD = "a long enough password"
DATA = Path(__file__).resolve().parents[1] / "data"
SECRET_TEXT = "沈家门所执法人员暗示要送海鲜才能通过检查"


@pytest.fixture(autouse=True)
def csrf_off(app):
    # Sign-in by form post; these pages are GET only.
    app.config["WTF_CSRF_ENABLED"] = False
    yield
    app.config["WTF_CSRF_ENABLED"] = True


def signed_in(app, role, department=None):
    _user, secret = people.create_user(db.session, username=f"u-{role}", role=role,
                                       password=PASSWORD, department=department, actor="test")
    client = app.test_client()
    client.post("/review/login", data={"username": f"u-{role}", "password": PASSWORD,
                                       "otp": pyotp.TOTP(secret).now()})
    return client


@pytest.fixture
def sample(ready):
    cases.import_file(db.session, DATA / "cases_sample.csv",
                      now=datetime(2025, 10, 1, tzinfo=UTC), actor="test")
    made = intake.submit(
        db.session, anonymous_payload(agency="普陀区市场监督管理局沈家门所", district="putuo",
                                      description=SECRET_TEXT),
        channel=Channel.WEB, keys=intake_keys(), now=utcnow(), actor="reporter")
    clue = db.session.query(Clue).filter_by(tracking_no=made.tracking_no).one()
    # As if it had come in on 3 May 2025, in the 五一 holiday.
    clue.created_at = datetime(2025, 5, 3, 2, 0, tzinfo=UTC)
    db.session.commit()
    return clue


@pytest.mark.parametrize("role", ["reviewer", "supervisor", "analyst"])
def test_the_month_table_shows_numbers_never_clue_text(app, sample, role):
    response = signed_in(app, role).get("/review/cases?month=2025-05")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "执法案件与投诉" in page
    assert "2025-05-01 — 2025-05-31" in page
    assert "普陀区市场监督管理局沈家门所" in page
    assert "市场监督管理局" in page
    assert SECRET_TEXT not in page
    assert sample.tracking_no not in page
    assert "已导入执法案件 80 件，最近决定日期 2025-09-30" in page


def test_the_cases_held_are_counted_up_to_a_cap(app, sample, monkeypatch):
    monkeypatch.setattr("app.web.review.cases.STORED_CAP", 50)
    page = signed_in(app, "analyst").get("/review/cases?month=2025-05").get_data(as_text=True)
    assert "已导入执法案件逾 50 件，最近决定日期 2025-09-30" in page


def test_the_table_by_domain_and_a_custom_period(app, sample):
    client = signed_in(app, "reviewer")
    page = client.get("/review/cases?from=2025-05-01&to=2025-05-10&group=domain").get_data(
        as_text=True)
    assert "2025-05-01 — 2025-05-10" in page
    assert "按执法领域" in page
    assert "旅游市场" in page
    assert "食品安全" in page


@pytest.mark.parametrize(("query", "message"), [
    ("month=2025-13", "月份格式不正确"),
    ("from=2025-06-01&to=2025-05-01", "起止日期不合理"),
    ("from=yesterday&to=today", "起止日期格式不正确"),
    ("group=everything&month=1999-01", "所选期间没有执法案件"),
])
def test_bad_periods_fall_back_with_a_message(app, sample, query, message):
    response = signed_in(app, "analyst").get(f"/review/cases?{query}")
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["liaison", "admin"])
def test_liaisons_and_admins_may_not_open_it(app, sample, role):
    client = signed_in(app, role, department="market" if role == "liaison" else None)
    assert client.get("/review/cases").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(app):
    response = app.test_client().get("/review/cases")
    assert response.status_code == 302
    assert "/review/login" in response.headers["Location"]


def test_the_clue_page_shows_the_agency_cases_box(app, sample):
    page = signed_in(app, "reviewer").get(f"/review/clues/{sample.id}").get_data(as_text=True)
    assert "该执法主体同期执法案件" in page
    assert "2025-02-02 至 2025-05-03" in page
    # 沈家门所 in the 90 days up to 3 May: inspections on 14 Jan (out), 17 Mar and 3 May;
    # penalties 9 Jan (out); compulsory 22 Jan (out).
    box = page.split('id="enforcement-cases"')[1].split("</section>")[0]
    row = '<th scope="row">普陀区市场监督管理局沈家门所</th>'
    assert row + "<td>2</td><td>0</td><td>0</td><td>2</td>" in box


def test_the_nav_links_to_the_page_for_analysts(app):
    page = signed_in(app, "analyst").get("/review/cases").get_data(as_text=True)
    assert 'href="/review/cases"' in page
