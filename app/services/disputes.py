"""Jurisdiction disputes (职责争议): a 24-hour clock, a legal basis, a designated department."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.models import Clue, ClueEvent, Department, Dispute
from app.services import audit
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.services.types import DbSession

SETTLE_WITHIN = timedelta(hours=24)


def open_for_clue(session: DbSession, clue_id: int, *, departments: list[str], actor: str,
                  now: datetime, actor_user_id: int | None = None) -> Dispute:
    """Open a dispute on a clue; it is due 24 hours from now."""
    dispute = open_dispute(session, clue_id=clue_id, departments=departments, actor=actor,
                           now=now, actor_user_id=actor_user_id)
    session.commit()
    return dispute


def open_dispute(session: DbSession, *, clue_id: int | None, departments: list[str],
                 actor: str, now: datetime, actor_user_id: int | None = None,
                 minimum: int = 2) -> Dispute:
    """Add a dispute due 24 hours from now; does not commit.

    A reviewer names at least two departments. A disputed hotline order may
    arrive naming one or none (the hotline knows only where it was sent);
    the departments are then settled with the outcome.
    """
    codes = list(dict.fromkeys(departments))
    known = set(session.scalars(select(Department.code).where(Department.code.in_(codes))))
    if len(codes) < minimum or set(codes) - known:
        raise ValidationFailed({"departments": "two_departments"})
    clue = None
    if clue_id is not None:
        clue = session.get(Clue, clue_id)
        if clue is None:
            raise NotFound("no such clue")
        if session.scalar(select(Dispute.id).where(Dispute.clue_id == clue_id,
                                                   Dispute.resolved_at.is_(None))):
            raise Conflict("this clue already has an open dispute")
    dispute = Dispute(clue_id=clue_id, opened_at=now, due_at=now + SETTLE_WITHIN,
                      departments=codes, opened_by=actor)
    session.add(dispute)
    if clue is not None:
        session.add(ClueEvent(clue_id=clue.id, at=now, kind="dispute_opened", actor_label=actor,
                              actor_user_id=actor_user_id, data={"departments": codes}))
    session.flush()
    audit.record(session, actor=actor, action="dispute.open",
                 target=f"clue:{clue.tracking_no}" if clue else f"dispute:{dispute.id}",
                 details={"departments": codes}, now=now)
    return dispute


def settle(session: DbSession, dispute_id: int, *, department: str, legal_basis: str,
           actor: str, now: datetime, actor_user_id: int | None = None) -> Dispute:
    """Designate the handling department, with the legal basis for it."""
    dispute = session.get(Dispute, dispute_id)
    if dispute is None:
        raise NotFound("no such dispute")
    if dispute.resolved_at is not None:
        raise Conflict("this dispute is already settled")
    errors = {}
    if session.get(Department, department) is None:
        errors["department"] = "choice"
    if not legal_basis.strip() or len(legal_basis) > 4000:
        errors["legal_basis"] = "required" if not legal_basis.strip() else "too_long"
    if errors:
        raise ValidationFailed(errors)
    dispute.designated_department_code = department
    dispute.legal_basis = legal_basis.strip()
    dispute.resolved_at = now
    dispute.resolved_by = actor
    in_time = dispute.resolved_at <= dispute.due_at
    if dispute.clue_id is not None:
        clue = session.get(Clue, dispute.clue_id)
        session.add(ClueEvent(clue_id=dispute.clue_id, at=now, kind="dispute_settled",
                              actor_label=actor, actor_user_id=actor_user_id,
                              data={"department": department, "in_time": in_time,
                                    "note": legal_basis.strip()}))
        target = f"clue:{clue.tracking_no}" if clue else f"dispute:{dispute.id}"
    else:
        target = f"dispute:{dispute.id}"
    audit.record(session, actor=actor, action="dispute.settle", target=target,
                 details={"department": department, "in_time": in_time}, now=now)
    session.commit()
    return dispute


def for_clue(session: DbSession, clue_id: int) -> list[Dispute]:
    return list(session.scalars(select(Dispute).where(Dispute.clue_id == clue_id)
                                .order_by(Dispute.id)))
