"""The dashboard in Chromium: every chart drawn, nothing fetched off the host, no console error."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.context import intake_keys
from app.extensions import db
from app.services import bulk, people
from app.timeutil import utcnow
from tests.browser.test_console_flow import PASSWORD, desk, sign_in
from tests.browser.test_report_flow import off_host

pytestmark = [pytest.mark.browser,
              pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_dashboard_draws_every_chart_from_this_host(browser, live_server):
    bulk.bulk_clues(db.session, 3000, keys=intake_keys(), now=utcnow(), days=45)
    _user, secret = people.create_user(db.session, username="boss", role="supervisor",
                                       password=PASSWORD, actor="test")
    context, page = desk(browser)
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: problems.append(message.text)
            if message.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        sign_in(page, live_server, "boss", secret)
        page.goto(f"{live_server}/review/dashboard")
        assert page.get_by_role("heading", name="数据看板", exact=True).is_visible()
        images = page.locator("figure.chart img")
        assert images.count() == 9
        for index in range(images.count()):
            image = images.nth(index)
            image.scroll_into_view_if_needed()
            page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                                   arg=image.element_handle())
        tiles = page.locator(".tiles .value").all_inner_texts()
        assert tiles[0].replace(",", "").isdigit()
        assert int(tiles[0].replace(",", "")) > 0
        # The numbers behind a chart open as a table.
        page.get_by_text("数据表").first.click()
        assert page.locator("figure.chart table").first.is_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
        page.emulate_media(media="print")
        page.screenshot(path=str(ARTIFACTS / "dashboard-print.png"), full_page=True)
    finally:
        context.close()
    assert off_host(requests, live_server) == []
    assert any("/review/dashboard/chart/" in url for url in requests)
    assert problems == []
