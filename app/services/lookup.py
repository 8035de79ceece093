"""What a reporter may learn with their receipt, and nothing more."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.models import Clue, ClueEvent, ClueStatus
from app.security import receipts
from app.services.errors import NotFound
from app.services.types import DbSession


@dataclass(frozen=True)
class Feedback:
    at: datetime
    message: str


@dataclass(frozen=True)
class ReporterView:
    tracking_no: str
    status: ClueStatus
    submitted_at: datetime
    category: str
    feedback: list[Feedback]
    # A reviewer's question awaits the reporter's answer.
    awaiting_reply: bool = False
    # The clue is concluded, fed back and not yet rated for this conclusion.
    can_rate: bool = False
    # For the doors only (to act on the clue); never shown to the reporter.
    clue_id: int = 0


def by_receipt(session: DbSession, receipt: str, *, receipt_key: str) -> ReporterView:
    """Look a clue up by receipt. Wrong and unknown receipts fail the same way.

    Only the status, submission time and feedback written for the reporter
    are returned: never department, reviewer or internal notes.
    """
    normal = receipts.normalise(receipt)
    # A malformed receipt still costs one keyed hash and one query, so that
    # neither the answer nor its timing tells malformed from unknown.
    digest = receipts.receipt_hash(normal or "-" * receipts.RECEIPT_CHARS, receipt_key)
    clue = session.scalar(select(Clue).where(Clue.receipt_hash == digest))
    if clue is None or normal is None:
        raise NotFound("no clue for that receipt")
    return _view(session, clue)


def for_clue(session: DbSession, clue_id: int) -> ReporterView:
    """The same view for a clue the reporter looked up moments ago (held in the session)."""
    clue = session.get(Clue, clue_id)
    if clue is None:
        raise NotFound("no such clue")
    return _view(session, clue)


def _view(session: DbSession, clue: Clue) -> ReporterView:
    events = list(session.scalars(
        select(ClueEvent).where(ClueEvent.clue_id == clue.id).order_by(ClueEvent.id)
    ))
    feedback = [Feedback(e.at, e.public_message) for e in events if e.public_message]
    awaiting = False
    for event in events:
        if event.kind == "question":
            awaiting = True
        elif event.kind == "reporter_reply":
            awaiting = False
    status = ClueStatus(clue.status)
    can_rate = (status in (ClueStatus.FEEDBACK_GIVEN, ClueStatus.CLOSED)
                and clue.conclusion is not None and clue.satisfaction is None)
    return ReporterView(clue.tracking_no, status, clue.created_at, clue.category_code, feedback,
                        awaiting_reply=awaiting and status not in (ClueStatus.CLOSED,
                                                                   ClueStatus.MERGED),
                        can_rate=can_rate, clue_id=clue.id)
