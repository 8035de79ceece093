"""Intake through the service: window, exclusions, validation, sealing, events."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.context import intake_keys, notify_key
from app.extensions import db
from app.models import AuditEvent, Channel, Clue, ClueEvent, SourceTag
from app.models.clue import AppendOnlyError, identity_aad
from app.security import envelope, serverbox
from app.security.keystore import PassphraseError
from app.services import audit, campaigns, intake, keys, lookup
from app.services.errors import CampaignClosed, Excluded, NotFound, ValidationFailed
from app.timeutil import utcnow
from tests.conftest import PASSPHRASE
from tests.factories import NO_EXCLUSIONS, anonymous_payload, payload


def submit(data, *, now=None, channel=Channel.APP, **kwargs):
    return intake.submit(db.session, data, channel=channel, keys=intake_keys(),
                         now=now or utcnow(), actor="test", **kwargs)


def clue_count():
    return db.session.scalar(select(func.count(Clue.id)))


def test_real_name_identity_is_sealed_and_opens_only_with_the_passphrase(ready):
    submitted = submit(payload())
    clue = db.session.get(Clue, submitted.clue_id)
    assert "林晓梅" not in clue.identity_sealed
    private = keys.unlock_private_key(db.session, ready, PASSPHRASE)
    identity = json.loads(envelope.open_sealed(clue.identity_sealed, private,
                                               identity_aad(clue.tracking_no)))
    assert identity["name"] == "林晓梅"
    assert identity["phone"] == "13857001234"
    assert identity["credit_code"] == "91330900MA2A1B2C34"
    with pytest.raises(PassphraseError):
        keys.unlock_private_key(db.session, ready, "not the passphrase")


def test_anonymous_clue_has_no_identity(ready):
    clue = db.session.get(Clue, submit(anonymous_payload()).clue_id)
    assert clue.identity_sealed is None
    assert clue.real_name is False


def test_receipt_is_stored_only_as_keyed_hash_and_looks_up(ready):
    submitted = submit(payload())
    clue = db.session.get(Clue, submitted.clue_id)
    assert submitted.receipt.replace("-", "") not in clue.receipt_hash
    view = lookup.by_receipt(db.session, submitted.receipt.lower().replace("-", " "),
                             receipt_key="testing-receipt-key-0123456789abcdef")
    assert view.tracking_no == submitted.tracking_no
    with pytest.raises(NotFound):
        lookup.by_receipt(db.session, "0000-0000-0000-0000-0000",
                          receipt_key="testing-receipt-key-0123456789abcdef")


def test_submission_writes_the_first_event(ready):
    submitted = submit(payload(), channel=Channel.QR)
    events = db.session.scalars(select(ClueEvent).where(ClueEvent.clue_id == submitted.clue_id))
    [event] = list(events)
    assert (event.kind, event.to_status, event.data["channel"]) == ("submitted", "received", "qr")


def test_events_are_append_only(ready):
    submitted = submit(payload())
    event = db.session.scalar(select(ClueEvent).where(ClueEvent.clue_id == submitted.clue_id))
    event.kind = "edited"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()


def test_closed_window_stores_nothing(identity_key):
    now = utcnow()
    campaigns.create_campaign(db.session, slug="past", title="过去", actor="test",
                              opens_at=now - timedelta(days=30), deadline=now - timedelta(days=1))
    with pytest.raises(CampaignClosed):
        submit(payload())
    assert clue_count() == 0


def test_window_edges(identity_key):
    opens = datetime(2025, 4, 25, 0, 0, tzinfo=UTC)
    deadline = datetime(2025, 9, 30, 16, 0, tzinfo=UTC)  # 2025-10-01 00:00 +08:00
    campaigns.create_campaign(db.session, slug="c2025", title="2025", actor="test",
                              opens_at=opens, deadline=deadline)
    with pytest.raises(CampaignClosed):
        submit(payload(occurred_on="2025-04-01"), now=opens - timedelta(seconds=1))
    submit(payload(occurred_on="2025-04-01"), now=opens)
    submit(payload(occurred_on="2025-04-01"), now=deadline - timedelta(seconds=1))
    with pytest.raises(CampaignClosed):
        submit(payload(occurred_on="2025-04-01"), now=deadline)
    assert clue_count() == 2


def test_manual_entry_is_accepted_outside_any_campaign(identity_key):
    submitted = submit(payload(), channel=Channel.LETTER, require_open_campaign=False)
    assert db.session.get(Clue, submitted.clue_id).campaign_id is None


def test_exclusion_refuses_before_validation_and_stores_nothing(ready):
    with pytest.raises(Excluded) as caught:
        submit({"exclusions": {**NO_EXCLUSIONS, "petition": True, "litigation": True}})
    assert caught.value.rules == ["petition", "litigation"]
    assert clue_count() == 0


def test_window_is_checked_before_exclusions(identity_key):
    with pytest.raises(CampaignClosed):
        submit(payload(exclusions={**NO_EXCLUSIONS, "petition": True}))


@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"category": "bribes"}, "category", "choice"),
    ({"situations": ["fees_raised"]}, "situations", "choice"),
    ({"agency": "局" * 201}, "agency", "too_long"),
    ({"description": "x" * 4001}, "description", "too_long"),
    ({"description": "   "}, "description", "required"),
    ({"district": "hangzhou"}, "district", "choice"),
    ({"occurred_on": "2999-01-01"}, "occurred_on", "future"),
    ({"occurred_on": "yesterday"}, "occurred_on", "date"),
    ({"amount_yuan": -1}, "amount_yuan", "amount"),
    ({"amount_yuan": 1.234}, "amount_yuan", "amount"),
    ({"pledge": False}, "pledge", "pledge"),
    ({"real_name": "yes"}, "real_name", "type"),
    ({"identity": None}, "identity", "required"),
    ({"identity": {"name": "林", "phone": "12345"}}, "identity.phone", "mobile"),
    ({"identity": {"name": "林", "phone": "13857001234", "credit_code": "91350100M000100Y44"}},
     "identity.credit_code", "credit_code"),
    ({"identity": {"name": "林", "phone": "13857001234", "email": "not-mail"}},
     "identity.email", "email"),
    ({"exclusions": {"discipline": False}}, "exclusions.petition", "required"),
    ({"notify_email": "nobody"}, "notify_email", "email"),
    ({"colour": "red"}, "colour", "unknown"),
])
def test_validation_errors_name_the_field(ready, changes, field, code):
    with pytest.raises(ValidationFailed) as caught:
        submit(payload(**changes))
    assert caught.value.fields[field] == code
    assert clue_count() == 0


def test_identity_refused_when_anonymous(ready):
    with pytest.raises(ValidationFailed) as caught:
        submit(payload(real_name=False))
    assert caught.value.fields == {"identity": "anonymous"}


def test_notify_email_is_sealed_under_the_server_key(ready):
    submitted = submit(anonymous_payload(notify_email="Watcher@Example.com"))
    clue = db.session.get(Clue, submitted.clue_id)
    assert "example.com" not in clue.notify_email_sealed.lower()
    assert serverbox.open_box(notify_key(), clue.notify_email_sealed,
                              intake.notify_aad(clue.tracking_no)) == "Watcher@example.com"


def test_source_tags(ready):
    db.session.add(SourceTag(tag="hall-putuo", label="普陀区行政服务中心"))
    db.session.commit()
    known = submit(anonymous_payload(source_tag="hall-putuo"), channel=Channel.QR)
    unknown = submit(anonymous_payload(source_tag="made-up"), channel=Channel.QR)
    assert db.session.get(Clue, known.clue_id).source_tag == "hall-putuo"
    assert db.session.get(Clue, unknown.clue_id).source_tag == "unknown"


def test_amount_is_kept_exactly_in_fen(ready):
    clue = db.session.get(Clue, submit(payload(amount_yuan="1234.56")).clue_id)
    assert clue.amount_fen == 123456


def test_current_campaign_choice(app):
    now = utcnow()
    assert campaigns.current_campaign(db.session, now) is None
    campaigns.create_campaign(db.session, slug="future", title="f", actor="t",
                              opens_at=now + timedelta(days=5), deadline=now + timedelta(days=9))
    assert campaigns.current_campaign(db.session, now).slug == "future"
    campaigns.create_campaign(db.session, slug="old", title="o", actor="t",
                              opens_at=now - timedelta(days=90), deadline=now - timedelta(days=60))
    campaigns.create_campaign(db.session, slug="recent", title="r", actor="t",
                              opens_at=now - timedelta(days=50), deadline=now - timedelta(days=2))
    assert campaigns.current_campaign(db.session, now).slug == "recent"
    campaigns.create_campaign(db.session, slug="a", title="a", actor="t",
                              opens_at=now - timedelta(days=10), deadline=now + timedelta(days=9))
    campaigns.create_campaign(db.session, slug="b", title="b", actor="t",
                              opens_at=now - timedelta(days=3), deadline=now + timedelta(days=1))
    assert campaigns.current_campaign(db.session, now).slug == "b"


def test_audit_chain_detects_tampering(app, identity_key):
    campaigns.create_campaign(db.session, slug="x", title="x", actor="t",
                              opens_at=utcnow(), deadline=utcnow() + timedelta(days=1))
    assert audit.verify_chain(db.session) is None
    actions = list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == ["keys.init", "campaigns.create"]
    first = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id))
    first.details = {"algorithm": "none"}
    db.session.commit()
    assert audit.verify_chain(db.session) == first.id
