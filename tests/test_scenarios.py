"""Scenarios (场景): the file and its checks, the theme × month table, the page, theme warnings.

The numbers are worked out by hand from tests/scenario_data.py:

clue  month  in scope  themes         why
c1    Jan    yes       refund         退款
c2    Jan    yes       price          situation fines_discretion, and 价格
c3    Jan    yes       safety         category inspections (the theme has no text rule)
c4    Jan    yes       refund, price, rental  退款; fees and 价格; agency 派出所
c5    Jan    no        —              no 民宿/酒店/airbnb, agency without 旅馆业
c6    Jan    yes       refund         in scope by its agency (旅馆业)
c7    Feb    —         —              merged: left out
c8    Feb    yes       —              no theme's words
c9    Feb    yes       —              价格, but category quality and no listed situation
c10   Feb    yes       safety, rental
c11   Mar    yes       price          23:30 on 31 March, Shanghai time
c12   Apr    —         —              00:30 on 1 April in Shanghai (still 31 March in UTC)
c13   Dec    —         —              before the period
c14   Mar    yes       refund         "AirBnB" matches "airbnb": Latin case ignored
c15   Mar    yes       —              "满100元" is not "满100%": % is no wildcard

Cases: refund (旅游市场) Jan 1, Mar 1; price (department market and 价格 or
价格监督检查) Jan 1, Mar 1 — the February 价格 case has no department; rental
(派出所) Feb 1; safety has no case rule.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import delete, select

from app.context import scenario_set
from app.extensions import db
from app.models import ClueStatus, DailyStat, EarlyWarning, OutboxMessage
from app.services import outbox, people, rollup, scenario_table, theme_rollup, warnings
from app.services.scenario_config import Codes, ScenarioError, load, parse
from app.timeutil import LOCAL
from tests import scenario_data
from tests.scenario_data import END, FILE_DATA, SCENARIO, START, THEMES, add_clue, sample

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "a long enough password"


@pytest.fixture
def scenario_file(app, tmp_path):
    """The test scenario as the configured file, for this test only."""
    saved = app.config["JIDU_SCENARIOS_FILE"]
    app.config["JIDU_SCENARIOS_FILE"] = scenario_data.write_file(tmp_path)
    yield app.config["JIDU_SCENARIOS_FILE"]
    app.config["JIDU_SCENARIOS_FILE"] = saved


def the_scenario():
    return parse(FILE_DATA).get("test_hotel")


def by_theme(result):
    return {line.theme.code: line for line in result.themes}


# --- the table ---------------------------------------------------------------

def test_complaints_per_theme_and_month(app):
    sample()
    result = scenario_table.table(db.session, the_scenario(), start=START, end=END)
    assert result.months == ["2026-01", "2026-02", "2026-03"]
    lines = by_theme(result)
    assert {code: [c.complaints for c in lines[code].months] for code in THEMES} == {
        "refund": [3, 0, 1], "price": [2, 0, 1], "safety": [1, 1, 0], "rental": [1, 1, 0]}
    assert {code: lines[code].total.complaints for code in THEMES} == {
        "refund": 4, "price": 3, "safety": 2, "rental": 2}
    assert [c.complaints for c in result.any_theme.months] == [5, 1, 2]
    assert result.any_theme.total.complaints == 8
    assert (result.in_scope, result.in_scope_total) == ([5, 3, 3], 11)


def test_cases_per_theme_and_month_and_the_ratio(app):
    sample()
    lines = by_theme(scenario_table.table(db.session, the_scenario(), start=START, end=END))
    assert {code: [c.cases for c in lines[code].months] for code in THEMES} == {
        "refund": [1, 0, 1], "price": [1, 0, 1], "safety": [None, None, None],
        "rental": [0, 1, 0]}
    assert [c.per_100 for c in lines["refund"].months] == [300.0, None, 100.0]
    assert (lines["refund"].total.cases, lines["refund"].total.per_100) == (2, 200.0)
    assert (lines["price"].total.cases, lines["price"].total.per_100) == (2, 150.0)
    assert (lines["safety"].total.cases, lines["safety"].total.per_100) == (None, None)
    assert [c.per_100 for c in lines["rental"].months] == [None, 100.0, None]


def test_any_theme_counts_each_case_once(app):
    sample()
    result = scenario_table.table(db.session, the_scenario(), start=START, end=END)
    assert [c.cases for c in result.any_theme.months] == [2, 1, 2]
    assert result.any_theme.total.cases == 5


def test_top_agencies_with_their_cases(app):
    sample()
    lines = by_theme(scenario_table.table(db.session, the_scenario(), start=START, end=END))
    assert [(a.agency, a.complaints, a.case_agency, a.cases, a.per_100)
            for a in lines["price"].agencies] == [
        ("普陀区市场监督管理局", 2, "普陀区市场监督管理局", 1, 200.0),
        ("沈家门派出所", 1, None, None, None)]
    assert [(a.agency, a.case_agency, a.cases) for a in lines["refund"].agencies][0] == (
        "普陀区文化和广电旅游体育局执法大队", "普陀区文化和广电旅游体育局", 1)
    assert [(a.agency, a.case_agency, a.cases) for a in lines["rental"].agencies] == [
        ("普陀派出所", None, None), ("沈家门派出所", "沈家门派出所", 1)]
    assert all(a.cases is None for a in lines["safety"].agencies)


def test_the_case_scope_narrows_every_theme(app):
    sample()
    data = json.loads(json.dumps(SCENARIO))
    data["case_scope"] = {"departments": ["market"]}
    scenario = parse({"scenarios": [data]}).get("test_hotel")
    lines = by_theme(scenario_table.table(db.session, scenario, start=START, end=END))
    # Only the market's cases remain: refund loses the tourism bureau's January case.
    assert [c.cases for c in lines["refund"].months] == [0, 0, 1]
    assert [c.cases for c in lines["rental"].months] == [0, 0, 0]


def test_an_empty_period_gives_zeros_not_errors(app):
    result = scenario_table.table(db.session, the_scenario(), start=date(2026, 5, 1),
                             end=date(2026, 5, 31))
    assert result.months == ["2026-05"]
    assert [line.total.complaints for line in result.themes] == [0, 0, 0, 0]
    assert result.themes[0].agencies == []


def test_a_part_of_a_month_is_counted_exactly(app):
    sample()
    result = scenario_table.table(db.session, the_scenario(), start=date(2026, 1, 8),
                                  end=date(2026, 2, 28))
    assert [c.complaints for c in by_theme(result)["refund"].months] == [2, 0]  # c4, c6
    assert result.in_scope == [2, 3]


# --- the daily roll-ups -------------------------------------------------------

def theme_rows():
    return sorted(db.session.execute(select(
        DailyStat.dimension, DailyStat.day, DailyStat.campaign_id, DailyStat.key,
        DailyStat.n).where(DailyStat.dimension.in_(theme_rollup.DIMENSIONS))).all())


def complaints(result):
    return {line.theme.code: [c.complaints for c in line.months] for line in result.themes}


def test_the_roll_ups_count_the_configured_themes_as_a_rebuild_does(app, scenario_file):
    clues = sample()
    assert rollup.refresh(db.session, limit=None) > 0
    rows = theme_rows()
    january: dict[str, int] = {}
    for dimension, day, _campaign, key, n in rows:
        if dimension == "theme" and day.month == 1:
            january[key] = january.get(key, 0) + n
    assert january == {"test_hotel:refund": 3, "test_hotel:price": 2, "test_hotel:safety": 1,
                       "test_hotel:rental": 1, "test_hotel:+": 5, "test_hotel:*": 5}
    assert rollup.rebuild(db.session, today=date(2026, 4, 30)) > 0
    assert theme_rows() == rows
    # A change to a clue recounts its day; the page reads the roll-ups alone.
    clues["c1"].status = ClueStatus.MERGED
    db.session.commit()
    result = scenario_table.table(db.session, the_scenario(), start=START, end=END)
    assert complaints(result)["refund"] == [2, 0, 1]
    assert [a.complaints for a in by_theme(result)["refund"].agencies] == [1, 1, 1]
    incremental = theme_rows()
    rollup.rebuild(db.session, today=date(2026, 4, 30))
    assert theme_rows() == incremental


def test_the_page_reads_the_same_numbers_from_the_roll_ups_and_from_the_clues(
        app, scenario_file, monkeypatch):
    sample()
    rollup.refresh_all(db.session)
    stored = scenario_table.table(db.session, the_scenario(), start=START, end=END)
    # Counted from the clues whenever the roll-ups are not of the scenario's rules.
    monkeypatch.setattr(theme_rollup, "version", lambda scenario: "other@rules")
    live = scenario_table.table(db.session, the_scenario(), start=START, end=END)
    for result in (stored, live):
        assert complaints(result) == {"refund": [3, 0, 1], "price": [2, 0, 1],
                                      "safety": [1, 1, 0], "rental": [1, 1, 0]}
        assert (result.in_scope, [c.complaints for c in result.any_theme.months]) == (
            [5, 3, 3], [5, 1, 2])
    assert ([(a.agency, a.complaints) for a in by_theme(stored)["price"].agencies]
            == [(a.agency, a.complaints) for a in by_theme(live)["price"].agencies])


def test_a_changed_scenario_file_recounts_the_theme_rows(app, scenario_file):
    sample()
    rollup.refresh_all(db.session)
    before = {row for row in theme_rows() if row[0] == "theme_ver"}
    assert before
    data = json.loads(json.dumps(FILE_DATA))
    data["scenarios"][0]["themes"][0]["keywords"] = ["退订"]  # refund: no longer 退款
    scenario_data.write_file(scenario_file.parent, data)
    os.utime(scenario_file, ns=(1, 1))  # a new mtime even within the clock's resolution
    changed = scenario_set().get("test_hotel")
    assert rollup.pending(db.session) == 0  # no clue changed: the themes alone are stale
    assert rollup.refresh(db.session, limit=1) == 1  # a day at a time, newest first
    assert rollup.refresh_all(db.session) > 0
    after = theme_rows()
    assert not before & set(after)
    assert not any(key == "test_hotel:refund" for _d, _day, _c, key, _n in after)
    assert rollup.refresh(db.session) == 0
    result = scenario_table.table(db.session, changed, start=START, end=END)
    assert complaints(result)["refund"] == [0, 0, 0]
    assert complaints(result)["price"] == [2, 0, 1]
    rollup.rebuild(db.session, today=date(2026, 4, 30))
    assert theme_rows() == after


def test_a_broken_scenario_file_leaves_no_theme_rows_and_no_error(app, scenario_file):
    sample()
    rollup.refresh_all(db.session)
    assert theme_rows()
    scenario_file.write_text("{", encoding="utf-8")
    rollup.refresh_all(db.session)
    assert theme_rows() == []
    assert rollup.refresh(db.session) == 0


# --- the file ---------------------------------------------------------------

def test_the_shipped_scenario_has_the_four_hotel_themes(app):
    shipped = load(ROOT / "app" / "data" / "scenarios.json")
    scenario = shipped.get("hotel_homestay")
    assert scenario.name == "酒店民宿业执法监督"
    assert [t.name for t in scenario.themes] == ["退订退款纠纷", "价格与虚假宣传", "安全与卫生",
                                                 "网约房管理"]
    assert all(not t.cases.empty for t in scenario.themes)


def test_the_shipped_themes_find_the_seed_stories(app):
    """The stories of the news report and the hotline sample land in the right theme."""
    stories = {
        "refund": "网上提前半个月定的民宿，临出发前碰上了大风，船班取消了，民宿老板不同意退款",
        "price_advertising": "普陀山一家宾馆五一期间房价比平时上涨了四倍，前台标价与网上不一致",
        "safety_hygiene": "民宿老板反映乡里、县文旅局、消防先后四次上门检查消防通道和灭火器",
        "short_term_rental": "网约房备案要求不清楚，派出所要求重复登记",
    }
    for n, text in enumerate(stories.values()):
        add_clue(datetime(2026, 1, 1 + n, 10), text, "某执法单位")
    add_clue(datetime(2026, 1, 9, 10), "冷库安全生产检查太频繁", "某执法单位")  # not lodging
    db.session.commit()
    scenario = load(ROOT / "app" / "data" / "scenarios.json").get("hotel_homestay")
    result = scenario_table.table(db.session, scenario, start=START, end=END)
    found = {line.theme.code: [c.complaints for c in line.months][0] for line in result.themes}
    assert all(found[code] >= 1 for code in stories), found
    assert result.in_scope_total == 4


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t.update(categories=["feez"]),
     "theme test_hotel:price: unknown category code 'feez'"),
    (lambda t: t.update(situations=["nope"]), "theme test_hotel:price: unknown situation code"),
    (lambda t: t.update(keyword=["价格"]), "theme test_hotel:price: unknown key(s) keyword"),
    (lambda t: t["cases"].update(departments=["police"]),
     "theme test_hotel:price: cases: unknown department code 'police'"),
    (lambda t: t.update(categories=[], situations=[], keywords=[], agencies=[]),
     "theme test_hotel:price: needs at least one of"),
    (lambda t: t.update(keywords=["价格", ""]), "theme test_hotel:price: 'keywords' entries"),
    (lambda t: t.update(code="Price!"), "theme 2: 'code' must be"),
    (lambda t: t.update(code="refund"), "scenario test_hotel: theme refund twice"),
])
def test_a_wrong_theme_is_refused_naming_it(app, tmp_path, change, message):
    data = json.loads(json.dumps(FILE_DATA))
    change(data["scenarios"][0]["themes"][1])
    path = scenario_data.write_file(tmp_path, data)
    with pytest.raises(ScenarioError) as caught:
        load(path)
    assert message in caught.value.message
    assert str(path) in caught.value.message


def test_an_unreadable_file_is_refused_naming_it(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"scenarios": [', encoding="utf-8")
    with pytest.raises(ScenarioError, match="broken.json: not valid JSON"):
        load(broken)
    with pytest.raises(ScenarioError, match="missing.json: cannot be read"):
        load(tmp_path / "missing.json")


def test_codes_added_by_an_admin_are_accepted_from_the_database(app):
    data = json.loads(json.dumps(FILE_DATA))
    data["scenarios"][0]["themes"][0]["situations"] = ["fees_new_situation"]
    with pytest.raises(ScenarioError):
        parse(data)
    codes = Codes.from_db(db.session)
    extended = Codes(codes.categories, codes.situations | {"fees_new_situation"},
                     codes.departments)
    assert parse(data, extended).get("test_hotel").themes[0].situations == ("fees_new_situation",)


def test_the_app_reads_the_configured_file_and_rereads_it_when_it_changes(app, scenario_file):
    assert [s.code for s in scenario_set().scenarios] == ["test_hotel"]
    data = json.loads(json.dumps(FILE_DATA))
    data["scenarios"][0]["name"] = "改过的名字"
    scenario_data.write_file(scenario_file.parent, data)
    assert scenario_set().get("test_hotel").name == "改过的名字"
    scenario_file.write_text("[]", encoding="utf-8")
    with pytest.raises(ScenarioError, match="must be a JSON object"):
        scenario_set()


def test_jidu_scenarios_file_overrides_the_shipped_file(tmp_path):
    path = scenario_data.write_file(tmp_path)
    env = {**os.environ, "JIDU_SCENARIOS_FILE": str(path), "JIDU_DOTENV": "",
           "PYTHONPATH": str(ROOT)}
    shown = subprocess.run(
        [sys.executable, "-c", "from config import Config; print(Config.JIDU_SCENARIOS_FILE)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=True)
    assert shown.stdout.strip() == str(path)
    del env["JIDU_SCENARIOS_FILE"]
    shown = subprocess.run(
        [sys.executable, "-c", "from config import Config; print(Config.JIDU_SCENARIOS_FILE)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=True)
    assert shown.stdout.strip() == str(ROOT / "app" / "data" / "scenarios.json")


# --- the pages ----------------------------------------------------------------

def signed_in(app, role):
    _user, secret = people.create_user(
        db.session, username=f"u-{role}", role=role, password=PASSWORD,
        department="market" if role == "liaison" else None, actor="test")
    client = app.test_client()
    page = client.get("/review/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/review/login", data={"username": f"u-{role}", "password": PASSWORD,
                                       "otp": pyotp.TOTP(secret).now(), "csrf_token": token})
    return client


def cells(html, caption_id="by-month"):
    """The scenario table's rows as lists of cell texts (tags stripped)."""
    table = html.split(f'id="{caption_id}"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)
    return [[re.sub(r"<[^>]+>", "", c).strip()
             for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)] for row in rows]


@pytest.mark.parametrize("role", ["supervisor", "analyst"])
def test_the_scenario_page_shows_the_table(app, scenario_file, role):
    sample()
    client = signed_in(app, role)
    listing = client.get("/review/scenarios")
    assert listing.status_code == 200
    assert 'href="/review/scenarios/test_hotel"' in listing.get_data(as_text=True)
    response = client.get("/review/scenarios/test_hotel?from=2026-01&to=2026-03")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    rows = cells(html)
    assert rows[0] == ["专题", "指标", "2026-01", "2026-02", "2026-03", "合计"]
    assert rows[1:4] == [["退款专题", "线索数", "3", "0", "1", "4"],
                         ["执法案件数", "1", "0", "1", "2"],
                         ["每百件案件投诉", "300.0", "—", "100.0", "200.0"]]
    assert rows[7:10] == [["检查专题", "线索数", "1", "1", "0", "2"],
                          ["执法案件数", "—", "—", "—", "—"],
                          ["每百件案件投诉", "—", "—", "—", "—"]]
    assert rows[-1] == ["场景范围内的线索（含未归入专题的）", "5", "3", "3", "11"]
    assert 'scope="rowgroup"' in html
    assert "<caption" in html
    assert "<script" not in html
    assert "style=" not in html
    assert "民宿老板拒绝退款" not in html  # numbers and agencies only, never a clue's text
    queue_link = ('href="/review/?theme=test_hotel:refund&amp;from=2026-01-01&amp;'
                  'to=2026-03-31"')
    assert (queue_link in html) == (role == "supervisor")
    assert "场景分析" in client.get("/review/warnings").get_data(as_text=True)
    english = client.get("/review/scenarios/test_hotel?from=2026-01&to=2026-03&lang=en")
    assert "Test lodging scenario" in english.get_data(as_text=True)


def test_the_page_defaults_to_the_last_twelve_months(app, scenario_file):
    client = signed_in(app, "analyst")
    rows = cells(client.get("/review/scenarios/test_hotel").get_data(as_text=True))
    assert len(rows[0]) == 2 + 12 + 1


@pytest.mark.parametrize("role", ["reviewer", "liaison", "admin"])
def test_the_scenario_pages_are_refused_to_other_roles(app, scenario_file, role):
    client = signed_in(app, role)
    assert client.get("/review/scenarios").status_code == 403
    assert client.get("/review/scenarios/test_hotel").status_code == 403


def test_an_unknown_scenario_is_404_and_a_broken_file_is_explained(app, scenario_file):
    client = signed_in(app, "supervisor")
    assert client.get("/review/scenarios/nope").status_code == 404
    scenario_file.write_text('{"scenarios": [{"code": "x"}]}', encoding="utf-8")
    for url in ("/review/scenarios", "/review/scenarios/x"):
        response = client.get(url)
        assert response.status_code == 200
        assert "场景配置文件有误" in response.get_data(as_text=True)


def test_the_queue_filters_by_theme(app, scenario_file):
    clues = sample()
    client = signed_in(app, "supervisor")
    html = client.get("/review/?theme=test_hotel:refund&from=2026-01-01&to=2026-03-31"
                      ).get_data(as_text=True)
    shown = set(re.findall(r">(SC\d{14})<", html))
    # The page's 4 and the merged c7: the queue lists merged clues too, as it always does.
    assert shown == {clues[k].tracking_no for k in ("c1", "c4", "c6", "c7", "c14")}
    assert "测试住宿场景 · 退款专题" in html
    assert 'name="theme" value="test_hotel:refund"' in html
    gone = client.get("/review/?theme=test_hotel:nope").get_data(as_text=True)
    assert re.findall(r">(SC\d{14})<", gone) == []


# --- early warning ---------------------------------------------------------------

SURGE_DAY = date(2026, 3, 18)  # a Wednesday
NOW = datetime.combine(date(2026, 3, 19), time(15), tzinfo=LOCAL)


def theme_surge():
    """Two refund clues a day (one at each of two agencies and categories, so that no
    other series surges); on SURGE_DAY 20 more, spread over agencies and categories."""
    categories = ["fees", "fines", "inspections", "seizures", "quality"]
    for k in range(45, -2, -1):
        day = SURGE_DAY - timedelta(days=k)
        add_clue(datetime.combine(day, time(9)), "民宿退款纠纷", "甲局", category="fees")
        add_clue(datetime.combine(day, time(11)), "酒店退款纠纷", "乙局", category="fines",
                 district="dinghai")
    for n in range(20):
        add_clue(datetime.combine(SURGE_DAY, time(0, 30 + n)), "民宿不予退款",
                 f"第{n}局", category=categories[n % 5], district=["city", "daishan",
                 "shengsi", "xincheng", "putuoshan"][n % 5])
    db.session.commit()


def test_a_theme_surge_raises_a_theme_warning(app):
    theme_surge()
    themes = parse(FILE_DATA)
    result = warnings.scan(db.session, now=NOW, themes=themes)
    found = [(str(w.dimension), w.key, w.day, w.count, w.expected, w.upper)
             for w in result.new]
    assert found == [("theme", "test_hotel:refund", SURGE_DAY, 22, 2.0, 8)]
    # Without the scenarios, no theme is scanned and nothing else surged.
    db.session.execute(delete(EarlyWarning))
    db.session.commit()
    assert warnings.scan(db.session, now=NOW).new == []


def test_the_theme_warning_shows_its_series_and_the_clues_behind_it(app, scenario_file):
    theme_surge()
    people.create_user(db.session, username="ana", role="analyst", email="ana@bureau.example",
                       password=PASSWORD, actor="test")
    warning = warnings.scan(db.session, now=NOW, themes=scenario_set()).new[0]
    detail = warnings.detail(db.session, warning, scenario_set())
    assert [(d.count, d.expected, d.upper) for d in detail.days[-2:]] == [(2, 2.0, 8),
                                                                          (22, 2.0, 8)]
    assert len(detail.clues) == 22
    assert warnings.detail(db.session, warning).clues == []  # the theme is unknown without
    client = signed_in(app, "supervisor")
    page = client.get(f"/review/warnings/{warning.id}").get_data(as_text=True)
    assert "测试住宿场景 · 退款专题" in page
    assert len(re.findall(r'href="/review/clues/\d+', page)) == 22
    assert 'href="/review/scenarios/test_hotel"' in page
    mail = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.template == "warning")).one()
    assert mail.params["theme"] == "测试住宿场景 · 退款专题"
    body = outbox.render(db.session, mail, notify_key=b"k" * 32,
                         base_url="https://jidu.example").body
    assert "专题: 测试住宿场景 · 退款专题" in body
    assert "民宿不予退款" not in body


def test_the_cli_scans_the_other_series_when_the_scenario_file_is_broken(app, runner,
                                                                         scenario_file):
    scenario_file.write_text("{", encoding="utf-8")
    result = runner.invoke(args=["warnings", "scan"])
    assert result.exit_code == 1
    assert "themes not scanned: scenario file" in result.output
    assert "new warnings" in result.output
