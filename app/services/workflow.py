"""The 即督快响 workflow: legal transitions only, each an event and an audit entry.

received → triaging → accepted | not_accepted → assigned → investigating →
concluded → feedback_given → closed, with re-routing (assigned again),
reopening after an unsatisfied answer, and merging of duplicates.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from app.models import Clue, ClueEvent, ClueStatus, Colour, Department, User
from app.services import attachments, audit, counts, notify
from app.services.errors import DomainError, NotFound, ValidationFailed
from app.services.types import DbSession

S = ClueStatus
TRANSITIONS: dict[ClueStatus, frozenset[ClueStatus]] = {
    S.RECEIVED: frozenset({S.TRIAGING, S.NOT_ACCEPTED, S.MERGED}),
    S.TRIAGING: frozenset({S.ACCEPTED, S.NOT_ACCEPTED, S.MERGED}),
    S.ACCEPTED: frozenset({S.ASSIGNED, S.MERGED}),
    S.ASSIGNED: frozenset({S.ASSIGNED, S.INVESTIGATING}),
    S.INVESTIGATING: frozenset({S.ASSIGNED, S.CONCLUDED}),
    S.CONCLUDED: frozenset({S.FEEDBACK_GIVEN}),
    S.NOT_ACCEPTED: frozenset({S.FEEDBACK_GIVEN, S.CLOSED}),
    S.FEEDBACK_GIVEN: frozenset({S.CLOSED, S.INVESTIGATING}),
    S.CLOSED: frozenset({S.INVESTIGATING}),
    S.MERGED: frozenset(),
}
NOT_ACCEPTED_REASONS = ("out_of_scope", "excluded", "insufficient", "duplicate", "other")
CONCLUSIONS = ("substantiated", "partly", "unsubstantiated")
RATINGS = ("satisfied", "basically", "unsatisfied")


class IllegalTransition(DomainError):
    code = "illegal_transition"

    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"cannot go from {current} to {wanted}")
        self.current = current
        self.wanted = wanted


def _clue(session: DbSession, clue_id: int) -> Clue:
    clue = session.get(Clue, clue_id)
    if clue is None:
        raise NotFound("no such clue")
    return clue


def _move(session: DbSession, clue: Clue, to: ClueStatus | None, *, actor: User | None,
          actor_label: str, kind: str, now: datetime, data: dict[str, Any] | None = None,
          public_message: str | None = None) -> ClueEvent:
    current = ClueStatus(clue.status)
    if to is not None and to not in TRANSITIONS[current]:
        raise IllegalTransition(current, to)
    event = ClueEvent(
        clue_id=clue.id, at=now, kind=kind, actor_user_id=actor.id if actor else None,
        actor_label=actor_label, from_status=current if to else None, to_status=to,
        data=data or {}, public_message=public_message,
    )
    if to is not None:
        if to != current:
            counts.bump(session, {current: -1, to: 1})
        clue.status = to
    clue.updated_at = now
    session.add(event)
    # Free-text notes stay in the clue's history only; the audit log keeps
    # who did what to which clue.
    details = {k: v for k, v in (data or {}).items() if k != "note"}
    audit.record(session, actor=actor_label, action=f"clue.{kind}",
                 target=f"clue:{clue.tracking_no}", details=details, now=now)
    notify.reporter_news(session, clue, kind, now=now)
    return event


def _who(user: User) -> str:
    return f"user:{user.username}"


def start_triage(session: DbSession, clue_id: int, *, actor: User, now: datetime) -> Clue:
    clue = _clue(session, clue_id)
    _move(session, clue, S.TRIAGING, actor=actor, actor_label=_who(actor), kind="triage_started",
          now=now)
    session.commit()
    return clue


def set_colour(session: DbSession, clue_id: int, colour: str, *, reason: str, actor: User,
               now: datetime, due_at: datetime | None = None) -> Clue:
    """Confirm or override the colour (红橙黄); the reason is kept with the event."""
    if colour not in {c.value for c in Colour}:
        raise ValidationFailed({"colour": "choice"})
    if not reason.strip() or len(reason) > 300:
        raise ValidationFailed({"reason": "required" if not reason.strip() else "too_long"})
    clue = _clue(session, clue_id)
    if clue.status in (S.CLOSED, S.MERGED):
        raise IllegalTransition(clue.status, "recolour")
    previous = clue.colour
    clue.colour = Colour(colour)
    clue.colour_reason = reason.strip()
    if due_at is not None:
        clue.due_at = due_at
    _move(session, clue, None, actor=actor, actor_label=_who(actor), kind="colour_set", now=now,
          data={"from": previous, "to": colour, "reason": reason.strip()})
    session.commit()
    return clue


def accept(session: DbSession, clue_id: int, *, actor: User, now: datetime) -> Clue:
    clue = _clue(session, clue_id)
    _move(session, clue, S.ACCEPTED, actor=actor, actor_label=_who(actor), kind="accepted",
          now=now)
    session.commit()
    return clue


def not_accept(session: DbSession, clue_id: int, *, reason: str, actor: User, now: datetime,
               public_message: str | None = None) -> Clue:
    if reason not in NOT_ACCEPTED_REASONS:
        raise ValidationFailed({"reason": "choice"})
    clue = _clue(session, clue_id)
    clue.not_accepted_reason = reason
    _move(session, clue, S.NOT_ACCEPTED, actor=actor, actor_label=_who(actor),
          kind="not_accepted", now=now, data={"reason": reason}, public_message=public_message)
    session.commit()
    return clue


def assign(session: DbSession, clue_id: int, *, department: str, due_at: datetime, reason: str,
           actor: User, now: datetime) -> Clue:
    """Assign (交办) or re-route to a department; both stay in the history."""
    if session.get(Department, department) is None:
        raise ValidationFailed({"department": "choice"})
    if due_at <= now:
        raise ValidationFailed({"due_at": "future_required"})
    clue = _clue(session, clue_id)
    previous = clue.handling_department_code
    if clue.status in (S.ASSIGNED, S.INVESTIGATING) and not reason.strip():
        raise ValidationFailed({"reason": "required"})
    _move(session, clue, S.ASSIGNED, actor=actor, actor_label=_who(actor),
          kind="rerouted" if previous else "assigned", now=now,
          data={"from": previous, "to": department, "due_at": due_at.isoformat(),
                "reason": reason.strip()})
    clue.handling_department_code = department
    clue.due_at = due_at
    notify.assigned(session, clue, now=now)
    session.commit()
    return clue


def start_investigation(session: DbSession, clue_id: int, *, actor: User, now: datetime,
                        note: str = "") -> Clue:
    clue = _clue(session, clue_id)
    _move(session, clue, S.INVESTIGATING, actor=actor, actor_label=_who(actor),
          kind="investigating", now=now, data={"note": note.strip()[:2000]})
    session.commit()
    return clue


def conclude(session: DbSession, clue_id: int, *, outcome: str, summary: str, actor: User,
             now: datetime, recovered_fen: int | None = None) -> Clue:
    if outcome not in CONCLUSIONS:
        raise ValidationFailed({"outcome": "choice"})
    if not summary.strip():
        raise ValidationFailed({"summary": "required"})
    if recovered_fen is not None and recovered_fen < 0:
        raise ValidationFailed({"recovered": "amount"})
    clue = _clue(session, clue_id)
    _move(session, clue, S.CONCLUDED, actor=actor, actor_label=_who(actor), kind="concluded",
          now=now, data={"outcome": outcome, "recovered_fen": recovered_fen,
                         "note": summary.strip()[:4000]})
    clue.conclusion = outcome
    clue.recovered_fen = recovered_fen
    # A new conclusion may be rated again; the first answer ever stays.
    clue.satisfaction = None
    clue.due_at = None
    session.commit()
    return clue


def give_feedback(session: DbSession, clue_id: int, *, message: str, actor: User,
                  now: datetime) -> Clue:
    """Feedback the reporter reads with their receipt; moves a concluded or
    not-accepted clue to feedback_given, and is a plain message otherwise."""
    if not message.strip() or len(message) > 4000:
        raise ValidationFailed({"message": "required" if not message.strip() else "too_long"})
    clue = _clue(session, clue_id)
    to = S.FEEDBACK_GIVEN if clue.status in (S.CONCLUDED, S.NOT_ACCEPTED) else None
    _move(session, clue, to, actor=actor, actor_label=_who(actor), kind="feedback", now=now,
          public_message=message.strip())
    session.commit()
    return clue


def close(session: DbSession, clue_id: int, *, actor: User, now: datetime) -> Clue:
    clue = _clue(session, clue_id)
    _move(session, clue, S.CLOSED, actor=actor, actor_label=_who(actor), kind="closed", now=now)
    clue.closed_at = now
    clue.due_at = None
    # The notify-me address is kept only while the clue is open (form promise).
    clue.notify_email_sealed = None
    session.commit()
    return clue


def rate(session: DbSession, clue_id: int, *, rating: str, now: datetime,
         actor_label: str = "reporter") -> Clue:
    """The reporter's 满意/基本满意/不满意, once per conclusion (or the hotline's 回访)."""
    if rating not in RATINGS:
        raise ValidationFailed({"rating": "choice"})
    clue = _clue(session, clue_id)
    if clue.status not in (S.FEEDBACK_GIVEN, S.CLOSED) or clue.conclusion is None:
        raise IllegalTransition(clue.status, "rated")
    if clue.satisfaction is not None:
        raise IllegalTransition(clue.status, "rated_again")
    clue.satisfaction = rating
    if clue.first_satisfaction is None:
        clue.first_satisfaction = rating
    _move(session, clue, None, actor=None, actor_label=actor_label, kind="rated", now=now,
          data={"rating": rating})
    session.commit()
    return clue


def reopen(session: DbSession, clue_id: int, *, reason: str, actor: User, now: datetime) -> Clue:
    """A supervisor reopens a clue the reporter was not satisfied with."""
    if not reason.strip():
        raise ValidationFailed({"reason": "required"})
    clue = _clue(session, clue_id)
    if clue.satisfaction != "unsatisfied":
        raise IllegalTransition(clue.status, "reopen_without_unsatisfied")
    _move(session, clue, S.INVESTIGATING, actor=actor, actor_label=_who(actor), kind="reopened",
          now=now, data={"reason": reason.strip()})
    clue.closed_at = None
    session.commit()
    return clue


def merge(session: DbSession, clue_id: int, *, into_id: int, actor: User, now: datetime) -> Clue:
    if clue_id == into_id:
        raise ValidationFailed({"into": "self"})
    clue, target = _clue(session, clue_id), _clue(session, into_id)
    if target.status == S.MERGED:
        raise ValidationFailed({"into": "merged"})
    _move(session, clue, S.MERGED, actor=actor, actor_label=_who(actor), kind="merged", now=now,
          data={"into": target.tracking_no})
    clue.merged_into_id = target.id
    session.commit()
    return clue


def add_progress(session: DbSession, clue_id: int, *, note: str, actor: User,
                 now: datetime) -> Clue:
    """A liaison's (or reviewer's) progress note on an assigned clue (督办进展)."""
    if not note.strip() or len(note) > 4000:
        raise ValidationFailed({"note": "required" if not note.strip() else "too_long"})
    clue = _clue(session, clue_id)
    if clue.status not in (S.ASSIGNED, S.INVESTIGATING):
        raise IllegalTransition(clue.status, "progress")
    _move(session, clue, None, actor=actor, actor_label=_who(actor), kind="progress", now=now,
          data={"note": note.strip()})
    session.commit()
    return clue


def add_consultation(session: DbSession, clue_id: int, *, participants: str, note: str,
                     actor: User, now: datetime) -> Clue:
    """Joint review (会商) notes, with who took part."""
    errors = {}
    if not participants.strip() or len(participants) > 500:
        errors["participants"] = "required" if not participants.strip() else "too_long"
    if not note.strip() or len(note) > 4000:
        errors["note"] = "required" if not note.strip() else "too_long"
    if errors:
        raise ValidationFailed(errors)
    clue = _clue(session, clue_id)
    _move(session, clue, None, actor=actor, actor_label=_who(actor), kind="consultation",
          now=now, data={"participants": participants.strip(), "note": note.strip()})
    session.commit()
    return clue


def ask_reporter(session: DbSession, clue_id: int, *, question: str, actor: User,
                 now: datetime) -> Clue:
    """Ask the reporter for more information; they read and answer it at /status."""
    if not question.strip() or len(question) > 2000:
        raise ValidationFailed({"question": "required" if not question.strip() else "too_long"})
    clue = _clue(session, clue_id)
    if clue.status in (S.CLOSED, S.MERGED):
        raise IllegalTransition(clue.status, "question")
    _move(session, clue, None, actor=actor, actor_label=_who(actor), kind="question", now=now,
          public_message=question.strip(), data={"awaiting_reply": True})
    session.commit()
    return clue


def reporter_reply(session: DbSession, clue_id: int, *, text: str, now: datetime,
                   uploads: Sequence[attachments.Upload] = (),
                   policy: attachments.Policy | None = None) -> Clue:
    """The reporter's answer to a question, given with their receipt, and any files."""
    if not text.strip() or len(text) > 4000:
        raise ValidationFailed({"reply": "required" if not text.strip() else "too_long"})
    clue = _clue(session, clue_id)
    if clue.status in (S.CLOSED, S.MERGED):
        raise IllegalTransition(clue.status, "reply")
    if uploads and policy is None:
        raise ValueError("attachments need a policy")
    prepared = attachments.prepare(uploads, policy=policy) if uploads and policy else []
    data: dict[str, Any] = {"note": text.strip()}
    if prepared:
        data["attachments"] = len(prepared)
    try:
        event = _move(session, clue, None, actor=None, actor_label="reporter",
                      kind="reporter_reply", now=now, data=data)
        if prepared and policy is not None and policy.public_key is not None:
            session.flush()
            attachments.record(session, clue, prepared, public_key=policy.public_key,
                               actor="reporter", now=now, event_id=event.id)
        session.commit()
    except BaseException:
        attachments.discard(prepared)
        raise
    return clue
