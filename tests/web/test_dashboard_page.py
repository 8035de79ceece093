"""数据看板 in the console: numbers as tables, charts as server-drawn SVG, filters."""

from __future__ import annotations

import re
from datetime import date

from app.extensions import db
from app.services import rollup
from tests.unit.test_dashboard import fortnight, reviewer  # noqa: F401  (fixtures)
from tests.web.test_warnings_page import signed_in

MARCH = "from=2026-03-01&to=2026-03-14"


def test_supervisor_reads_the_fortnight_as_tiles_and_tables(app, fortnight):  # noqa: F811
    client = signed_in(app, "supervisor")
    page = client.get(f"/review/dashboard?{MARCH}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    tiles = dict(re.findall(r'<span class="label">([^<]+)</span><span class="value">([^<]+)<',
                            html))
    assert tiles["收到线索"] == "5"
    assert tiles["办结率"] == "60.0%"
    assert tiles["在办已逾期"] == "1"  # c3, due on 8 March 2026, is judged now
    assert tiles["结案用时中位数"] == "6 小时"
    assert tiles["结案用时90%分位"] == "3.2 天"
    # Each chart is an image with a text alternative, and its numbers are a table.
    images = re.findall(r'<img src="(/review/dashboard/chart/[a-z]+\.svg[^"]*)" alt="图表：', html)
    assert len(images) == 9
    assert "乱罚款" in html
    assert "2026-03-14" in html
    # A supervisor may open the queue filtered by a row of a table.
    assert 'href="/review/?category=fines&amp;from=2026-03-01&amp;to=2026-03-14"' in html


def test_the_charts_are_svg_with_the_labels_and_numbers(app, fortnight):  # noqa: F811
    client = signed_in(app, "analyst")
    html = client.get(f"/review/dashboard?{MARCH}").get_data(as_text=True)
    assert "/review/?category=" not in html  # analysts do not open the queue
    for url in re.findall(r'<img src="(/review/dashboard/chart/[a-z]+\.svg[^"]*)"', html):
        chart = client.get(url.replace("&amp;", "&"))
        assert chart.status_code == 200, url
        assert chart.mimetype == "image/svg+xml"
        assert "script" not in chart.headers["Content-Security-Policy"]
        assert chart.get_data(as_text=True).startswith("<svg")
    svg = client.get(f"/review/dashboard/chart/category.svg?{MARCH}").get_data(as_text=True)
    for name in ("乱罚款", "乱收费", "乱检查"):
        assert name in svg
    colour = client.get(f"/review/dashboard/chart/colour.svg?{MARCH}").get_data(as_text=True)
    assert "#c62828" in colour  # red is drawn red
    assert client.get("/review/dashboard/chart/nothing.svg").status_code == 404


def test_bad_dates_fall_back_with_a_message(app, fortnight):  # noqa: F811
    client = signed_in(app, "analyst")
    html = client.get("/review/dashboard?from=2026-13-01&to=x").get_data(as_text=True)
    assert "起止日期格式不正确" in html


def test_the_page_refreshes_stale_days_before_counting(app, fortnight):  # noqa: F811
    assert rollup.pending(db.session) > 0
    client = signed_in(app, "analyst")
    html = client.get(f"/review/dashboard?{MARCH}&campaign=none").get_data(as_text=True)
    assert rollup.pending(db.session) == 0
    assert '<span class="label">收到线索</span><span class="value">5<' in html
    assert date(2026, 3, 1).isoformat() in html


def test_the_dashboard_in_english(app, fortnight):  # noqa: F811
    client = signed_in(app, "analyst")
    html = client.get(f"/review/dashboard?{MARCH}&lang=en").get_data(as_text=True)
    assert "<h1>Dashboard</h1>" in html
    assert "Median time to closure" in html
    assert "Arbitrary fines" in html  # category names come from the reference data
