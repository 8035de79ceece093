"""Identity disclosure: a stated reason, a supervisor's approval, the passphrase, once.

The web server cannot read identities on its own: the private key is stored
only under the custodians' passphrase. A disclosure needs (1) a request with
a reason, (2) approval by a supervisor other than the requester, and (3) the
passphrase typed for this one request. The unlocked key lives only in this
function's frame; every step is audited, and an approval is good for one
reading.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select

from app.models import Clue, ClueEvent, DisclosureRequest, Role, User
from app.models.clue import identity_aad
from app.security import envelope, keystore
from app.services import audit, keys
from app.services.errors import Conflict, DomainError, NotFound, ValidationFailed
from app.services.types import DbSession


class DisclosureRefused(DomainError):
    code = "disclosure_refused"


def request(session: DbSession, clue_id: int, *, user: User, reason: str,
            now: datetime) -> DisclosureRequest:
    clue = session.get(Clue, clue_id)
    if clue is None:
        raise NotFound("no such clue")
    if clue.identity_sealed is None:
        raise Conflict("this clue has no identity (anonymous or purged)")
    if user.role not in (Role.REVIEWER, Role.SUPERVISOR):
        raise DisclosureRefused("role may not request identity")
    if len(reason.strip()) < 5 or len(reason) > 1000:
        raise ValidationFailed({"reason": "required" if len(reason.strip()) < 5 else "too_long"})
    row = DisclosureRequest(clue_id=clue_id, requested_by_id=user.id, reason=reason.strip(),
                            requested_at=now)
    session.add(row)
    session.add(ClueEvent(clue_id=clue_id, at=now, kind="disclosure_requested",
                          actor_user_id=user.id, actor_label=f"user:{user.username}"))
    audit.record(session, actor=f"user:{user.username}", action="identity.request",
                 target=f"clue:{clue.tracking_no}", details={"reason": reason.strip()}, now=now)
    session.commit()
    return row


def decide(session: DbSession, request_id: int, *, supervisor: User, approve: bool,
           now: datetime) -> DisclosureRequest:
    row = session.get(DisclosureRequest, request_id)
    if row is None:
        raise NotFound("no such request")
    if supervisor.role != Role.SUPERVISOR:
        raise DisclosureRefused("only a supervisor decides")
    if row.requested_by_id == supervisor.id:
        raise DisclosureRefused("a request needs a second person's approval")
    if row.decided_at is not None:
        raise Conflict("already decided")
    row.approved, row.decided_by_id, row.decided_at = approve, supervisor.id, now
    clue = session.get(Clue, row.clue_id)
    audit.record(session, actor=f"user:{supervisor.username}",
                 action="identity.approve" if approve else "identity.refuse",
                 target=f"clue:{clue.tracking_no if clue else row.clue_id}",
                 details={"request": row.id}, now=now)
    session.commit()
    return row


def disclose(session: DbSession, request_id: int, *, user: User, passphrase: str,
             now: datetime) -> dict[str, str | None]:
    """Open the identity for an approved, unused request made by ``user``."""
    row = session.get(DisclosureRequest, request_id)
    if row is None:
        raise NotFound("no such request")
    if row.requested_by_id != user.id or not row.approved or row.used_at is not None:
        raise DisclosureRefused("no approved, unused request of yours")
    clue = session.get(Clue, row.clue_id)
    if clue is None or clue.identity_sealed is None:
        raise Conflict("no identity to show")
    kid = envelope.Envelope.loads(clue.identity_sealed).kid
    try:
        private = keys.unlock_private_key(session, kid, passphrase)
    except keystore.PassphraseError:
        audit.record(session, actor=f"user:{user.username}", action="identity.wrong_passphrase",
                     target=f"clue:{clue.tracking_no}", details={"request": row.id}, now=now)
        session.commit()
        raise
    identity = json.loads(envelope.open_sealed(clue.identity_sealed, private,
                                               identity_aad(clue.tracking_no)))
    del private
    row.used_at = now
    session.add(ClueEvent(clue_id=clue.id, at=now, kind="identity_disclosed",
                          actor_user_id=user.id, actor_label=f"user:{user.username}"))
    audit.record(session, actor=f"user:{user.username}", action="identity.disclose",
                 target=f"clue:{clue.tracking_no}", details={"request": row.id}, now=now)
    session.commit()
    return identity


def for_clue(session: DbSession, clue_id: int) -> list[DisclosureRequest]:
    return list(session.scalars(select(DisclosureRequest)
                                .where(DisclosureRequest.clue_id == clue_id)
                                .order_by(DisclosureRequest.id)))
