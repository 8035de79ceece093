"""民情日报 and 月报 from the CLI: kept as files, replaced on a re-run, never identity."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from openpyxl import load_workbook

from tests.unit.test_figures import month  # noqa: F401  (the hand-built March 2026)


def test_monthly_report_of_the_hand_built_month(month, runner, app):  # noqa: F811
    result = runner.invoke(args=["reports", "monthly", "--month", "2026-03"])
    assert result.exit_code == 0, result.output
    path = Path(result.output.strip().splitlines()[-1])
    assert path == Path(app.config["JIDU_DATA_DIR"]) / "reports" / "monthly" / "2026-03.html"
    html = path.read_text(encoding="utf-8")
    assert "月报" in html
    assert "2026-03-01 — 2026-03-31" in html
    assert "60.0% (3/5)" in html  # 办结率, as worked out in test_figures
    assert "2,100.00" in html
    assert "乱罚款" in html  # the demo payload's category, a high-frequency item
    # Never a clue's text, never anything off the page's own file.
    assert "首次轻微违法" not in html
    assert "http" not in html.replace("http-equiv", "")
    book = load_workbook(path.with_suffix(".xlsx"), read_only=True)
    rows = list(book["指标"].iter_rows(values_only=True))
    assert rows[0][:2] == ("指标", "本期")
    assert rows[2][:2] == ("办结率", 60.0)
    # The charts are drawn into the file (they print), with the month's numbers.
    images = re.findall(r'<img src="data:image/svg\+xml;base64,([^"]+)"', html)
    assert len(images) == 3  # the days of the month, the categories, the districts
    drawn = [base64.b64decode(image).decode() for image in images]
    assert all(svg.startswith("<svg") and "<script" not in svg for svg in drawn)
    assert "乱罚款" in drawn[1]
    days = list(book["每日"].iter_rows(values_only=True))
    assert len(days) == 32
    assert days[0] == ("日期", "收到", "结案")
    assert sum(row[1] for row in days[1:]) == 5  # as worked out in test_figures
    # A re-run replaces the period's files.
    again = runner.invoke(args=["reports", "monthly", "--month", "2026-03"])
    assert again.output.strip().splitlines()[-1] == str(path)
    assert sorted(p.name for p in path.parent.iterdir()) == ["2026-03.html", "2026-03.xlsx"]


def test_daily_report_and_bad_input(month, runner):  # noqa: F811
    result = runner.invoke(args=["reports", "daily", "--date", "2026-03-02"])
    assert result.exit_code == 0, result.output
    html = Path(result.output.strip().splitlines()[-1]).read_text(encoding="utf-8")
    assert "民情日报" in html
    assert "统计期间 2026-03-02<" in html
    bad = runner.invoke(args=["reports", "monthly", "--month", "March"])
    assert bad.exit_code != 0
    assert "Traceback" not in bad.output
    assert "not a valid month" in bad.output


def test_subscribers_hear_once_per_report(month, runner):  # noqa: F811
    from sqlalchemy import select

    from app.extensions import db
    from app.models import OutboxMessage
    from app.services import people

    people.create_user(db.session, username="ana", role="analyst", email="ana@bureau.example",
                       password="a long enough password", actor="test")
    runner.invoke(args=["reports", "monthly", "--month", "2026-03"])
    runner.invoke(args=["reports", "monthly", "--month", "2026-03"])
    mails = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.template == "report")).all()
    assert [(m.params["kind"], m.params["label"]) for m in mails] == [("monthly", "2026-03")]


def test_the_console_generates_lists_and_downloads(month, app):  # noqa: F811
    from tests.web.test_admin import signed_in

    app.config["WTF_CSRF_ENABLED"] = False
    try:
        supervisor = signed_in(app, "supervisor", name="boss2")
        made = supervisor.post("/review/reports", data={"kind": "monthly",
                                                        "period": "2026-03"},
                               follow_redirects=True)
        assert "报告已生成" in made.get_data(as_text=True)
        wrong = supervisor.post("/review/reports", data={"kind": "daily", "period": "3月2日"})
        assert "日期或月份格式不正确" in wrong.get_data(as_text=True)
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    page = supervisor.get("/review/reports").get_data(as_text=True)
    assert "/review/reports/monthly/2026-03.html" in page
    html = supervisor.get("/review/reports/monthly/2026-03.html")
    assert html.status_code == 200
    assert "attachment" in html.headers["Content-Disposition"]
    assert "办结率" in html.get_data(as_text=True)
    xlsx = supervisor.get("/review/reports/monthly/2026-03.xlsx")
    assert xlsx.data[:2] == b"PK"
    assert supervisor.get("/review/reports/monthly/..%2Fsecret.html").status_code == 404
    assert supervisor.get("/review/reports/weekly/2026-03.html").status_code == 404
    assert supervisor.get("/review/reports/monthly/2026-04.html").status_code == 404
