"""The console in Chromium: sign in with TOTP, triage a clue to closure; a liaison's scope."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from app.context import intake_keys
from app.extensions import db
from app.models import Channel, Clue
from app.services import intake, people
from app.timeutil import local_today, utcnow
from tests.factories import anonymous_payload

pytestmark = [pytest.mark.browser,
              pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]
PASSWORD = "a long enough password"


def desk(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


def sign_in(page, base, name, secret):
    page.goto(f"{base}/review/login")
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("动态验证码（6位）").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="登录").click()


def test_reviewer_triages_a_clue_to_closure(browser, live_server):
    submitted = intake.submit(db.session, anonymous_payload(), channel=Channel.WEB,
                              keys=intake_keys(), now=utcnow(), actor="reporter")
    _user, secret = people.create_user(db.session, username="rv", role="reviewer",
                                       password=PASSWORD, actor="test")
    context, page = desk(browser)
    try:
        sign_in(page, live_server, "rv", secret)
        page.wait_for_url(re.compile(r"/review/$"))
        page.get_by_role("link", name=submitted.tracking_no).click()
        page.get_by_role("button", name="开始研判").click()
        page.get_by_label("红色（紧急）").check()
        page.locator("#reason").first.fill("涉旅旺季，金额较大")
        page.get_by_role("button", name="确定颜色").click()
        page.get_by_role("button", name="受理", exact=True).click()
        page.locator("select#department").select_option("tourism")
        page.locator("input#due_on").fill((local_today() + timedelta(days=3)).isoformat())
        page.get_by_role("button", name="交办", exact=True).click()
        page.get_by_role("button", name="开始核查").click()
        page.locator("select#outcome").select_option("substantiated")
        page.locator("textarea#summary").fill("属实，已责令退还费用")
        page.get_by_role("button", name="办结", exact=True).click()
        page.locator("textarea#message").fill("经核查属实，已责令退还。")
        page.get_by_role("button", name="发送反馈").click()
        page.get_by_role("button", name="结案").click()
        assert page.locator(".facts .status").inner_text() == "已结案"
    finally:
        context.close()
    clue = db.session.scalar(select(Clue))
    db.session.refresh(clue)
    assert (clue.status, clue.colour, clue.handling_department_code) == ("closed", "red",
                                                                          "tourism")


def test_liaison_cannot_open_another_departments_clue(browser, live_server):
    submitted = intake.submit(db.session, anonymous_payload(), channel=Channel.WEB,
                              keys=intake_keys(), now=utcnow(), actor="reporter")
    clue = db.session.get(Clue, submitted.clue_id)
    clue.handling_department_code, clue.status = "tourism", "assigned"
    db.session.commit()
    _user, secret = people.create_user(db.session, username="li", role="liaison",
                                       department="market", password=PASSWORD, actor="test")
    context, page = desk(browser)
    try:
        sign_in(page, live_server, "li", secret)
        page.wait_for_url(re.compile(r"/review/$"))
        assert submitted.tracking_no not in page.content()
        response = page.goto(f"{live_server}/review/clues/{submitted.clue_id}")
        assert response.status == 404
    finally:
        context.close()
