"""Bulk synthetic data: the counts add up, runs continue, real envelopes for real names."""

import json

from sqlalchemy import func, select

from app.context import intake_keys
from app.extensions import db
from app.models import Clue, ClueEvent, clue_situations
from app.models.clue import identity_aad
from app.security import envelope
from app.services import bulk, keys, queue
from app.timeutil import utcnow
from tests.conftest import PASSPHRASE


def test_bulk_insert_twice_and_everything_is_consistent(identity_key):
    assert bulk.bulk_clues(db.session, 1200, keys=intake_keys(), now=utcnow(), batch=500) == 1200
    bulk.bulk_clues(db.session, 300, keys=intake_keys(), now=utcnow(), batch=500)
    count = db.session.scalar(select(func.count(Clue.id)))
    assert count == 1500
    assert db.session.scalar(select(func.count()).select_from(clue_situations)) == 1500
    assert db.session.scalar(select(func.count(ClueEvent.id)).where(
        ClueEvent.kind == "submitted")) == 1500
    assert len(set(db.session.scalars(select(Clue.tracking_no)))) == 1500
    sealed = db.session.scalar(select(Clue).where(Clue.identity_sealed.is_not(None)))
    private = keys.unlock_private_key(db.session, identity_key, PASSPHRASE)
    identity = json.loads(envelope.open_sealed(sealed.identity_sealed, private,
                                               identity_aad(sealed.tracking_no)))
    assert identity["phone"].startswith("139")
    page = queue.list_clues(db.session, queue.Filters(status="closed"), now=utcnow())
    assert sum(page.counts.values()) == 1500
    assert all(c.status == "closed" for c in page.clues)
