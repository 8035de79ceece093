"""Who is told what: notifications queued in the outbox, never sent from here.

Each function adds outbox rows to the caller's session and does not commit:
the row is written in the same transaction as the event that causes it, so
a notification exists exactly when its cause does. The rows carry tracking
numbers, categories, colours and due times — never a clue's text, never an
identity, never a receipt. The sending is app/services/outbox.py's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select

from app.models import Clue, Dispute, OutboxMessage, OutboxStatus, Role, User
from app.services.types import DbSession
from app.timeutil import local

REVIEW_ROLES = (Role.REVIEWER, Role.SUPERVISOR)
# Who receives what the insight side produces: reports and warnings (预警抄报).
INSIGHT_ROLES = (Role.SUPERVISOR, Role.ANALYST)
# Statuses whose due time no longer runs: nobody is reminded of them.
SETTLED = ("concluded", "feedback_given", "closed", "merged", "not_accepted")
# The statuses a reporter would want to hear about. Whatever the news, the
# mail says the same thing in the same number of bytes (reporter_news.txt).
REPORTER_NEWS_KINDS = frozenset({"accepted", "not_accepted", "concluded", "feedback",
                                 "question", "reopened"})


def queue_mail(session: DbSession, template: str, now: datetime, *, user_id: int | None = None,
           clue_id: int | None = None, dedupe_key: str | None = None,
           params: dict[str, Any] | None = None) -> OutboxMessage:
    message = OutboxMessage(template=template, params=params or {}, user_id=user_id,
                            clue_id=clue_id, dedupe_key=dedupe_key,
                            status=OutboxStatus.PENDING, attempts=0, created_at=now,
                            next_attempt_at=now)
    session.add(message)
    return message


def _recipients(session: DbSession, roles: tuple[Role, ...],
                department: str | None = None) -> list[User]:
    return list(session.scalars(_recipients_query(roles, department)))


def _recipients_query(roles: tuple[Role, ...], department: str | None = None) -> Any:
    query = select(User).where(User.active.is_(True), User.email.is_not(None),
                               User.role.in_([str(r) for r in roles]))
    if department is not None:
        query = query.where(User.department_code == department)
    return query.order_by(User.id)


def _local_text(moment: datetime | None) -> str:
    return local(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def reviewers(session: DbSession) -> list[int]:
    """The users told of each new clue: active reviewers and supervisors with an address."""
    return list(session.scalars(_recipients_query(REVIEW_ROLES).with_only_columns(User.id)))


def new_clue(session: DbSession, clue: Clue, *, colour: str, now: datetime,
             to: list[int] | None = None) -> None:
    """Every reviewer and supervisor hears of a new clue: number, colour, category.

    ``to``: :func:`reviewers`, when the caller read them earlier (intake reads
    before it writes, so that its transaction holds locks for less time).
    """
    new_clue_for(session, clue_id=clue.id, tracking_no=clue.tracking_no,
                 category=clue.category_code, channel=str(clue.channel), colour=colour,
                 now=now, to=to)


def new_clue_for(session: DbSession, *, clue_id: int, tracking_no: str, category: str,
                 channel: str, colour: str, now: datetime, to: list[int] | None = None) -> None:
    params = {"tracking_no": tracking_no, "colour": colour, "category": category,
              "channel": channel}
    for user_id in reviewers(session) if to is None else to:
        queue_mail(session, "new_clue", now, user_id=user_id, clue_id=clue_id, params=params)


def assigned(session: DbSession, clue: Clue, *, now: datetime) -> None:
    """The handling department's liaisons hear of an assignment (交办) and its due time."""
    if clue.handling_department_code is None:
        return
    params = {"tracking_no": clue.tracking_no, "category": clue.category_code,
              "colour": clue.colour or "", "due_at": _local_text(clue.due_at)}
    for user in _recipients(session, (Role.LIAISON,), clue.handling_department_code):
        queue_mail(session, "assignment", now, user_id=user.id, clue_id=clue.id, params=params)


def reporter_news(session: DbSession, clue: Clue, kind: str, *, now: datetime) -> None:
    """"There is news, look it up with your receipt" to a reporter who asked for it.

    The sealed address is copied onto the outbox row (still sealed) so that
    closing the clue, which erases the address on the clue, cannot swallow
    news queued just before; the worker drops it from the row once sent.
    News that comes while an earlier mail is still waiting joins it.
    """
    if kind not in REPORTER_NEWS_KINDS or not clue.notify_email_sealed:
        return
    waiting = session.scalar(select(exists().where(
        OutboxMessage.clue_id == clue.id, OutboxMessage.template == "reporter_news",
        OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.attempts == 0)))
    if waiting:
        return
    queue_mail(session, "reporter_news", now, clue_id=clue.id,
           params={"tracking_no": clue.tracking_no, "sealed_to": clue.notify_email_sealed})


def _already(session: DbSession, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    return set(session.scalars(select(OutboxMessage.dedupe_key)
                               .where(OutboxMessage.dedupe_key.in_(keys))))


def schedule(session: DbSession, *, now: datetime, remind_before: timedelta,
             digest_hour: int) -> int:
    """Queue reminders, escalations and the supervisors' digest that are due now.

    Idempotent: each has a dedupe key (the clue and its due time, or the user
    and the day), so running it every minute from several workers queues
    each mail once. Returns how many were queued; does not commit.
    """
    candidates: list[tuple[str, str, dict[str, Any], int, int | None]] = []
    due_clues = session.scalars(
        select(Clue).where(Clue.status.not_in(SETTLED), Clue.due_at.is_not(None),
                           Clue.due_at <= now + remind_before).order_by(Clue.due_at)
    ).all()
    supervisors = _recipients(session, (Role.SUPERVISOR,))
    for clue in due_clues:
        due = clue.due_at
        if due is None:
            continue
        stamp = due.strftime("%Y%m%d%H%M")
        params = {"tracking_no": clue.tracking_no, "category": clue.category_code,
                  "colour": clue.colour or "", "due_at": _local_text(due),
                  "department": clue.handling_department_code or ""}
        liaisons = (_recipients(session, (Role.LIAISON,), clue.handling_department_code)
                    if clue.status in ("assigned", "investigating") else [])
        if due > now:
            for user in liaisons:
                candidates.append((f"reminder:{clue.id}:{stamp}:{user.id}", "reminder", params,
                                   user.id, clue.id))
        else:
            # Escalation (超期督办): supervisors, and the department again.
            for user in supervisors + liaisons:
                candidates.append((f"overdue:{clue.id}:{stamp}:{user.id}", "overdue", params,
                                   user.id, clue.id))
    for dispute in session.scalars(select(Dispute).where(Dispute.resolved_at.is_(None),
                                                         Dispute.due_at <= now)):
        tracking = session.scalar(select(Clue.tracking_no).where(Clue.id == dispute.clue_id))
        params = {"tracking_no": tracking or "", "due_at": _local_text(dispute.due_at),
                  "departments": " ".join(dispute.departments)}
        for user in supervisors:
            candidates.append((f"dispute:{dispute.id}:{user.id}", "dispute_overdue", params,
                               user.id, dispute.clue_id))
    today = local(now)
    if today.hour >= digest_hour:
        digest = _digest_params(session, now)
        if digest["items"]:
            day = today.strftime("%Y-%m-%d")
            for user in supervisors:
                candidates.append((f"digest:{day}:{user.id}", "digest", digest, user.id, None))
    seen = _already(session, [c[0] for c in candidates])
    queued = 0
    for key, template, params, user_id, clue_id in candidates:
        if key in seen:
            continue
        queue_mail(session, template, now, user_id=user_id, clue_id=clue_id, dedupe_key=key,
               params=params)
        queued += 1
    return queued


DIGEST_LIMIT = 100


def _digest_params(session: DbSession, now: datetime) -> dict[str, Any]:
    """What is overdue and what falls due by the end of tomorrow (local time)."""
    end = local(now).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=2)
    rows = session.execute(
        select(Clue.tracking_no, Clue.colour, Clue.handling_department_code, Clue.due_at)
        .where(Clue.due_at.is_not(None), Clue.due_at < end,
               Clue.status.not_in(SETTLED))
        .order_by(Clue.due_at).limit(DIGEST_LIMIT + 1)
    ).all()
    items = [{"tracking_no": r.tracking_no, "colour": r.colour or "",
              "department": r.handling_department_code or "", "due_at": _local_text(r.due_at),
              "overdue": r.due_at < now} for r in rows[:DIGEST_LIMIT]]
    return {"items": items, "overdue": sum(1 for i in items if i["overdue"]),
            "due": sum(1 for i in items if not i["overdue"]),
            "more": len(rows) > DIGEST_LIMIT, "day": local(now).strftime("%Y-%m-%d")}


def insight_subscribers(session: DbSession) -> list[User]:
    """Active supervisors and analysts with an address: reports and warnings go to them."""
    return _recipients(session, INSIGHT_ROLES)


def report_ready(session: DbSession, *, kind: str, label: str, now: datetime) -> int:
    """Tell the subscribers a report is ready, once per report (a re-run is not news)."""
    users = insight_subscribers(session)
    keys = {user.id: f"report:{kind}:{label}:{user.id}" for user in users}
    seen = _already(session, list(keys.values()))
    queued = 0
    for user in users:
        if keys[user.id] not in seen:
            queue_mail(session, "report", now, user_id=user.id, dedupe_key=keys[user.id],
                       params={"kind": kind, "label": label})
            queued += 1
    return queued
