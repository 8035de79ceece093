"""Writing screened hotline orders: rows built in memory, inserted in bulk.

One order from the API and a hundred thousand from an import go through the
same two steps: ``plan`` turns a validated order and its screening into rows
(order, linked clue, dispute), sealing the caller; ``store`` inserts a list of
plans with a few executemany statements (ids of new clues and disputes come
back through RETURNING, so concurrent intake is never disturbed). Nothing
here commits.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from app.extensions import Base
from app.models import ClueStatus
from app.models.clue import identity_aad
from app.security import envelope, receipts
from app.services import audit, counts, rollup, screening
from app.services.bulk_write import insert_many as _insert_many
from app.services.disputes import SETTLE_WITHIN
from app.services.types import DbSession
from app.timeutil import local

if TYPE_CHECKING:
    from app.services.hotline import OrderInput

UNNAMED_AGENCY = "（工单未注明执法主体）"


@dataclass
class Plan:
    order: dict[str, Any]
    clue: dict[str, Any] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)


def caller_aad(order_no: str) -> bytes:
    return f"jidu hotline {order_no} caller".encode()


def clue_row(*, tracking_no: str, category: str, content: str, district: str,
             department: str | None, caller: dict[str, str] | None,
             sealer: envelope.Sealer | None, receipt_key: str, campaign_id: int | None,
             agency: str, now: datetime) -> dict[str, Any]:
    """The clue an enforcement-related order becomes (hotline clues need no open campaign)."""
    row: dict[str, Any] = {
        "tracking_no": tracking_no,
        # The caller is answered by the hotline, not by a receipt; an unused
        # random one keeps the column's promise (unique, never guessable).
        "receipt_hash": receipts.receipt_hash(secrets.token_urlsafe(20), receipt_key),
        "campaign_id": campaign_id, "channel": "hotline", "category_code": category,
        "agency": agency, "department_code": department, "district_code": district,
        "description": content, "real_name": bool(caller), "confidential": True,
        "identity_sealed": None, "status": str(ClueStatus.RECEIVED),
        "created_at": now, "updated_at": now,
    }
    if caller and sealer is not None:
        identity = {"name": caller.get("name", ""), "phone": caller.get("phone", "")}
        row["identity_sealed"] = sealer.seal(json.dumps(identity, ensure_ascii=False).encode(),
                                             identity_aad(tracking_no))
    return row


def plan(item: OrderInput, verdict: screening.Verdict, *, fingerprint_: str,
         sealer: envelope.Sealer | None, receipt_key: str, campaign_id: int | None,
         agency: str, now: datetime, source: str) -> Plan:
    order: dict[str, Any] = {
        "order_no": item.order_no, "received_at": item.received_at, "content": item.content,
        "district_code": item.district, "hotline_category": item.hotline_category,
        "dispatched_to": item.dispatched_to, "disputed": item.disputed,
        "caller_sealed": None, "fingerprint": fingerprint_, "source": source,
        "created_at": now, "enforcement_related": verdict.enforcement_related,
        "category_code": verdict.category, "screening_reasons": verdict.reasons,
        "screening_version": screening.VERSION, "clue_id": None, "dispute_id": None,
    }
    if item.caller and sealer is not None:
        order["caller_sealed"] = sealer.seal(
            json.dumps(item.caller, ensure_ascii=False).encode(), caller_aad(item.order_no))
    result = Plan(order)
    if verdict.enforcement_related and verdict.category:
        result.clue = clue_row(
            tracking_no=receipts.new_tracking_no(), category=verdict.category,
            content=item.content, district=item.district, department=item.dispatched_to,
            caller=item.caller, sealer=sealer, receipt_key=receipt_key,
            campaign_id=campaign_id, agency=agency, now=now)
    return result


def _event(clue_id: int, kind: str, *, now: datetime, actor: str, data: dict[str, Any],
           to_status: str | None = None) -> dict[str, Any]:
    return {"clue_id": clue_id, "at": now, "kind": kind, "actor_user_id": None,
            "actor_label": actor, "from_status": None, "to_status": to_status, "data": data,
            "public_message": None}


def insert_clues(session: DbSession, rows: list[dict[str, Any]], *, now: datetime,
                 actor: str, order_nos: list[str]) -> list[int]:
    """New hotline clues with their 'submitted' events and counts; returns their ids."""
    if not rows:
        return []
    clues = Base.metadata.tables["clues"]
    # Plain executemany, then the ids by tracking number: RETURNING with the
    # rows' order kept costs one statement per row on SQLite.
    _insert_many(session, "clues", rows)
    numbers = [row["tracking_no"] for row in rows]
    by_number = dict(session.execute(select(clues.c.tracking_no, clues.c.id)
                                     .where(clues.c.tracking_no.in_(numbers))).all())
    ids = [by_number[number] for number in numbers]
    _insert_many(session, "clue_events", [
        _event(clue_id, "submitted", now=now, actor=actor, to_status="received",
               data={"channel": "hotline", "order_no": number, "real_name": row["real_name"]})
        for clue_id, row, number in zip(ids, rows, order_nos, strict=True)])
    counts.bump(session, {ClueStatus.RECEIVED: len(ids)})
    rollup.mark(session, {local(row["created_at"]).date() for row in rows})
    return ids


def store(session: DbSession, plans: list[Plan], *, now: datetime, actor: str) -> None:
    """Insert planned orders with their clues and disputes, in a handful of statements."""
    if not plans:
        return
    with_clue = [p for p in plans if p.clue is not None]
    ids = insert_clues(session, [p.clue for p in with_clue if p.clue is not None], now=now,
                       actor=actor, order_nos=[p.order["order_no"] for p in with_clue])
    for item, clue_id in zip(with_clue, ids, strict=True):
        item.order["clue_id"] = clue_id
    disputed = [p for p in plans if p.order["disputed"]]
    if disputed:
        dispute_rows = [{"clue_id": p.order["clue_id"], "opened_at": now,
                         "due_at": now + SETTLE_WITHIN,
                         "departments": [p.order["dispatched_to"]]
                         if p.order["dispatched_to"] else [], "opened_by": actor}
                        for p in disputed]
        table = Base.metadata.tables["disputes"]
        dispute_ids = list(session.scalars(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), dispute_rows))
        events = []
        for item, row, dispute_id in zip(disputed, dispute_rows, dispute_ids, strict=True):
            item.order["dispute_id"] = dispute_id
            if item.order["clue_id"] is not None:
                events.append(_event(item.order["clue_id"], "dispute_opened", now=now,
                                     actor=actor, data={"departments": row["departments"],
                                                        "order_no": item.order["order_no"]}))
        if events:
            _insert_many(session, "clue_events", events)
        # One audit entry per batch names every order whose dispute clock started.
        audit.record(session, actor=actor, action="dispute.open", target="hotline",
                     details={"orders": [p.order["order_no"] for p in disputed]}, now=now)
    _insert_many(session, "hotline_orders", [p.order for p in plans])
