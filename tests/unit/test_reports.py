"""民情日报 and 月报 from the CLI: kept as files, replaced on a re-run, never identity."""

from __future__ import annotations

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
