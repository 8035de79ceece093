"""Identity disclosure: refused without approval, self-approval or the passphrase."""

import pytest
from sqlalchemy import select

from app.context import intake_keys
from app.extensions import db
from app.models import AuditEvent, Channel
from app.security.keystore import PassphraseError
from app.services import disclosure, intake, people
from app.services.disclosure import DisclosureRefused
from app.timeutil import utcnow
from tests.conftest import PASSPHRASE
from tests.factories import payload


def user(name, role):
    return people.create_user(db.session, username=name, role=role,
                              password="a long enough password", actor="test",
                              department="market" if role == "liaison" else None)[0]


@pytest.fixture
def clue_id(ready):
    return intake.submit(db.session, payload(), channel=Channel.WEB, keys=intake_keys(),
                         now=utcnow(), actor="reporter").clue_id


def test_approved_request_with_passphrase_discloses_once(clue_id):
    reviewer, supervisor = user("rv", "reviewer"), user("sup", "supervisor")
    request = disclosure.request(db.session, clue_id, user=reviewer, reason="核实身份以便回访",
                                 now=utcnow())
    with pytest.raises(DisclosureRefused):
        disclosure.disclose(db.session, request.id, user=reviewer, passphrase=PASSPHRASE,
                            now=utcnow())
    disclosure.decide(db.session, request.id, supervisor=supervisor, approve=True, now=utcnow())
    with pytest.raises(PassphraseError):
        disclosure.disclose(db.session, request.id, user=reviewer, passphrase="wrong words here",
                            now=utcnow())
    identity = disclosure.disclose(db.session, request.id, user=reviewer, passphrase=PASSPHRASE,
                                   now=utcnow())
    assert identity["name"] == "林晓梅"
    with pytest.raises(DisclosureRefused):
        disclosure.disclose(db.session, request.id, user=reviewer, passphrase=PASSPHRASE,
                            now=utcnow())
    actions = list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action.like("identity.%")).order_by(AuditEvent.id)))
    assert actions == ["identity.request", "identity.approve", "identity.wrong_passphrase",
                       "identity.disclose"]


def test_requester_cannot_approve_own_request(clue_id):
    supervisor = user("sup", "supervisor")
    request = disclosure.request(db.session, clue_id, user=supervisor, reason="核实身份信息",
                                 now=utcnow())
    with pytest.raises(DisclosureRefused):
        disclosure.decide(db.session, request.id, supervisor=supervisor, approve=True,
                          now=utcnow())


def test_refused_request_discloses_nothing(clue_id):
    reviewer, supervisor = user("rv", "reviewer"), user("sup", "supervisor")
    request = disclosure.request(db.session, clue_id, user=reviewer, reason="想知道是谁反映的",
                                 now=utcnow())
    disclosure.decide(db.session, request.id, supervisor=supervisor, approve=False, now=utcnow())
    with pytest.raises(DisclosureRefused):
        disclosure.disclose(db.session, request.id, user=reviewer, passphrase=PASSPHRASE,
                            now=utcnow())


@pytest.mark.parametrize("role", ["liaison", "analyst", "admin"])
def test_other_roles_cannot_request(clue_id, role):
    with pytest.raises(DisclosureRefused):
        disclosure.request(db.session, clue_id, user=user("x1", role), reason="我想看看身份",
                           now=utcnow())
