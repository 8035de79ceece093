"""Deadlines in Chinese working days (with 调休), and colour suggestions with reasons."""

from datetime import datetime, timedelta

from app.context import intake_keys
from app.extensions import db
from app.models import Channel, Clue
from app.services import colour_rules, intake
from app.services.deadlines import add_workdays, due_for
from app.timeutil import LOCAL, utcnow
from tests.factories import anonymous_payload

LIMITS = {"red_hours": 24, "orange_workdays": 3, "yellow_workdays": 7}


def test_red_is_24_hours():
    start = datetime(2026, 5, 1, 9, 30, tzinfo=LOCAL)
    assert due_for("red", start, **LIMITS).due_at == start + timedelta(hours=24)


def test_national_day_and_make_up_saturday_are_respected():
    # 2026: 10-01…10-07 off; Saturday 10-10 is a make-up working day (调休).
    deadline = add_workdays(datetime(2026, 9, 30, 10, 0, tzinfo=LOCAL), 3)
    assert deadline.due_at == datetime(2026, 10, 10, 23, 59, 59, tzinfo=LOCAL)
    assert deadline.warning is None


def test_unknown_year_counts_weekdays_and_warns():
    deadline = due_for("yellow", datetime(2026, 12, 30, 10, 0, tzinfo=LOCAL), **LIMITS)
    assert deadline.due_at == datetime(2027, 1, 8, 23, 59, 59, tzinfo=LOCAL)
    assert deadline.warning == "holiday_calendar_unknown"


def submit(now=None, **changes):
    return db.session.get(Clue, intake.submit(
        db.session, anonymous_payload(**changes), channel=Channel.WEB, keys=intake_keys(),
        now=now or utcnow(), actor="reporter", require_open_campaign=False).clue_id)


def test_plain_clue_is_yellow_with_a_reason(ready):
    clue = submit(amount_yuan=100, description="检查时要求不一致。")
    suggestion = colour_rules.suggest(db.session, clue, utcnow())
    assert suggestion.colour == "yellow"
    assert suggestion.reasons


def test_large_amount_and_keywords_raise_the_colour(ready):
    clue = submit(amount_yuan=60000, description="被要求停业整改并冻结账户。")
    suggestion = colour_rules.suggest(db.session, clue, utcnow())
    assert suggestion.colour == "red"
    assert "涉及金额5万元以上" in suggestion.reasons
    assert "可能导致停产停业或资金冻结" in suggestion.reasons


def test_repeat_complaints_against_one_agency(ready):
    for _ in range(2):
        submit(agency="某某执法中队", amount_yuan=10, description="态度一般。")
    clue = submit(agency="某某执法中队", amount_yuan=10, description="态度一般。")
    suggestion = colour_rules.suggest(db.session, clue, utcnow())
    assert suggestion.colour == "orange"
    assert "同一单位30日内被反映3次" in suggestion.reasons


def test_a_clue_not_yet_stored_counts_itself_among_the_repeats(ready):
    for _ in range(2):
        submit(agency="某某执法中队", amount_yuan=10, description="态度一般。")
    unsaved = Clue(agency="某某执法中队", amount_fen=1000, category_code="other",
                   description="态度一般。", created_at=utcnow())
    suggestion = colour_rules.suggest(db.session, unsaved, utcnow())
    assert "同一单位30日内被反映3次" in suggestion.reasons


def test_repeats_are_counted_up_to_a_cap(ready, monkeypatch):
    monkeypatch.setattr(colour_rules, "REPEAT_COUNT_CAP", 6)
    for _ in range(9):
        clue = submit(agency="某某执法中队", amount_yuan=10, description="态度一般。")
    suggestion = colour_rules.suggest(db.session, clue, utcnow())
    assert suggestion.colour == "red"
    assert "同一单位30日内被反映6次以上" in suggestion.reasons


def test_homestay_in_golden_week_is_orange(ready):
    when = datetime(2026, 10, 3, 12, 0, tzinfo=LOCAL)
    clue = submit(amount_yuan=10, description="大风停航，民宿拒绝退订。", now=when)
    suggestion = colour_rules.suggest(db.session, clue, when)
    assert suggestion.colour == "orange"
    assert "旅游旺季涉旅问题" in suggestion.reasons
