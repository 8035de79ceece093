"""The audit trail: every security-relevant action, chained by hashes."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.models import AuditEvent
from app.services.types import DbSession
from app.timeutil import utcnow

GENESIS = "0" * 64


def _digest(prev: str, at: datetime, actor: str, action: str, target: str | None,
            details: dict[str, Any]) -> str:
    body = json.dumps(
        [prev, at.isoformat(timespec="microseconds"), actor, action, target, details],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record(session: DbSession, *, actor: str, action: str, target: str | None = None,
           details: dict[str, Any] | None = None, now: datetime | None = None) -> AuditEvent:
    """Append an audit event to the chain; the caller's transaction commits it.

    Details must never hold secrets or identity: they are stored in clear.
    """
    at = now or utcnow()
    prev = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    prev = prev or GENESIS
    details = details or {}
    event = AuditEvent(
        at=at, actor=actor, action=action, target=target, details=details, prev_hash=prev,
        hash=_digest(prev, at, actor, action, target, details),
    )
    session.add(event)
    session.flush()
    return event


def verify_chain(session: DbSession) -> int | None:
    """The id of the first event that breaks the chain, or None if it holds."""
    prev = GENESIS
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        expected = _digest(prev, event.at, event.actor, event.action, event.target, event.details)
        if event.prev_hash != prev or event.hash != expected:
            return event.id
        prev = event.hash
    return None


def record_view(session: DbSession, *, actor: str, target: str, now: datetime) -> None:
    """Reading a clue is an audited act too: who looked at what, and when."""
    record(session, actor=actor, action="clue.viewed", target=target, now=now)
    session.commit()
