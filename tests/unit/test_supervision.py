"""Progress notes, joint review, questions to the reporter, and likely duplicates."""

import pytest

from app.context import intake_keys
from app.extensions import db
from app.models import Channel, Clue
from app.services import duplicates, intake, lookup, people, workflow
from app.services.errors import ValidationFailed
from app.services.workflow import IllegalTransition
from app.timeutil import utcnow
from tests.factories import anonymous_payload

RECEIPT_KEY = "testing-receipt-key-0123456789abcdef"


@pytest.fixture
def reviewer(app):
    return people.create_user(db.session, username="rv", role="reviewer",
                              password="a long enough password", actor="test")[0]


def submit(**changes):
    return intake.submit(db.session, anonymous_payload(**changes), channel=Channel.WEB,
                         keys=intake_keys(), now=utcnow(), actor="reporter")


def test_question_and_reply_through_the_receipt(ready, reviewer):
    submitted = submit()
    workflow.ask_reporter(db.session, submitted.clue_id, question="请补充处罚决定书编号。",
                          actor=reviewer, now=utcnow())
    view = lookup.by_receipt(db.session, submitted.receipt, receipt_key=RECEIPT_KEY)
    assert view.awaiting_reply
    assert view.feedback[-1].message == "请补充处罚决定书编号。"
    workflow.reporter_reply(db.session, view.clue_id, text="编号：舟普市监罚〔2025〕12号",
                            now=utcnow())
    assert not lookup.by_receipt(db.session, submitted.receipt,
                                 receipt_key=RECEIPT_KEY).awaiting_reply


def test_progress_only_while_assigned(ready, reviewer):
    clue_id = submit().clue_id
    with pytest.raises(IllegalTransition):
        workflow.add_progress(db.session, clue_id, note="已联系企业", actor=reviewer, now=utcnow())
    clue = db.session.get(Clue, clue_id)
    clue.status = "assigned"
    db.session.commit()
    workflow.add_progress(db.session, clue_id, note="已联系企业", actor=reviewer, now=utcnow())
    with pytest.raises(ValidationFailed):
        workflow.add_consultation(db.session, clue_id, participants=" ", note="x",
                                  actor=reviewer, now=utcnow())
    workflow.add_consultation(db.session, clue_id, participants="司法局、市场监管局、文旅局",
                              note="明确由文旅局牵头", actor=reviewer, now=utcnow())
    kinds = [e.kind for e in db.session.get(Clue, clue_id).events]
    assert kinds[-2:] == ["progress", "consultation"]


def test_similar_complaints_against_one_agency_are_suggested(ready):
    agency, story = "沈家门市场监管所", "大风停航无法入住，民宿拒绝退还订金三千元。"
    first = submit(agency=agency, description=story)
    submit(agency=agency, description="检查消防设施时态度粗暴。")
    submit(agency="别的单位", description=story)
    third = submit(agency=agency, description="因大风停航无法入住，民宿拒绝退还订金。")
    found = duplicates.likely_duplicates(db.session, db.session.get(Clue, third.clue_id))
    assert [c.clue.id for c in found] == [first.clue_id]
    assert found[0].score >= duplicates.THRESHOLD
