"""Jurisdiction disputes: the 24-hour clock, the outcome, in time or late."""

from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from app.context import intake_keys
from app.extensions import db
from app.models import Channel, ClueEvent
from app.services import disputes, intake
from app.services.errors import Conflict, ValidationFailed
from app.timeutil import parse_aware
from tests.factories import anonymous_payload

OPENED = parse_aware("2026-08-01T09:00:00+08:00")


@pytest.fixture
def clue_id(identity_key):
    text = "民宿退订，市场与文旅互相推诿。"
    return intake.submit(db.session, anonymous_payload(description=text),
                         channel=Channel.HOTLINE, keys=intake_keys(), now=OPENED,
                         actor="hotline", require_open_campaign=False).clue_id


def test_settled_within_24_hours(clue_id):
    dispute = disputes.open_for_clue(db.session, clue_id, departments=["market", "tourism"],
                                     actor="user:r", now=OPENED)
    assert dispute.due_at == OPENED + timedelta(hours=24)
    assert not dispute.overdue(OPENED + timedelta(hours=23))
    settled = disputes.settle(db.session, dispute.id, department="tourism",
                              legal_basis="《浙江省民宿管理办法》第十条：民宿经营服务由文旅部门监管。",
                              actor="user:r", now=OPENED + timedelta(hours=20))
    assert settled.settled_in_time() is True
    kinds = list(db.session.scalars(select(ClueEvent.kind).where(
        ClueEvent.clue_id == clue_id).order_by(ClueEvent.id)))
    assert kinds[-2:] == ["dispute_opened", "dispute_settled"]


def test_late_settlement_is_recorded_as_late(clue_id):
    dispute = disputes.open_for_clue(db.session, clue_id, departments=["market", "tourism"],
                                     actor="user:r", now=OPENED)
    with freeze_time(OPENED + timedelta(hours=25)):
        assert dispute.overdue(OPENED + timedelta(hours=25))
    settled = disputes.settle(db.session, dispute.id, department="market", legal_basis="依据",
                              actor="user:r", now=OPENED + timedelta(hours=30))
    assert settled.settled_in_time() is False
    with pytest.raises(Conflict):
        disputes.settle(db.session, dispute.id, department="market", legal_basis="again",
                        actor="user:r", now=OPENED + timedelta(hours=31))


def test_needs_two_known_departments_and_one_open_at_a_time(clue_id):
    with pytest.raises(ValidationFailed):
        disputes.open_for_clue(db.session, clue_id, departments=["market"], actor="r", now=OPENED)
    with pytest.raises(ValidationFailed):
        disputes.open_for_clue(db.session, clue_id, departments=["market", "nasa"], actor="r",
                               now=OPENED)
    disputes.open_for_clue(db.session, clue_id, departments=["market", "urban"], actor="r",
                           now=OPENED)
    with pytest.raises(Conflict):
        disputes.open_for_clue(db.session, clue_id, departments=["market", "urban"], actor="r",
                               now=OPENED)


def test_settling_needs_a_legal_basis(clue_id):
    dispute = disputes.open_for_clue(db.session, clue_id, departments=["market", "tourism"],
                                     actor="r", now=OPENED)
    with pytest.raises(ValidationFailed) as caught:
        disputes.settle(db.session, dispute.id, department="tourism", legal_basis=" ",
                        actor="r", now=OPENED)
    assert caught.value.fields == {"legal_basis": "required"}
