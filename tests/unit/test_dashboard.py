"""The dashboard's numbers on a hand-built fortnight, and the roll-ups that feed it.

The roll-ups are derived data: after any sequence of workflow steps, what
the incremental refresh left must equal a rebuild from the clues.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from app.context import intake_keys
from app.extensions import db
from app.models import Channel, DailyStat, DirtyDay
from app.services import bulk, dashboard, intake, people, rollup, workflow
from app.timeutil import LOCAL
from tests.factories import anonymous_payload

PERIOD = dashboard.Filters(date(2026, 3, 1), date(2026, 3, 14))


def at(day, hour=10, minute=0):
    return datetime(2026, 3, day, hour, minute, tzinfo=LOCAL)


def clue(when, **changes):
    return intake.submit(db.session, anonymous_payload(**changes), channel=Channel.LETTER,
                         keys=intake_keys(), now=when, actor="user:rev",
                         require_open_campaign=False).clue_id


def handle(clue_id, reviewer, when, *, colour="yellow"):
    workflow.start_triage(db.session, clue_id, actor=reviewer, now=when)
    workflow.set_colour(db.session, clue_id, colour, reason="研判", actor=reviewer, now=when)
    workflow.accept(db.session, clue_id, actor=reviewer, now=when)
    workflow.assign(db.session, clue_id, department="market", due_at=when + timedelta(days=3),
                    reason="", actor=reviewer, now=when)


def finish(clue_id, reviewer, when, rating=None):
    workflow.start_investigation(db.session, clue_id, actor=reviewer, now=when)
    workflow.conclude(db.session, clue_id, outcome="substantiated", summary="核查结论",
                      actor=reviewer, now=when)
    workflow.give_feedback(db.session, clue_id, message="已办理。", actor=reviewer, now=when)
    if rating:
        workflow.rate(db.session, clue_id, rating=rating, now=when)
    workflow.close(db.session, clue_id, actor=reviewer, now=when)


def snapshot():
    return sorted(db.session.execute(select(
        DailyStat.dimension, DailyStat.day, DailyStat.campaign_id, DailyStat.key,
        DailyStat.n)).all())


@pytest.fixture
def reviewer(app, ready):
    user, _ = people.create_user(db.session, username="rev", role="reviewer",
                                 password="a long enough password", actor="test")
    return user


@pytest.fixture
def fortnight(reviewer):
    """Six clues in the first fortnight of March 2026 and one outside it.

    c1 乱罚款, red, received 2 Mar 10:00, closed 2 Mar 15:00 (5 h), satisfied.
    c2 乱罚款, yellow, received 3 Mar, closed 6 Mar 10:00 (72 h), unsatisfied.
    c3 乱收费, orange, received 5 Mar, assigned, due 8 Mar: overdue on 10 Mar.
    c4 乱收费, received 9 Mar, not accepted.
    c5 乱检查, received 14 Mar 23:30 Shanghai (still 14 March), untouched.
    c6 乱罚款, received 6 Mar and merged into c2: never counted.
    c7 received 15 Mar 00:10: outside the period.
    """
    c1 = clue(at(2), category="fines", situations=["fines_discretion"])
    c2 = clue(at(3), category="fines", situations=["fines_discretion"])
    c3 = clue(at(5), category="fees", situations=["fees_raised"])
    c4 = clue(at(9), category="fees", situations=["fees_raised"])
    c5 = clue(at(14, 23, 30), category="inspections", situations=["inspections_disguised"])
    c6 = clue(at(6), category="fines", situations=["fines_discretion"])
    clue(at(15, 0, 10), category="fines", situations=["fines_discretion"])
    handle(c1, reviewer, at(2, 11), colour="red")
    finish(c1, reviewer, at(2, 15), rating="satisfied")
    handle(c2, reviewer, at(3, 11))
    finish(c2, reviewer, at(6, 10), rating="unsatisfied")
    handle(c3, reviewer, at(5, 11), colour="orange")
    workflow.not_accept(db.session, c4, reason="out_of_scope", actor=reviewer, now=at(9, 12))
    workflow.merge(db.session, c6, into_id=c2, actor=reviewer, now=at(6, 12))
    return {"c1": c1, "c2": c2, "c3": c3, "c4": c4, "c5": c5}


def test_every_dashboard_number_on_a_known_fortnight(fortnight):
    board = dashboard.build(db.session, PERIOD, now=at(10, 9))
    assert board.received == 5
    assert board.closed == 2
    assert dict(board.breakdowns["category"]) == {"fines": 2, "fees": 2, "inspections": 1}
    assert dict(board.breakdowns["situation"]) == {
        "fines_discretion": 2, "fees_raised": 2, "inspections_disguised": 1}
    assert dict(board.breakdowns["colour"]) == {"red": 1, "yellow": 1, "orange": 1, "": 2}
    assert dict(board.breakdowns["channel"]) == {"letter": 5}
    assert dict(board.funnel) == {"received": 5, "triaged": 4, "accepted": 3, "assigned": 3,
                                  "concluded": 2, "closed": 2}
    assert board.not_accepted == 1
    # Done: two closed and one not accepted, of five.
    assert board.closure_rate == 60.0
    assert board.satisfaction == 50.0
    assert board.first_satisfaction == 50.0
    # Handling times 5 h and 72 h: the median's bucket is 5–6 h, the 90th's 72–78 h.
    assert board.median_hours == 6.0
    assert board.p90_hours == 78.0
    # c3 was due on 8 March; c5 and the 15 March clue (open now, whatever the
    # period) have no due time yet.
    assert (board.overdue, board.due_soon, board.open_now) == (1, 0, 3)
    received = {day: n for day, n, _ in board.series}
    closed = {day: n for day, _, n in board.series}
    assert len(board.series) == 14
    assert received[date(2026, 3, 14)] == 1
    assert received[date(2026, 3, 6)] == 0
    assert closed == {**{day: 0 for day in received}, date(2026, 3, 2): 1, date(2026, 3, 6): 1}


def test_a_narrower_period_and_a_campaign_filter(fortnight):
    board = dashboard.build(db.session, dashboard.Filters(date(2026, 3, 3), date(2026, 3, 5)),
                            now=at(4))
    assert board.received == 2
    assert board.closed == 0  # c2 closed on the 6th
    # Overdue and open are today's numbers: the period does not narrow them.
    assert (board.overdue, board.open_now) == (0, 3)
    outside = dashboard.build(db.session, dashboard.Filters(PERIOD.start, PERIOD.end, 0),
                              now=at(10))
    assert outside.received == 5  # the test clues belong to no campaign
    assert dashboard.build(db.session, dashboard.Filters(PERIOD.start, PERIOD.end, 999),
                           now=at(10)).received == 0


def test_refresh_keeps_the_roll_ups_equal_to_a_rebuild(fortnight, reviewer):
    assert rollup.refresh(db.session, limit=None) >= 0
    incremental = snapshot()
    assert incremental
    assert not db.session.scalars(select(DirtyDay)).all()
    rollup.rebuild(db.session, today=date(2026, 3, 20))
    assert snapshot() == incremental


def test_reopening_moves_the_closure_out_of_its_day(fortnight, reviewer):
    rollup.refresh(db.session, limit=None)
    workflow.reopen(db.session, fortnight["c2"], reason="不满意", actor=reviewer, now=at(7))
    board = dashboard.build(db.session, PERIOD, now=at(7, 12))
    assert board.closed == 1
    assert dict(board.funnel)["closed"] == 1
    incremental = snapshot()
    rollup.rebuild(db.session, today=date(2026, 3, 20))
    assert snapshot() == incremental


def test_bulk_inserts_mark_their_days(app, ready):
    bulk.bulk_clues(db.session, 300, keys=intake_keys(), now=at(14), days=10, batch=100)
    assert rollup.pending(db.session) > 0
    rollup.refresh(db.session, limit=None)
    incremental = snapshot()
    board = dashboard.build(db.session, dashboard.Filters(date(2026, 3, 1), date(2026, 3, 14)),
                            now=at(14))
    merged = db.session.execute(select(DailyStat.n).where(DailyStat.key == "merged")).all()
    assert not merged
    assert 280 <= board.received <= 300  # merged clues (about 1 in 60) are left out
    rollup.rebuild(db.session, today=date(2026, 3, 14))
    assert snapshot() == incremental


def test_percentiles_from_a_histogram():
    assert dashboard.percentile_hours([], 0.5) is None
    assert dashboard.percentile_hours([(0, 1), (2, 1), (30, 2)], 0.5) == 3.0
    assert dashboard.percentile_hours([(0, 1), (2, 1), (30, 2)], 0.9) == 36.0
    assert dashboard.percentile_hours([(24 * 9, 4)], 0.5) == 24 * 10
    assert [rollup.hours_bucket(h) for h in (0.2, 23.9, 24, 29.9, 30, 167, 168, 200)] == [
        0, 23, 24, 24, 30, 162, 168, 192]


def test_stats_commands_refresh_and_rebuild(fortnight, runner):
    assert rollup.pending(db.session) > 0
    refreshed = runner.invoke(args=["stats", "refresh"])
    assert refreshed.exit_code == 0, refreshed.output
    assert refreshed.output.strip().endswith("days refreshed")
    assert int(refreshed.output.split()[0]) > 0
    assert rollup.pending(db.session) == 0
    before = snapshot()
    rebuilt = runner.invoke(args=["stats", "rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert snapshot() == before


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_refresh_leaves_a_day_stale_while_a_change_to_it_is_being_committed(app, ready):
    """PostgreSQL (SQLite has one writer at a time): a refresh that runs while a
    change to its day is still in flight recounts the day without it, and the
    change's own mark, which the refresh could not see, keeps the day stale
    until a refresh counts it."""
    from sqlalchemy.orm import Session

    day = date(2026, 3, 2)
    rollup.mark(db.session, [day])
    db.session.commit()
    writer = Session(db.engine)
    try:
        rollup.mark(writer, [day])
        writer.flush()
        assert rollup.refresh(db.session) == 1  # the committed mark: recounted
        assert rollup.pending(db.session) == 0  # the other is not visible yet
        writer.commit()
    finally:
        writer.close()
    assert rollup.pending(db.session) == 1
    assert rollup.refresh(db.session) == 1
    assert rollup.pending(db.session) == 0


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_marks_of_one_day_never_wait_for_one_another(app, ready):
    """Two submissions in flight mark the same day: each adds a row of its own,
    so neither waits for a lock the other holds until its commit."""
    from sqlalchemy.orm import Session

    day = date(2026, 3, 2)
    first, second = Session(db.engine), Session(db.engine)
    try:
        rollup.mark(first, [day])
        first.flush()
        second.execute(text("SET LOCAL lock_timeout = '2s'"))
        rollup.mark(second, [day])  # would raise LockNotAvailable if it had to wait
        second.commit()
        first.commit()
    finally:
        first.close()
        second.close()
    assert db.session.scalar(select(func.count()).where(DirtyDay.day == day)) == 2
    assert rollup.pending(db.session) == 1
