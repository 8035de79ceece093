"""The mechanism's figures on a hand-built month whose answers were worked out beforehand."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from app.context import intake_keys
from app.extensions import db
from app.models import Channel, EnforcementCase
from app.services import disputes, figures, hotline, intake, keys, people, workflow
from app.timeutil import LOCAL
from tests.api.test_hotline_api import UNRELATED, order
from tests.factories import anonymous_payload

MARCH = figures.Period(date(2026, 3, 1), date(2026, 3, 31))


def at(month, day, hour=10, minute=0):
    return datetime(2026, month, day, hour, minute, tzinfo=LOCAL)


def clue(when):
    return intake.submit(db.session, anonymous_payload(), channel=Channel.LETTER,
                         keys=intake_keys(), now=when, actor="user:rev",
                         require_open_campaign=False).clue_id


def conclude(clue_id, reviewer, when, outcome, recovered_fen=None, *, assign=True):
    if assign:
        workflow.start_triage(db.session, clue_id, actor=reviewer, now=when)
        workflow.accept(db.session, clue_id, actor=reviewer, now=when)
        workflow.assign(db.session, clue_id, department="market", due_at=when + timedelta(days=3),
                        reason="", actor=reviewer, now=when)
        workflow.start_investigation(db.session, clue_id, actor=reviewer, now=when)
    workflow.conclude(db.session, clue_id, outcome=outcome, summary="核查结论",
                      recovered_fen=recovered_fen, actor=reviewer, now=when)
    workflow.give_feedback(db.session, clue_id, message="已办理，特此答复。", actor=reviewer,
                           now=when)


@pytest.fixture
def month(app, ready):
    reviewer, _ = people.create_user(db.session, username="rev", role="reviewer",
                                     password="a long enough password", actor="test")
    supervisor, _ = people.create_user(db.session, username="sup", role="supervisor",
                                       password="a long enough password", actor="test")
    c1, c2, c3, c4 = clue(at(3, 2)), clue(at(3, 5)), clue(at(3, 20)), clue(at(3, 25))
    c5 = clue(at(2, 27))  # received in February, concluded in March
    c6 = clue(at(3, 15))  # merged: never counted
    clue(at(3, 31, 23, 30))  # the last half hour of March, Shanghai time
    clue(at(4, 1, 0, 10))  # ten past midnight: April
    conclude(c1, reviewer, at(3, 10), "substantiated", 150_000)
    workflow.rate(db.session, c1, rating="satisfied", now=at(3, 12))
    workflow.not_accept(db.session, c2, reason="out_of_scope", actor=reviewer, now=at(3, 6),
                        public_message="不属于本次征集范围，已告知反映人。")
    conclude(c4, reviewer, at(3, 28), "unsubstantiated")
    workflow.rate(db.session, c4, rating="unsatisfied", now=at(3, 28, 12))
    workflow.reopen(db.session, c4, reason="反映人不满意", actor=supervisor, now=at(3, 29))
    conclude(c4, reviewer, at(3, 30), "partly", 50_000, assign=False)
    workflow.rate(db.session, c4, rating="basically", now=at(3, 30, 12))
    conclude(c5, reviewer, at(3, 3), "substantiated", 10_000)
    workflow.merge(db.session, c6, into_id=c3, actor=reviewer, now=at(3, 16))
    # Disputes: one settled within 24 h, one late, one from a hotline order left open.
    first = disputes.open_for_clue(db.session, c3, departments=["market", "urban"],
                                   actor="user:rev", now=at(3, 20))
    disputes.settle(db.session, first.id, department="urban", legal_basis="职责清单第3项",
                    actor="user:rev", now=at(3, 21, 9))
    second = disputes.open_for_clue(db.session, c4, departments=["market", "tourism"],
                                    actor="user:rev", now=at(3, 25))
    disputes.settle(db.session, second.id, department="tourism", legal_basis="职责清单第9项",
                    actor="user:rev", now=at(3, 27))
    hotline.receive(db.session, order(content=UNRELATED, disputed=True, caller=None),
                    public_key=keys.active_public_key(db.session), receipt_key="k",
                    now=at(3, 10), actor="api:12345")
    # Enforcement cases: a March penalty and a March inspection (not 查处), a February one.
    for number, kind, decided in (("罚1", "penalty", date(2026, 3, 9)),
                                  ("检1", "inspection", date(2026, 3, 9)),
                                  ("罚0", "penalty", date(2026, 2, 20))):
        db.session.add(EnforcementCase(case_no=number, agency="普陀区市场监督管理局",
                                       district_code="putuo", domain="市场监管",
                                       case_type=kind, decided_on=decided))
    db.session.commit()


def test_each_figure_of_the_month(month):
    values = {f.definition.code: f for f in figures.compute(db.session, MARCH)}
    # Received: c1 c2 c3 c4 and the 23:30 one; not c5 (February), c6 (merged), 00:10 (April).
    assert values["received"].value == 5
    # Done: c1 and c4 (feedback given), c2 (not accepted) — 3 of 5.
    assert (values["closure_rate"].value, values["closure_rate"].numerator) == (60.0, 3)
    # Replied in writing: c1, c2, c4.
    assert values["reply_rate"].value == 60.0
    # Rated now: c1 satisfied, c4 basically satisfied; first answers: satisfied, unsatisfied.
    assert (values["satisfaction"].value, values["satisfaction"].denominator) == (100.0, 2)
    assert values["first_satisfaction"].value == 50.0
    # Disputes opened in March: two on clues and one from the hotline; one in 24 h.
    assert values["disputes"].value == 3
    assert values["disputes_settled_24h"].value == 33.3
    assert values["hard_orders"].value == 1
    # Settled in March: both clue disputes (the hotline's is still open).
    assert values["disputes_settled"].value == 2
    # All five March clues share the test payload's one situation: one item of 3 or more.
    assert values["high_frequency"].value == 1
    # Conclusions made in March: c1 substantiated, c4 partly (latest), c5 substantiated.
    assert values["substantiated"].value == 3
    assert values["recovered"].value == 2100.0
    assert values["cases"].value == 1
    assert values["cases"].previous == 1  # 29 Jan – 28 Feb


def test_against_the_month_before_and_the_year_before(month):
    values = {f.definition.code: f for f in figures.compute(db.session, MARCH)}
    closure = values["closure_rate"]
    # 29 Jan – 28 Feb: c5 alone, concluded: 100 %.
    assert closure.previous == 100.0
    assert closure.change == -40.0
    assert values["received"].previous == 1
    # March 2025: nothing, so no rate to compare with.
    assert closure.year_ago is None
    assert closure.change_year is None
    assert values["received"].year_ago == 0


def test_periods():
    assert MARCH.days == 31
    assert MARCH.previous() == figures.Period(date(2026, 1, 29), date(2026, 2, 28))
    assert figures.Period(date(2028, 2, 29), date(2028, 2, 29)).year_ago() == figures.Period(
        date(2027, 2, 28), date(2027, 2, 28))
    start, end = MARCH.bounds()
    assert (start.isoformat(), end.isoformat()) == ("2026-03-01T00:00:00+08:00",
                                                    "2026-04-01T00:00:00+08:00")


def test_every_figure_has_a_definition_and_a_row(month):
    rows = figures.as_rows(figures.compute(db.session, MARCH))
    assert [r["code"] for r in rows] == [d.code for d in figures.DEFINITIONS]
    assert all(r["definition"] and r["name"] for r in rows)


def test_the_console_page_shows_the_month(month, app):
    from tests.web.test_admin import signed_in

    app.config["WTF_CSRF_ENABLED"] = False
    try:
        analyst = signed_in(app, "analyst", name="ana")
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    page = analyst.get("/review/figures?month=2026-03").get_data(as_text=True)
    assert "办结率" in page
    assert "60.0%" in page
    assert "3 / 5" in page
    assert "-40.0" in page  # 环比, in points
    assert "2,100.00" in page
    bad = analyst.get("/review/figures?month=March").get_data(as_text=True)
    assert "月份格式不正确" in bad
