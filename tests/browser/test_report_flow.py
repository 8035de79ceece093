"""A phone (390×844) in Debian's Chromium: report in Chinese, keep the receipt, look it up."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Clue

pytestmark = [pytest.mark.browser,
              pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def off_host(requests: list[str], base: str) -> list[str]:
    host = urlparse(base).netloc
    return [url for url in requests
            if not url.startswith(("data:", "blob:")) and urlparse(url).netloc != host]


def fill_report(page, *, real_name: bool) -> None:
    for code in ("discipline", "petition", "reconsideration", "litigation"):
        page.check(f"#ex_{code}-0")
    page.get_by_label("乱罚款").check()
    page.get_by_label("类案不同罚、过罚不相当、畸轻畸重").check()
    page.get_by_label("被反映的执法单位").fill("普陀区某某局执法大队")
    page.get_by_label("发生地区").select_option("putuo")
    page.get_by_label("发生了什么").fill("同样的问题，邻店罚两百，我店被罚五千。")
    page.get_by_label("涉及金额（元，可不填）").fill("5000")
    if real_name:
        page.get_by_label("实名反映（提倡）").check()
        page.get_by_label("姓名").fill("林晓梅")
        page.get_by_label("手机号码").fill("13857001234")
    else:
        page.get_by_label("匿名反映").check()
    page.locator("#pledge").check()


def test_report_on_a_phone_and_look_it_up(phone, live_server):
    page = phone
    page.goto(f"{live_server}/report")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    # JavaScript hides the identity fields until real-name is chosen.
    assert not page.get_by_label("姓名").is_visible()
    fill_report(page, real_name=True)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-form.png"), full_page=True)
    page.get_by_role("button", name="提交").click()
    page.wait_for_url(re.compile(r"/report/done$"))
    receipt = page.locator("#receipt-code").inner_text().strip()
    tracking = page.locator(".receipt dd.mono").first.inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){4}", receipt)
    page.screenshot(path=str(ARTIFACTS / "report-done.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_role("button", name="保存为图片").click()
    assert download.value.suggested_filename == f"jidu-{tracking}.png"

    page.goto(f"{live_server}/status")
    page.get_by_label("回执码").fill(receipt.lower().replace("-", " "))
    page.get_by_role("button", name="查询").click()
    assert page.locator(".status-label").inner_text() == "已收到"
    assert tracking in page.content()
    assert off_host(page.requests, live_server) == []
    clue = db.session.scalar(select(Clue))
    assert clue.tracking_no == tracking
    assert clue.identity_sealed is not None


def test_exclusion_yes_stops_the_form_at_once(phone, live_server):
    page = phone
    page.goto(f"{live_server}/report")
    page.check("#ex_petition-1")
    assert page.locator("#excluded-box").is_visible()
    assert page.get_by_text("请向受理的信访部门了解办理情况。").is_visible()
    assert not page.get_by_label("被反映的执法单位").is_visible()
    page.check("#ex_petition-0")
    assert page.get_by_label("被反映的执法单位").is_visible()


def test_only_the_chosen_categorys_situations_show(phone, live_server):
    page = phone
    page.goto(f"{live_server}/report")
    assert not page.get_by_label("违规设立收费项目").is_visible()
    page.get_by_label("乱收费").check()
    assert page.get_by_label("违规设立收费项目").is_visible()
    assert not page.get_by_label("超出法定权限或范围进行罚款").is_visible()


def test_validation_error_keeps_input_in_the_browser(phone, live_server):
    page = phone
    page.goto(f"{live_server}/report")
    fill_report(page, real_name=True)
    page.get_by_label("手机号码").fill("12345")
    page.get_by_role("button", name="提交").click()
    page.wait_for_load_state()
    assert page.get_by_text("请填写11位中国大陆手机号码。").first.is_visible()
    assert page.get_by_label("被反映的执法单位").input_value() == "普陀区某某局执法大队"
    assert page.get_by_label("姓名").input_value() == "林晓梅"
    assert db.session.scalar(select(Clue)) is None


def test_form_works_without_javascript(browser, live_server):
    context = browser.new_context(viewport={"width": 390, "height": 844},
                                  java_script_enabled=False, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(f"{live_server}/report")
        fill_report(page, real_name=False)
        page.get_by_role("button", name="提交").click()
        page.wait_for_url(re.compile(r"/report/done$"))
        assert re.fullmatch(r"[0-9A-Z-]{24}", page.locator("#receipt-code").inner_text().strip())
    finally:
        context.close()
