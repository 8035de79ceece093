"""Property tests for the file readers: CSV/XLSX sheets, hotline and case imports.

Whatever bytes arrive, a reader yields rows or refuses the file with its
domain error (``SheetError``, ``ImportError_``, ``CasesFileError``); a row is
an order or case, or a reason, never a crash. Written rows read back as
written. All pure: no database.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from app.reference import DEPARTMENTS, DISTRICTS
from app.services import case_files, cases, hotline, hotline_import, sheets
from app.services.errors import ValidationFailed
from app.timeutil import LOCAL
from tests.fuzz import refusal

SHARED = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
CELL = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"),
               max_size=20)
# What a spreadsheet cell can hold (XLSX has no control characters).
XLSX_VALUES = st.one_of(st.none(), st.text(st.characters(blacklist_categories=("Cs", "Cc")),
                                          max_size=20),
                        st.integers(-(10**12), 10**12), st.floats(allow_nan=False,
                                                                  allow_infinity=False),
                        st.booleans(), st.dates(date(1900, 3, 1)),
                        st.datetimes(datetime(1900, 3, 1)))
CELL_VALUES = st.one_of(st.none(), CELL, st.integers(-(10**12), 10**12),
                        st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                        st.dates(), st.datetimes())
HOTLINE_LOOKUP = hotline_import._Lookup(
    districts={**{c: c for c, _n, _e in DISTRICTS}, **{n: c for c, n, _e in DISTRICTS}},
    departments={**{c: c for c, _n, _e in DEPARTMENTS}, **{n: c for c, n, _e in DEPARTMENTS}},
    department_names=[(n, c) for c, n, _e in DEPARTMENTS])
CASE_LOOKUPS = cases.Lookups(
    districts={**{c: c for c, _n, _e in DISTRICTS}, **{n: c for c, n, _e in DISTRICTS}},
    departments={**{c: c for c, _n, _e in DEPARTMENTS}, **{n: c for c, n, _e in DEPARTMENTS}},
    today=date(2026, 1, 1))


def _parses(text: str, fmt: str) -> bool:
    try:
        datetime.strptime(text, fmt)
    except ValueError:
        return False
    return True


def _csv(rows: list[list[str]], encoding: str) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- app/services/sheets.py --------------------------------------------------------

@SHARED
@given(raw=st.binary(max_size=400))
def test_any_bytes_are_rows_or_an_unreadable_sheet(raw, tally):
    tally["tried"] += 1
    try:
        rows = list(sheets.csv_rows(raw))
    except sheets.SheetError:
        tally["csv refused"] += 1
    else:
        assert all(isinstance(cell, str) for _line, cells in rows for cell in cells)
        tally["csv read"] += 1
    with pytest.raises(sheets.SheetError):
        list(sheets.xlsx_rows(io.BytesIO(raw)))
    tally["xlsx refused"] += 1


@SHARED
@given(rows=st.lists(st.lists(CELL, min_size=1, max_size=5), min_size=1, max_size=6),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_csv_cells_read_back_as_written(rows, encoding, tally):
    tally["tried"] += 1
    width = len(rows[0])
    rows = [(row + [""] * width)[:width] for row in rows]
    if width == 1 and any(r == [""] for r in rows):
        rows = [r for r in rows if r != [""]] or [["x"]]  # csv writes a lone "" as ""
    try:
        raw = _csv(rows, encoding)
    except UnicodeEncodeError:
        tally["not encodable in " + encoding] += 1
        return
    first = rows[0]
    if "\t" in ",".join(first) and "," not in ",".join(first):
        tally["tab-looking header skipped"] += 1
        return
    assert [cells for _line, cells in sheets.csv_rows(raw)] == rows
    tally["read back"] += 1


# --- app/services/hotline_import.py -------------------------------------------------

HEADERS = sorted({h for known in hotline_import.DEFAULT_MAPPING.values() for h in known})
REQUIRED_HEADERS = ["工单编号", "受理时间", "诉求内容", "所属区域"]


@st.composite
def export_rows(draw: st.DrawFn) -> dict[str, object]:
    """A row of the hotline's export as its own system writes it."""
    moment = draw(st.datetimes(datetime(2000, 1, 1), datetime(2099, 1, 1)))
    return {"工单编号": draw(st.from_regex(hotline.ORDER_NO, fullmatch=True)),
            "受理时间": draw(st.sampled_from([moment, moment.strftime("%Y/%m/%d %H:%M:%S")])),
            "诉求内容": draw(CELL.filter(lambda s: s.strip() != "")),
            "所属区域": draw(st.sampled_from(DISTRICTS))[1],
            "是否争议": draw(st.sampled_from(["是", "否", ""])),
            "派单部门": draw(st.sampled_from(["", *(d[1] for d in DEPARTMENTS)])),
            "来电人": draw(CELL), "联系电话": draw(st.sampled_from(["", "0580-2281234"]))}


@SHARED
@given(headers=st.lists(st.sampled_from(HEADERS) | CELL, max_size=12) | st.lists(
           st.sampled_from(HEADERS), max_size=6).map(lambda extra: REQUIRED_HEADERS + extra),
       overrides=st.none() | st.dictionaries(
           st.sampled_from(sorted(hotline_import.DEFAULT_MAPPING)) | CELL,
           st.sampled_from(HEADERS) | CELL, max_size=4))
def test_a_mapping_names_only_columns_of_the_file(headers, overrides, tally):
    tally["tried"] += 1
    mapping: dict[str, str] = {}
    refused = refusal(lambda: mapping.update(hotline_import.resolve_mapping(headers, overrides)),
                      hotline_import.ImportError_)
    if refused is not None:
        assert str(refused)
        tally["refused with a reason"] += 1
        return
    assert set(mapping) <= set(hotline_import.DEFAULT_MAPPING)
    assert set(mapping.values()) <= set(headers)
    assert {"order_no", "received_at", "content", "district"} <= set(mapping)
    tally["mapped"] += 1


@SHARED
@given(row=export_rows(), changes=st.dictionaries(st.sampled_from(HEADERS) | CELL, CELL_VALUES,
                                                 max_size=4))
def test_any_export_row_becomes_an_order_or_field_errors(row, changes, tally):
    tally["tried"] += 1
    row = {**row, **changes}
    mapping = {target: known[0] for target, known in hotline_import.DEFAULT_MAPPING.items()}
    order = hotline_import.to_order(row, mapping, HOTLINE_LOOKUP)
    refused = refusal(lambda: hotline.validate(
        None, order, districts=set(HOTLINE_LOOKUP.districts.values()),
        departments=set(HOTLINE_LOOKUP.departments.values())), ValidationFailed)
    if refused is None:
        tally["valid order"] += 1
    else:
        assert isinstance(refused, ValidationFailed)
        assert hotline_import._reason(refused.fields)
        tally["refused with a reason"] += 1


@SHARED
@given(row=export_rows())
def test_a_well_formed_export_row_is_a_valid_order(row, tally):
    tally["tried"] += 1
    mapping = hotline_import.resolve_mapping(list(row), None)
    order = hotline_import.to_order(row, mapping, HOTLINE_LOOKUP)
    checked = hotline.validate(None, order, districts=set(HOTLINE_LOOKUP.districts.values()),
                               departments=set(HOTLINE_LOOKUP.departments.values()))
    moment = row["受理时间"]
    if isinstance(moment, str):
        moment = datetime.strptime(moment, "%Y/%m/%d %H:%M:%S")
    assert checked.order_no == row["工单编号"]
    assert checked.received_at == moment.replace(tzinfo=LOCAL).astimezone(UTC)
    assert checked.content == row["诉求内容"].strip()
    assert checked.district == HOTLINE_LOOKUP.district(row["所属区域"])
    assert checked.disputed is (row["是否争议"] == "是")
    assert checked.dispatched_to == (HOTLINE_LOOKUP.department(row["派单部门"])
                                     if row["派单部门"] else None)
    tally["valid order"] += 1


@SHARED
@given(raw=st.binary(max_size=300), suffix=st.sampled_from([".csv", ".xlsx", ".txt", ".doc"]))
def test_any_uploaded_file_is_rows_or_refused(raw, suffix, tally):
    tally["tried"] += 1
    try:
        rows = list(hotline_import.read_rows("export" + suffix, io.BytesIO(raw)))
    except hotline_import.ImportError_:
        tally["refused"] += 1
    else:
        assert all(isinstance(row, dict) for _line, row in rows)
        tally["read"] += 1


# --- app/services/cases.py and case_files.py -----------------------------------------

CASE_FIELDS = ["case_no", "agency", "department", "domain", "case_type", "decided_on",
               "amount_yuan", "district"]


@st.composite
def case_rows(draw: st.DrawFn) -> dict[str, object]:
    fen = draw(st.none() | st.integers(0, cases.MAX_AMOUNT_FEN))
    return {"case_no": draw(CELL.filter(lambda s: s.strip() != "" and len(s) <= 64)),
            "agency": f"普陀区{draw(st.sampled_from(DEPARTMENTS))[1]}", "department": "",
            "domain": "市场监管", "case_type": draw(st.sampled_from(sorted(cases.CASE_TYPES))),
            "decided_on": draw(st.dates(date(1990, 1, 1), date(2026, 1, 1))).strftime(
                draw(st.sampled_from(cases.DATE_FORMATS))),
            "amount_yuan": None if fen is None else f"{fen // 100}.{fen % 100:02d}",
            "district": draw(st.sampled_from(DISTRICTS))[1]}


@SHARED
@given(raw=case_rows(), changes=st.fixed_dictionaries(
    {}, optional={k: CELL_VALUES | st.sampled_from(["", "-1", "1.005", "１２", "1e400", "NaN",
                                                     "2026-02-30", "20250101", "¥1,000元"])
                  for k in CASE_FIELDS}))
def test_any_case_row_is_a_record_or_a_reason(raw, changes, tally):
    tally["tried"] += 1
    raw = {**raw, **changes}
    checked = cases.check_row(raw, CASE_LOOKUPS)
    if isinstance(checked, str):
        assert checked
        tally["refused with a reason"] += 1
    else:
        assert checked.amount_fen is None or 0 <= checked.amount_fen <= cases.MAX_AMOUNT_FEN
        tally["record"] += 1


@SHARED
@given(raw=case_rows())
def test_a_well_formed_case_row_comes_back_as_written(raw, tally):
    tally["tried"] += 1
    number, fen = raw["case_no"], raw["amount_yuan"]
    fen = None if fen is None else int(str(fen).replace(".", ""))
    day = next(datetime.strptime(raw["decided_on"], f).date() for f in cases.DATE_FORMATS
               if _parses(raw["decided_on"], f))
    district = next(d for d in DISTRICTS if d[1] == raw["district"])
    department = next(d for d in DEPARTMENTS if raw["agency"].endswith(d[1]))
    record = cases.check_row(raw, CASE_LOOKUPS)
    assert not isinstance(record, str), record
    assert record.case_no == " ".join(number.split())
    assert record.decided_on == day
    assert record.amount_fen == fen
    assert record.district_code == district[0]
    assert record.department_code == department[0]
    tally["read back"] += 1


@SHARED
@given(raw=st.binary(max_size=300) | st.binary(max_size=300).map(
    lambda tail: b"case_no,agency,domain,case_type,decided_on,district\n" + tail),
       suffix=st.sampled_from([".csv", ".xlsx", ".tsv", ".pdf"]))
def test_any_case_file_is_rows_or_refused(raw, suffix, tmp_path_factory, tally):
    tally["tried"] += 1
    path = tmp_path_factory.mktemp("cases") / ("cases" + suffix)
    path.write_bytes(raw)
    rows: list = []
    refused = refusal(lambda: rows.extend(case_files.read_rows(path)), case_files.CasesFileError)
    if refused is None:
        tally["read"] += 1
        assert all(set(row) <= set(case_files.HEADERS) for _line, row in rows)
    else:
        assert str(refused)
        tally["refused"] += 1


@SHARED
@given(rows=st.lists(st.fixed_dictionaries({k: XLSX_VALUES for k in CASE_FIELDS}),
                     max_size=5))
def test_an_xlsx_of_any_cells_is_read_and_checked_without_a_crash(rows, tmp_path_factory,
                                                                  tally):
    tally["tried"] += 1
    path = tmp_path_factory.mktemp("cases") / "cases.xlsx"
    path.write_bytes(_xlsx([CASE_FIELDS] + [[row[k] for k in CASE_FIELDS] for row in rows]))
    result = cases.ImportResult()
    records = list(cases.check_rows(case_files.read_rows(path), CASE_LOOKUPS, result))
    assert result.rows == len(records) + len(result.errors) <= len(rows)
    tally["records"] += len(records)
    tally["rows refused"] += len(result.errors)
