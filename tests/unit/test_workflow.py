"""The review workflow: every legal transition, illegal ones refused, all audited."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.context import intake_keys
from app.extensions import db
from app.models import AuditEvent, Channel, Clue, ClueEvent, ClueStatus
from app.services import audit, intake, lookup, people, workflow
from app.services.errors import ValidationFailed
from app.services.workflow import TRANSITIONS, IllegalTransition
from app.timeutil import utcnow
from tests.factories import anonymous_payload

RECEIPT_KEY = "testing-receipt-key-0123456789abcdef"


@pytest.fixture
def reviewer(app):
    user, _ = people.create_user(db.session, username="reviewer1", role="reviewer",
                                 password="a long enough password", actor="test")
    return user


@pytest.fixture
def submitted(ready):
    return intake.submit(db.session, anonymous_payload(notify_email="me@example.com"),
                         channel=Channel.WEB, keys=intake_keys(), now=utcnow(), actor="reporter")


def walk_to_conclusion(clue_id, reviewer, now):
    workflow.start_triage(db.session, clue_id, actor=reviewer, now=now)
    workflow.set_colour(db.session, clue_id, "orange", reason="涉旅旺季", actor=reviewer, now=now)
    workflow.accept(db.session, clue_id, actor=reviewer, now=now)
    workflow.assign(db.session, clue_id, department="market", due_at=now + timedelta(days=3),
                    reason="", actor=reviewer, now=now)
    workflow.start_investigation(db.session, clue_id, actor=reviewer, now=now)
    workflow.conclude(db.session, clue_id, outcome="partly", summary="部分属实，已责令退款",
                      recovered_fen=150000, actor=reviewer, now=now)


def test_full_path_to_closure_with_feedback_and_rating(submitted, reviewer):
    now = utcnow()
    walk_to_conclusion(submitted.clue_id, reviewer, now)
    message = "经核查部分属实，已督促退还费用。"
    workflow.give_feedback(db.session, submitted.clue_id, message=message, actor=reviewer,
                           now=now)
    view = lookup.by_receipt(db.session, submitted.receipt, receipt_key=RECEIPT_KEY)
    assert view.status == "feedback_given"
    assert [f.message for f in view.feedback] == [message]
    workflow.rate(db.session, submitted.clue_id, rating="satisfied", now=now)
    workflow.close(db.session, submitted.clue_id, actor=reviewer, now=now)
    clue = db.session.get(Clue, submitted.clue_id)
    assert (clue.status, clue.first_satisfaction, clue.recovered_fen) == ("closed", "satisfied",
                                                                            150000)
    assert clue.notify_email_sealed is None
    kinds = list(db.session.scalars(select(ClueEvent.kind).where(
        ClueEvent.clue_id == clue.id).order_by(ClueEvent.id)))
    assert kinds == ["submitted", "triage_started", "colour_set", "accepted", "assigned",
                     "investigating", "concluded", "feedback", "rated", "closed"]
    assert audit.verify_chain(db.session) is None
    audited = set(db.session.scalars(select(AuditEvent.action)))
    assert {"clue.accepted", "clue.assigned", "clue.concluded", "clue.closed"} <= audited


@pytest.mark.parametrize("start", list(ClueStatus))
def test_illegal_transitions_are_refused(submitted, reviewer, start, app):
    clue = db.session.get(Clue, submitted.clue_id)
    clue.status = start
    db.session.commit()
    allowed = TRANSITIONS[start]
    if ClueStatus.ACCEPTED not in allowed:
        with pytest.raises(IllegalTransition):
            workflow.accept(db.session, clue.id, actor=reviewer, now=utcnow())
        db.session.rollback()
    if ClueStatus.CLOSED not in allowed:
        with pytest.raises(IllegalTransition):
            workflow.close(db.session, clue.id, actor=reviewer, now=utcnow())
        db.session.rollback()
    assert db.session.get(Clue, clue.id).status == start


def test_reroute_needs_a_reason_and_keeps_both(submitted, reviewer):
    now = utcnow()
    workflow.start_triage(db.session, submitted.clue_id, actor=reviewer, now=now)
    workflow.accept(db.session, submitted.clue_id, actor=reviewer, now=now)
    workflow.assign(db.session, submitted.clue_id, department="market",
                    due_at=now + timedelta(days=1), reason="", actor=reviewer, now=now)
    with pytest.raises(ValidationFailed):
        workflow.assign(db.session, submitted.clue_id, department="tourism",
                        due_at=now + timedelta(days=1), reason=" ", actor=reviewer, now=now)
    workflow.assign(db.session, submitted.clue_id, department="tourism",
                    due_at=now + timedelta(days=1), reason="民宿属文旅监管", actor=reviewer,
                    now=now)
    events = list(db.session.scalars(select(ClueEvent).where(
        ClueEvent.clue_id == submitted.clue_id, ClueEvent.kind.in_(["assigned", "rerouted"]))
        .order_by(ClueEvent.id)))
    assert [(e.data["from"], e.data["to"]) for e in events] == [(None, "market"),
                                                                ("market", "tourism")]


def test_rating_once_per_conclusion_and_reopen_after_unsatisfied(submitted, reviewer):
    now = utcnow()
    walk_to_conclusion(submitted.clue_id, reviewer, now)
    with pytest.raises(IllegalTransition):
        workflow.rate(db.session, submitted.clue_id, rating="satisfied", now=now)
    workflow.give_feedback(db.session, submitted.clue_id, message="已办结。", actor=reviewer,
                           now=now)
    with pytest.raises(IllegalTransition):
        workflow.reopen(db.session, submitted.clue_id, reason="x", actor=reviewer, now=now)
    workflow.rate(db.session, submitted.clue_id, rating="unsatisfied", now=now)
    with pytest.raises(IllegalTransition):
        workflow.rate(db.session, submitted.clue_id, rating="satisfied", now=now)
    workflow.reopen(db.session, submitted.clue_id, reason="反映人不满意，重新核查", actor=reviewer,
                    now=now)
    workflow.conclude(db.session, submitted.clue_id, outcome="substantiated", summary="属实",
                      actor=reviewer, now=now)
    workflow.give_feedback(db.session, submitted.clue_id, message="重新核查属实。", actor=reviewer,
                           now=now)
    workflow.rate(db.session, submitted.clue_id, rating="satisfied", now=now)
    clue = db.session.get(Clue, submitted.clue_id)
    assert (clue.first_satisfaction, clue.satisfaction) == ("unsatisfied", "satisfied")


def test_not_accepted_with_reason_then_feedback(submitted, reviewer):
    now = utcnow()
    with pytest.raises(ValidationFailed):
        workflow.not_accept(db.session, submitted.clue_id, reason="whim", actor=reviewer, now=now)
    workflow.not_accept(db.session, submitted.clue_id, reason="insufficient", actor=reviewer,
                        now=now)
    workflow.give_feedback(db.session, submitted.clue_id, message="信息不足，欢迎补充后再反映。",
                           actor=reviewer, now=now)
    assert db.session.get(Clue, submitted.clue_id).status == "feedback_given"


def test_merge_keeps_a_trace(submitted, reviewer, ready):
    other = intake.submit(db.session, anonymous_payload(), channel=Channel.WEB,
                          keys=intake_keys(), now=utcnow(), actor="reporter")
    workflow.merge(db.session, other.clue_id, into_id=submitted.clue_id, actor=reviewer,
                   now=utcnow())
    clue = db.session.get(Clue, other.clue_id)
    assert (clue.status, clue.merged_into_id) == ("merged", submitted.clue_id)
    with pytest.raises(IllegalTransition):
        workflow.start_triage(db.session, other.clue_id, actor=reviewer, now=utcnow())
