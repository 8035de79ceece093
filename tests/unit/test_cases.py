"""Enforcement case records: import from CSV/XLSX, and their link to clues."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Channel, Clue, ClueStatus, EnforcementCase
from app.services import case_links, cases, demo
from app.services.case_files import CasesFileError
from app.timeutil import LOCAL

DATA = Path(__file__).resolve().parents[1] / "data"
NOW = datetime(2025, 10, 10, 2, 0, tzinfo=UTC)
HEADER = "case_no,agency,department,domain,case_type,decided_on,amount_yuan,district\n"


def run_import(path, **kwargs):
    return cases.import_file(db.session, path, now=NOW, actor="test", **kwargs)


def stored():
    return {c.case_no: c for c in db.session.scalars(select(EnforcementCase))}


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# --- import -----------------------------------------------------------------

def test_csv_sample_imports_every_row(app):
    result = run_import(DATA / "cases_sample.csv")
    assert (result.rows, result.inserted, result.errors) == (80, 80, [])
    rows = stored()
    assert len(rows) == 80
    by_type = {t: sum(1 for c in rows.values() if c.case_type == t)
               for t in ("inspection", "penalty", "compulsory")}
    assert by_type == {"inspection": 29, "penalty": 41, "compulsory": 10}
    case = rows["舟普市监罚〔2025〕0104号"]
    assert (case.agency, case.department_code, case.domain, case.decided_on, case.amount_fen,
            case.district_code) == ("普陀区市场监督管理局沈家门所", "market", "广告监管",
                                    date(2025, 5, 28), 20_000_000, "putuo")
    assert rows["舟普市监检〔2025〕0031号"].amount_fen is None
    # An amount beyond a 32-bit column: 450,000 yuan is 45,000,000 fen, fine; the
    # tax case's 286,500 yuan likewise — and the column is BigInteger for more.
    assert rows["舟税二稽罚〔2025〕0003号"].amount_fen == 28_650_000
    audit = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "cases.imported")).one()
    assert audit.details["inserted"] == 80


def test_xlsx_sample_holds_the_same_records_as_the_csv(app):
    first = run_import(DATA / "cases_sample.xlsx")
    assert (first.rows, first.inserted, first.errors) == (80, 80, [])
    again = run_import(DATA / "cases_sample.csv")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 80)


def test_sample_copy_for_demo_data_matches_the_test_sample():
    demo_copy = Path(demo.SAMPLE_CASES)
    assert demo_copy.read_bytes() == (DATA / "cases_sample.csv").read_bytes()


def test_broken_rows_are_reported_and_good_rows_imported(app, tmp_path):
    path = write(tmp_path, "mixed.csv", HEADER + "\n".join([
        "A-1,定海区市场监督管理局城东所,market,食品安全,penalty,2025-03-01,5000,dinghai",  # 2
        "A-2,定海区市场监督管理局城东所,market,食品安全,penalty,2025-13-01,5000,dinghai",  # 3
        "A-3,某执法队,urban,城市管理,inspection,2025-03-02,,火星区",  # 4
        "A-4,某执法队,urban,城市管理,penalty,2025-03-03,-200,putuo",  # 5
        ",某执法队,urban,城市管理,penalty,2025-03-04,200,putuo",  # 6
        "A-1,另一个单位,urban,城市管理,penalty,2025-03-05,300,putuo",  # 7
        "",  # 8: blank, skipped
        "A-5,岱山县交通运输局运管所,,道路运输,行政处罚,2025/3/6,\"1,234.50\",岱山县",  # 9
        "A-6,某执法队,urban,城市管理,罚没,2025-03-07,10,putuo",  # 10
        "A-7,某执法队,nowhere,城市管理,penalty,2025-03-08,10,putuo",  # 11
        "A-8,某执法队,urban,城市管理,penalty,2025-03-08,10.005,putuo",  # 12
        "A-9,某执法队,urban,城市管理,penalty,2025-10-11,10,putuo",  # 13: after today
    ]) + "\n")
    result = run_import(path)
    assert result.rows == 11
    assert result.inserted == 2
    reasons = {e.line: e.reason for e in result.errors}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 10, 11, 12, 13]
    assert reasons[3].startswith("决定日期格式不正确：2025-13-01")
    assert reasons[4] == "未知区域：火星区"
    assert reasons[5] == "金额不能为负数"
    assert reasons[6] == "缺少案件编号"
    assert reasons[7] == "案件编号 A-1 与第 2 行重复，本行未导入"
    assert reasons[10].startswith("案件类型无法识别：罚没")
    assert reasons[11] == "未知部门：nowhere"
    assert reasons[12].startswith("金额格式不正确")
    assert reasons[13] == "决定日期 2025-10-11 晚于今天"
    rows = stored()
    assert set(rows) == {"A-1", "A-5"}
    assert rows["A-1"].agency == "定海区市场监督管理局城东所"  # the first A-1 kept
    five = rows["A-5"]
    # Department inferred from the agency name; district by its Chinese name.
    assert (five.department_code, five.case_type, five.decided_on, five.amount_fen,
            five.district_code) == ("transport", "penalty", date(2025, 3, 6), 123_450,
                                    "daishan")


def test_chinese_headers_and_gb18030_csv(app, tmp_path):
    text = ("案件编号,执法主体,所属部门,执法领域,案件类型,决定日期,金额（元）,所属区域\n"
            "舟定综执强〔2025〕0099号,定海区综合行政执法局,综合行政执法局,城市管理,行政强制,"
            "2025年4月2日,￥600元,定海\n"
            "舟新消检〔2025〕0099号,新城消防救援大队,,消防安全,行政检查,2025.04.03,,新城\n")
    result = run_import(write(tmp_path, "export.csv", text, encoding="gb18030"))
    assert result.errors == []
    rows = stored()
    compulsory = rows["舟定综执强〔2025〕0099号"]
    assert (compulsory.department_code, compulsory.case_type, compulsory.decided_on,
            compulsory.amount_fen, compulsory.district_code) == (
        "urban", "compulsory", date(2025, 4, 2), 60_000, "dinghai")
    fire = rows["舟新消检〔2025〕0099号"]
    assert (fire.department_code, fire.case_type, fire.district_code) == (
        "fire", "inspection", "xincheng")


def test_xlsx_with_broken_rows(app, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["案件编号", "执法主体", "执法领域", "案件类型", "决定日期", "金额(元)", "所属区域"])
    ws.append(["X-1", "普陀区海洋与渔业局执法大队", "渔业安全", "行政处罚", date(2025, 5, 2), 30000,
               "普陀区"])
    ws.append(["X-2", "普陀区海洋与渔业局执法大队", "渔业安全", "行政处罚", "五月", 1, "普陀区"])
    ws.append([20250101, "普陀区海洋与渔业局执法大队", "渔业安全", "行政检查",
               datetime(2025, 5, 3, 9, 30), None, "putuo"])
    wb.save(tmp_path / "cases.xlsx")
    result = run_import(tmp_path / "cases.xlsx")
    assert [(e.line, e.reason.split("：")[0]) for e in result.errors] == [(3, "决定日期格式不正确")]
    rows = stored()
    assert rows["X-1"].amount_fen == 3_000_000
    assert rows["X-1"].department_code == "fishery"
    assert rows["20250101"].decided_on == date(2025, 5, 3)


def test_reimport_updates_instead_of_duplicating(app, tmp_path):
    run_import(DATA / "cases_sample.csv")
    changed = write(tmp_path, "changed.csv", HEADER +
                    "舟普市监罚〔2025〕0012号,普陀区市场监督管理局沈家门所,market,食品安全,"
                    "penalty,2025-01-09,6000,putuo\n"
                    "NEW-1,定海区应急管理局,emergency,安全生产,inspection,2025-06-01,,dinghai\n")
    result = run_import(changed)
    assert (result.inserted, result.updated, result.unchanged) == (1, 1, 0)
    assert db.session.scalar(select(func.count(EnforcementCase.id))) == 81
    assert stored()["舟普市监罚〔2025〕0012号"].amount_fen == 600_000


def test_a_crash_mid_file_keeps_whole_batches_and_a_rerun_completes(app, tmp_path, monkeypatch):
    lines = [f"C-{i},定海区应急管理局,emergency,安全生产,inspection,2025-06-0{1 + i % 9},,dinghai"
             for i in range(7)]
    path = write(tmp_path, "seven.csv", HEADER + "\n".join(lines) + "\n")
    real_upsert = cases.upsert
    calls = []

    def crash_on_second(session, records, now, result):
        calls.append(len(records))
        if len(calls) == 2:
            session.add(EnforcementCase(  # half-written work of the failing batch
                case_no="HALF", agency="x", district_code="putuo", domain="x",
                case_type="inspection", decided_on=date(2025, 1, 1)))
            session.flush()
            raise RuntimeError("power cut")
        real_upsert(session, records, now, result)

    monkeypatch.setattr(cases, "upsert", crash_on_second)
    with pytest.raises(RuntimeError):
        run_import(path, batch_size=3)
    assert sorted(stored()) == ["C-0", "C-1", "C-2"]
    monkeypatch.setattr(cases, "upsert", real_upsert)
    result = run_import(path, batch_size=3)
    assert (result.inserted, result.unchanged) == (4, 3)
    assert sorted(stored()) == [f"C-{i}" for i in range(7)]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("missing.csv", None, "文件不存在"),
    ("cases.pdf", "%PDF", "只支持 CSV 或 XLSX 文件"),
    ("empty.csv", "", "文件为空"),
    ("header.csv", "case_no,agency\nA,B\n", "表头缺少必填列"),
    ("fake.xlsx", "not a zip", "无法读取 XLSX 文件"),
])
def test_unreadable_files_raise(app, tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(CasesFileError, match=message):
        run_import(path)
    assert stored() == {}


def test_cli_reports_rejected_rows_and_fails_only_on_unreadable_files(app, runner, tmp_path):
    path = write(tmp_path, "cli.csv", HEADER +
                 "K-1,定海区应急管理局,emergency,安全生产,inspection,2025-06-01,,dinghai\n"
                 "K-2,定海区应急管理局,emergency,安全生产,inspection,2025-06-01,,海王星\n")
    result = runner.invoke(args=["cases", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "rejected row 3: 未知区域：海王星" in result.output
    assert "2 rows, imported 1 (new 1, updated 0, unchanged 0), rejected 1" in result.output
    missing = runner.invoke(args=["cases", "import", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 1
    assert "文件不存在" in missing.output


def test_demo_cases_end_today(app):
    now = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)
    assert demo.load_cases(db.session, now) == 80
    newest = db.session.scalar(select(func.max(EnforcementCase.decided_on)))
    assert newest == date(2026, 3, 1)
    assert demo.load_cases(db.session, now) == 80  # again: the same 80, updated in place
    assert db.session.scalar(select(func.count(EnforcementCase.id))) == 80


# --- linking ----------------------------------------------------------------

A1 = "普陀区市场监督管理局沈家门所"
A2 = "普陀区市场监督管理局朱家尖所"
U1 = "定海区综合行政执法局"


def add_case(no, agency, department, domain, case_type, day):
    db.session.add(EnforcementCase(
        case_no=no, agency=agency, department_code=department, district_code="putuo",
        domain=domain, case_type=case_type, decided_on=day))


def add_clue(agency, department, local_time, status=ClueStatus.RECEIVED):
    clue = Clue(
        tracking_no=secrets.token_hex(6), receipt_hash=secrets.token_hex(32),
        channel=Channel.WEB, category_code="inspections", agency=agency,
        department_code=department, district_code="putuo", description="测试线索",
        real_name=False, status=status,
        created_at=local_time.replace(tzinfo=LOCAL).astimezone(UTC))
    db.session.add(clue)
    return clue


@pytest.fixture
def linked(app):
    may = date(2025, 5, 1)
    add_case("m1", A1, "market", "食品安全", "inspection", may + timedelta(days=2))
    add_case("m2", A1, "market", "食品安全", "inspection", may + timedelta(days=9))
    add_case("m3", A1, "market", "价格监管", "penalty", may + timedelta(days=19))
    add_case("m4", A2, "market", "价格监管", "penalty", may + timedelta(days=4))
    add_case("m5", A2, "market", "食品安全", "compulsory", date(2025, 5, 31))
    add_case("u1", U1, "urban", "城市管理", "penalty", may)
    add_case("u2", U1, "urban", "城市管理", "penalty", may + timedelta(days=14))
    add_case("p1", "舟山港务集团", None, "港口", "inspection", may + timedelta(days=6))
    add_case("x1", A1, "market", "食品安全", "inspection", date(2025, 4, 30))
    add_case("x2", A1, "market", "食品安全", "inspection", date(2025, 6, 1))
    add_case("x3", A1, "market", "食品安全", "penalty", date(2025, 3, 1))
    add_case("x4", A1, "market", "食品安全", "penalty", date(2025, 3, 2))
    t = datetime(2025, 5, 12, 10, 0)
    clues = {
        "c1": add_clue(A1 + "执法人员", "market", t),
        "c2": add_clue("朱家尖所", "market", t),
        "c3": add_clue("普陀区市场监督管理局", "market", t),  # two agencies: department only
        "c4": add_clue("某城管队员", "urban", t),
        "c5": add_clue(U1 + "城东中队", None, t),  # no department: placed by the agency
        "c6": add_clue("某不知名单位", None, t),
        "c7": add_clue("渔政", "fishery", t),
        "c8": add_clue(A1, "market", t, status=ClueStatus.MERGED),
        "c9": add_clue(A1, "market", datetime(2025, 4, 30, 23, 30)),
        "c10": add_clue(A1, "market", datetime(2025, 5, 31, 23, 30)),
        "c11": add_clue(U1, "urban", datetime(2025, 5, 1, 0, 10)),
    }
    db.session.commit()
    return clues


def table(result):
    return {(s.department_code, r.label): (r.counts.inspection, r.counts.penalty,
                                           r.counts.compulsory, r.counts.complaints,
                                           r.counts.per_100)
            for s in result.sections for r in s.rows}


def test_activity_by_agency_known_answer(linked):
    result = case_links.activity(db.session, start=date(2025, 5, 1), end=date(2025, 5, 31))
    assert table(result) == {
        ("market", A1): (2, 1, 0, 2, 66.7),
        ("market", A2): (0, 1, 1, 1, 50.0),
        ("market", None): (0, 0, 0, 1, None),
        ("urban", U1): (0, 2, 0, 2, 100.0),
        ("urban", None): (0, 0, 0, 1, None),
        ("fishery", None): (0, 0, 0, 1, None),
        (None, "舟山港务集团"): (1, 0, 0, 0, 0.0),
    }
    totals = {s.department_code: (s.total.cases, s.total.complaints, s.total.per_100)
              for s in result.sections}
    assert totals == {"market": (5, 4, 80.0), "urban": (2, 3, 150.0), "fishery": (0, 1, None),
                      None: (1, 0, 0.0)}
    # Departments in their list order; cases of agencies outside it last.
    assert [s.department_code for s in result.sections] == ["market", "urban", "fishery", None]
    assert result.unattributed == 1
    assert (result.total.inspection, result.total.penalty, result.total.compulsory,
            result.total.complaints) == (3, 4, 1, 9)


def test_activity_by_domain_known_answer(linked):
    result = case_links.activity(db.session, start=date(2025, 5, 1), end=date(2025, 5, 31),
                                 group_by="domain")
    got = table(result)
    # A1's cases: 食品安全 2, 价格监管 1 → its clues go to 食品安全; A2's tie goes to
    # the first by name (价格监管).
    assert got[("market", "食品安全")] == (2, 0, 1, 2, 66.7)
    assert got[("market", "价格监管")] == (0, 2, 0, 1, 50.0)
    assert got[("market", None)] == (0, 0, 0, 1, None)
    assert got[("urban", "城市管理")] == (0, 2, 0, 2, 100.0)


def test_match_agency_rules():
    agencies = [A1, A2, U1]
    assert case_links.match_agency(f"舟山市{A1}", agencies) == A1
    assert case_links.match_agency("朱家尖所", agencies) == A2
    assert case_links.match_agency("普陀区市场监督管理局", agencies) is None  # two candidates
    assert case_links.match_agency("局", agencies) is None  # too short to search for
    # The longest contained name wins: the 所 over its 局.
    assert case_links.match_agency(A1, [A1, "普陀区市场监督管理局"]) == A1


def test_box_for_clue_counts_the_90_days_up_to_the_clue(linked):
    box = case_links.box_for_clue(db.session, linked["c10"])
    assert (box.since, box.until) == (date(2025, 3, 2), date(2025, 5, 31))
    assert box.agency == A1
    assert (box.agency_counts.inspection, box.agency_counts.penalty,
            box.agency_counts.compulsory) == (3, 2, 0)
    assert box.department_name == "市场监督管理局"
    assert (box.department.inspection, box.department.penalty,
            box.department.compulsory) == (3, 3, 1)
    placed = case_links.box_for_clue(db.session, linked["c5"])
    assert (placed.agency, placed.department_name) == (U1, "综合行政执法局")
    assert placed.agency_counts.penalty == 1  # u1 (1 May); u2 came after the clue
    # Named by part of one agency's name (朱家尖所): that agency, in the department.
    part = case_links.box_for_clue(db.session, linked["c2"])
    assert part.agency == A2
    assert (part.agency_counts.inspection, part.agency_counts.penalty,
            part.agency_counts.compulsory) == (0, 1, 0)
    assert (part.department.inspection, part.department.penalty,
            part.department.compulsory) == (3, 3, 0)
    nothing = case_links.box_for_clue(db.session, linked["c6"])
    assert nothing.department is None
    assert nothing.agency_counts is None
