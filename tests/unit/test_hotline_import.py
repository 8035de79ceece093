"""Importing the hotline's export: every good row in, every bad row reported, never twice."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import Clue, Dispute, HotlineOrder, OutboxMessage, StatusCount
from app.services import hotline_import, hotline_store, keys, people
from app.timeutil import utcnow
from tests import hotline_data


def run_import(app, path, overrides=None, workers=1):
    with open(path, "rb") as stream:
        return hotline_import.import_file(
            db.session, str(path), stream, overrides=overrides,
            public_key=keys.active_public_key(db.session),
            receipt_key=app.config["JIDU_RECEIPT_KEY"], now=utcnow(), actor="test",
            workers=workers)


def count(model):
    return db.session.scalar(select(func.count(model.id)))


BROKEN = {  # line in the file → (what is wrong, the row)
    5: "bad time", 777: "unknown district", 2500: "empty content", 4321: "no order number",
    8000: "conflicting duplicate", 9999: "bad phone",
}


def broken_file(tmp_path, n=10_000):
    data = list(hotline_data.rows(n))
    breaks = {5: (1, "昨天上午"), 777: (3, "火星区"), 2500: (2, ""), 4321: (0, ""),
              9999: (8, "打这个电话")}
    # Line numbers count the header as line 1.
    for line, (column, value) in breaks.items():
        if line - 2 < n:
            data[line - 2][column] = value
    if n > 8000 - 2:
        data[8000 - 2] = list(data[100 - 2])
        data[8000 - 2][2] = "内容不同的同号工单。"
    return hotline_data.write_csv(tmp_path / "export.csv", data)


@pytest.mark.parametrize("workers", [1, 2])
def test_ten_thousand_rows_with_broken_ones_mixed_in(app, ready, tmp_path, workers):
    report = run_import(app, broken_file(tmp_path), workers=workers)
    assert sorted(r.line for r in report.rejected) == sorted(BROKEN)
    reasons = {r.line: r.reason for r in report.rejected}
    assert "受理时间" in reasons[5]
    assert "所属区域" in reasons[777]
    assert "诉求内容" in reasons[2500]
    assert "工单编号" in reasons[4321]
    assert "重复" in reasons[8000]
    assert "联系电话" in reasons[9999]
    assert report.imported == 10_000 - len(BROKEN)
    assert count(HotlineOrder) == report.imported
    assert count(Clue) == report.related > 0
    assert db.session.scalar(select(func.sum(StatusCount.n))
                             .where(StatusCount.status == "received")
                             ) == report.related
    assert count(Dispute) == report.disputed > 0
    # The same file again: nothing new, the good rows reported as already there.
    again = run_import(app, broken_file(tmp_path))
    assert (again.imported, again.skipped) == (0, report.imported)
    assert count(HotlineOrder) == report.imported


def test_a_crash_mid_file_leaves_whole_batches_and_a_rerun_completes(app, ready, tmp_path,
                                                                     monkeypatch):
    # Simulated crash (the process dying is outside our control): the 2,500th
    # order raises. Batches of 1,000 are whole or absent.
    path = hotline_data.write_csv(tmp_path / "export.csv", hotline_data.rows(3_000))
    real_plan, calls = hotline_store.plan, {"n": 0}

    def crashing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2_500:
            raise RuntimeError("power cut")
        return real_plan(*args, **kwargs)

    monkeypatch.setattr(hotline_store, "plan", crashing)
    with pytest.raises(RuntimeError):
        run_import(app, path)
    db.session.rollback()
    assert count(HotlineOrder) == 2_000
    assert count(Clue) == db.session.scalar(select(func.sum(StatusCount.n)).where(
        StatusCount.status == "received"))
    monkeypatch.setattr(hotline_store, "plan", real_plan)
    report = run_import(app, path)
    assert (report.imported, report.skipped, report.rejected) == (1_000, 2_000, [])
    assert count(HotlineOrder) == 3_000
    numbers = db.session.scalars(select(HotlineOrder.order_no)).all()
    assert len(set(numbers)) == 3_000


def test_xlsx_with_an_adjusted_mapping(app, ready, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["单号", "时间", "内容", "区域", "来电人", "电话", "备注"])
    for row in hotline_data.rows(20, prefix="12345-20250504"):
        sheet.append([row[0], row[1], row[2], row[3], row[7], row[8], "无"])
    path = tmp_path / "day.xlsx"
    book.save(path)
    with pytest.raises(hotline_import.ImportError_, match="工单编号"):
        run_import(app, path)
    mapping = {"order_no": "单号", "received_at": "时间", "content": "内容", "district": "区域",
               "caller.name": "来电人", "caller.phone": "电话"}
    report = run_import(app, path, overrides=mapping)
    assert (report.imported, report.rejected) == (20, [])
    assert db.session.scalars(select(HotlineOrder.source)).all() == ["import"] * 20


def test_gb18030_csv_from_an_old_hotline_system(app, ready, tmp_path):
    path = tmp_path / "gbk.csv"
    text = io.StringIO()
    hotline_data.write_csv(tmp_path / "utf8.csv", hotline_data.rows(5))
    text.write((tmp_path / "utf8.csv").read_text(encoding="utf-8"))
    path.write_bytes(text.getvalue().encode("gb18030"))
    assert run_import(app, path).imported == 5


def test_a_file_that_cannot_be_read(app, ready, tmp_path):
    path = tmp_path / "orders.pdf"
    path.write_bytes(b"%PDF-1.4")
    with pytest.raises(hotline_import.ImportError_):
        run_import(app, path)


def test_reviewers_get_one_summary_mail_per_import(app, ready, tmp_path):
    people.create_user(db.session, username="rev", role="reviewer", email="rev@x.example",
                       password="a long enough password", actor="test")
    run_import(app, hotline_data.write_csv(tmp_path / "e.csv", hotline_data.rows(200)))
    mails = db.session.scalars(select(OutboxMessage)).all()
    assert [m.template for m in mails] == ["hotline_import"]
    assert json.dumps(mails[0].params)  # numbers only
    assert set(mails[0].params) == {"imported", "related", "disputed", "rejected"}


def test_the_cli_prints_refused_rows_and_a_summary(app, ready, runner, tmp_path):
    result = runner.invoke(args=["hotline", "import", str(broken_file(tmp_path, n=3_000))])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("line 5: ")
    assert lines[-1].startswith("imported 2997")
    bad = runner.invoke(args=["hotline", "import", str(tmp_path / "missing.csv")])
    assert bad.exit_code != 0
    assert "Traceback" not in bad.output


@pytest.mark.parametrize("name", ["hotline_sample.csv", "hotline_sample.xlsx"])
def test_the_sample_day_imports_cleanly(app, ready, name):
    path = Path(__file__).resolve().parents[1] / "data" / name
    report = run_import(app, path)
    assert report.rejected == []
    assert report.imported == 61
    assert 0 < report.related < 61
    assert report.disputed == 3
    assert count(Dispute) == 3


def test_the_demo_sample_is_the_test_sample():
    root = Path(__file__).resolve().parents[2]
    assert (root / "app/data/hotline_sample.csv").read_bytes() == (
        root / "tests/data/hotline_sample.csv").read_bytes()


def test_imported_clues_are_in_the_queue_and_its_free_text_search(app, ready):
    from app.models import Clue
    from app.services import queue

    path = Path(__file__).resolve().parents[1] / "data" / "hotline_sample.csv"
    run_import(app, path)
    clue = db.session.scalars(select(Clue).where(Clue.channel == "hotline")
                              .order_by(Clue.id)).first()
    words = clue.description[10:16]
    page = queue.list_clues(db.session, queue.Filters(channel="hotline", text=words),
                            now=utcnow())
    assert clue.id in [c.id for c in page.clues]
    assert page.counts.get("received", 0) >= 1
