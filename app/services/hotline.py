"""12345 hotline linkage: work orders in, screened, linked to clues, disputes settled.

An order is received once: the same ``order_no`` sent again returns the same
record (the hotline retries on timeouts), while the same number with any
field different is a conflict. An enforcement-related order becomes a clue
in the review queue (channel ``hotline``, the caller sealed as its
identity); the others are kept as screened out, so that the screening can be
checked and corrected. A disputed order opens a dispute with the 24-hour
clock of the console's disputes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from sqlalchemy import select

from app.models import (
    Category,
    Clue,
    Department,
    Dispute,
    District,
    HardDispatchType,
    HotlineOrder,
)
from app.security import envelope, receipts
from app.services import (
    audit,
    campaigns,
    disputes,
    hotline_store,
    notify,
    screening,
    workflow,
)
from app.services.errors import Conflict, NotConfigured, NotFound, ValidationFailed
from app.services.types import DbSession
from app.timeutil import parse_aware

ORDER_NO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
PHONE = re.compile(r"^\+?[0-9][0-9 -]{4,19}$")
AGENCY = re.compile(r"[\u4e00-\u9fff]{2,16}?(?:执法大队|执法中队|中队|大队|支队|分局|局|所|站)")
FIELDS = ("order_no", "received_at", "content", "district", "hotline_category", "caller",
          "dispatched_to", "disputed")


class OrderConflict(Conflict):
    code = "order_conflict"


@dataclass(frozen=True)
class OrderInput:
    order_no: str
    received_at: datetime
    content: str
    district: str
    hotline_category: str | None
    caller: dict[str, str] | None
    dispatched_to: str | None
    disputed: bool


def _text(raw: Mapping[str, Any], key: str, errors: dict[str, str], *, limit: int,
          required: bool = True) -> str | None:
    value = raw.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors[key] = "required"
        return None
    if not isinstance(value, str) or "\x00" in value:
        # NUL: PostgreSQL cannot store it in text.
        errors[key] = "type"
        return None
    if len(value) > limit:
        errors[key] = "too_long"
        return None
    return value.strip()


def validate(session: DbSession | None, raw: Mapping[str, Any], *,
             districts: set[str] | None = None,
             departments: set[str] | None = None) -> OrderInput:
    """Check an order as the API promises; ``fields`` errors keyed like the JSON.

    Without a session, the known district and department codes must be given.
    """
    errors: dict[str, str] = {}
    unknown = set(raw) - set(FIELDS)
    for key in sorted(unknown):
        errors[key] = "unknown"
    order_no = _text(raw, "order_no", errors, limit=64)
    if order_no and not ORDER_NO.match(order_no):
        errors["order_no"] = "type"
    received_at = None
    received = _text(raw, "received_at", errors, limit=40)
    if received:
        try:
            received_at = parse_aware(received)
        except ValueError:
            errors["received_at"] = "type"
    content = _text(raw, "content", errors, limit=4000)
    if districts is None or departments is None:
        if session is None:
            raise TypeError("validate needs a session or the known codes")
        districts = set(session.scalars(select(District.code)))
        departments = set(session.scalars(select(Department.code)))
    district = _text(raw, "district", errors, limit=32)
    if district and district not in districts:
        errors["district"] = "choice"
    category = _text(raw, "hotline_category", errors, limit=100, required=False)
    dispatched = _text(raw, "dispatched_to", errors, limit=32, required=False)
    if dispatched and dispatched not in departments:
        errors["dispatched_to"] = "choice"
    disputed = raw.get("disputed", False)
    if not isinstance(disputed, bool):
        errors["disputed"] = "type"
    caller = _caller(raw.get("caller"), errors)
    if errors:
        raise ValidationFailed(errors)
    if not (order_no and received_at and content and district):
        raise ValidationFailed({"order": "required"})  # unreachable: each was checked above
    return OrderInput(order_no, received_at, content, district, category, caller, dispatched,
                      bool(disputed))


def _caller(raw: object, errors: dict[str, str]) -> dict[str, str] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        errors["caller"] = "type"
        return None
    caller = {}
    for key, limit in (("name", 50), ("phone", 20)):
        value = raw.get(key)
        if value is None or value == "":
            continue
        if not isinstance(value, str) or len(value) > limit or "\x00" in value:
            too_long = isinstance(value, str) and len(value) > limit
            errors[f"caller.{key}"] = "too_long" if too_long else "type"
            continue
        caller[key] = value.strip()
    for key in set(raw) - {"name", "phone"}:
        errors[f"caller.{key}"] = "unknown"
    if "phone" in caller and not PHONE.match(caller["phone"]):
        errors["caller.phone"] = "type"
    return caller or None


def _mark(version: str, key: str, parts: list[str]) -> str:
    digest = hmac.new(key.encode(), "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()
    return f"{version}${receipts.key_id(key)}${digest}"


def _parts(order: Mapping[str, Any], name: str, phone: str) -> list[str]:
    return [order["order_no"], order["received_at"].isoformat(), order["content"],
            order["district"], order["hotline_category"] or "", name, phone,
            order["dispatched_to"] or "", "1" if order["disputed"] else "0"]


def fingerprint(order: OrderInput, key: str) -> str:
    """Keyed, so that the hash of a caller's phone number cannot be looked up."""
    caller = order.caller or {}
    return _mark("f1", key, _parts(vars(order), caller.get("name", ""),
                                   caller.get("phone", "")))


#: The fingerprint an order keeps once retention destroyed its caller.
RETAINED = "r1"


def retained_fingerprint(order: Mapping[str, Any], key: str) -> str:
    """The order's fingerprint without its caller (keys as in ``OrderInput``).

    Why: with JIDU_RECEIPT_KEY, the full fingerprint would confirm a guess of
    who called long after the caller was destroyed (services/retention.py).
    Without the caller, a resend is still told apart from a changed order by
    everything else it holds.
    """
    return _mark(RETAINED, key, _parts(order, "", ""))


def same_order(stored: str, order: OrderInput, key: str) -> bool:
    """Whether an order as received now is the one stored under ``stored``."""
    expected = (retained_fingerprint(vars(order), key) if stored.startswith(RETAINED + "$")
                else fingerprint(order, key))
    return hmac.compare_digest(stored, expected)


def agency_named(content: str) -> str:
    """The enforcement body an order names, if any (e.g. 朱家尖执法中队)."""
    match = AGENCY.search(content)
    return match.group(0) if match else hotline_store.UNNAMED_AGENCY


def receive(session: DbSession, raw: Mapping[str, Any], *, public_key: X25519PublicKey | None,
            receipt_key: str, now: datetime, actor: str) -> tuple[HotlineOrder, bool]:
    """Store and screen an order; returns it and whether it is new.

    Resending an identical order returns the stored one untouched; the same
    ``order_no`` with different content raises ``OrderConflict``.
    """
    order_input = validate(session, raw)
    mark = fingerprint(order_input, receipt_key)
    existing = session.scalar(select(HotlineOrder)
                              .where(HotlineOrder.order_no == order_input.order_no))
    if existing is not None:
        if not same_order(existing.fingerprint, order_input, receipt_key):
            raise OrderConflict(f"order {order_input.order_no} was received with other content")
        return existing, False
    if public_key is None and order_input.caller:
        raise NotConfigured("no identity keypair: callers cannot be sealed")
    campaign = campaigns.open_campaign(session, now)
    planned = hotline_store.plan(
        order_input, screen(order_input), fingerprint_=mark,
        sealer=envelope.Sealer(public_key) if public_key is not None else None,
        receipt_key=receipt_key, campaign_id=campaign.id if campaign else None,
        agency=agency_named(order_input.content), now=now, source="api")
    hotline_store.store(session, [planned], now=now, actor=actor)
    if planned.clue is not None:
        notify.new_clue_for(session, clue_id=planned.order["clue_id"],
                            tracking_no=planned.clue["tracking_no"],
                            category=planned.clue["category_code"], channel="hotline",
                            colour="yellow", now=now)
    session.commit()
    return get(session, order_input.order_no), True


def screen(item: OrderInput) -> screening.Verdict:
    return screening.screen(item.content, hotline_category=item.hotline_category)


def get(session: DbSession, order_no: str) -> HotlineOrder:
    # No stored number breaks the pattern; checking it first also keeps a NUL
    # in the URL away from PostgreSQL, which refuses it in a query (a 500).
    if not ORDER_NO.fullmatch(order_no):
        raise NotFound("no such order")
    order = session.scalar(select(HotlineOrder).where(HotlineOrder.order_no == order_no))
    if order is None:
        raise NotFound("no such order")
    return order


def mark_disputed(session: DbSession, order_id: int, *, departments: list[str], actor: str,
                  now: datetime) -> HotlineOrder:
    """A reviewer marks an order disputed: the 24-hour clock starts now."""
    order = session.get(HotlineOrder, order_id)
    if order is None:
        raise NotFound("no such order")
    if order.dispute_id is not None:
        current = session.get(Dispute, order.dispute_id)
        if current is not None and current.resolved_at is None:
            raise Conflict("this order already has an open dispute")
    dispute = disputes.open_dispute(session, clue_id=order.clue_id, departments=departments,
                                    actor=actor, now=now, minimum=1)
    session.flush()
    order.dispute_id = dispute.id
    order.disputed = True
    audit.record(session, actor=actor, action="hotline.dispute",
                 target=f"order:{order.order_no}", details={"departments": departments}, now=now)
    session.commit()
    return order


def review_screening(session: DbSession, order_id: int, *, related: bool, category: str | None,
                     receipt_key: str, actor: str, now: datetime) -> HotlineOrder:
    """A reviewer confirms or corrects the screening; a newly related order becomes a clue."""
    order = session.get(HotlineOrder, order_id)
    if order is None:
        raise NotFound("no such order")
    if related and (category is None or session.get(Category, category) is None):
        raise ValidationFailed({"category": "choice"})
    order.reviewed_related = related
    order.reviewed_category = category if related else None
    order.reviewed_by = actor
    order.reviewed_at = now
    if related and order.clue_id is None and category is not None:
        # The caller stays sealed on the order only: the server cannot open it
        # to seal it again for the clue, so the new clue is anonymous.
        campaign = campaigns.open_campaign(session, now)
        row = hotline_store.clue_row(
            tracking_no=receipts.new_tracking_no(), category=category, content=order.content,
            district=order.district_code, department=order.dispatched_to, caller=None,
            sealer=None, receipt_key=receipt_key,
            campaign_id=campaign.id if campaign else None,
            agency=agency_named(order.content), now=now)
        (clue_id,) = hotline_store.insert_clues(session, [row], now=now, actor=actor,
                                                order_nos=[order.order_no])
        order.clue_id = clue_id
        if order.dispute_id is not None:
            dispute = session.get(Dispute, order.dispute_id)
            if dispute is not None:
                dispute.clue_id = clue_id
        notify.new_clue_for(session, clue_id=clue_id, tracking_no=row["tracking_no"],
                            category=category, channel="hotline", colour="yellow", now=now)
    elif order.clue_id is not None:
        linked = session.get(Clue, order.clue_id)
        if linked is not None and related and category and linked.category_code != category:
            linked.category_code = category
    agreed = related == order.enforcement_related and (
        not related or category == order.category_code)
    audit.record(session, actor=actor, action="hotline.screening_review",
                 target=f"order:{order.order_no}",
                 details={"related": related, "category": category, "agreed": agreed}, now=now)
    session.commit()
    return order


def record_callback(session: DbSession, order_no: str, *, satisfaction: str,
                    now: datetime) -> HotlineOrder:
    """The hotline's 回访 result; it counts as the reporter's answer on the clue."""
    order = get(session, order_no)
    if satisfaction not in workflow.RATINGS:
        raise ValidationFailed({"satisfaction": "choice"})
    if order.clue_id is None:
        raise Conflict("this order has no clue to rate")
    workflow.rate(session, order.clue_id, rating=satisfaction, now=now, actor_label="hotline")
    order.callback_satisfaction = satisfaction
    order.callback_at = now
    session.commit()
    return order


def add_hard_type(session: DbSession, *, title: str, keywords: str, responsibility: str,
                  department: str, actor: str, now: datetime) -> HardDispatchType:
    """An entry of the 交办难 list: an order type hard to dispatch, and what settles it."""
    errors = {}
    if not title.strip():
        errors["title"] = "required"
    if not keywords.split():
        errors["keywords"] = "required"
    if not responsibility.strip():
        errors["responsibility"] = "required"
    if session.get(Department, department) is None:
        errors["department"] = "choice"
    if errors:
        raise ValidationFailed(errors)
    entry = HardDispatchType(title=title.strip(), keywords=" ".join(keywords.split()),
                             responsibility=responsibility.strip(), department_code=department,
                             created_at=now, created_by=actor)
    session.add(entry)
    session.flush()
    audit.record(session, actor=actor, action="hotline.hard_type",
                 target=f"hard_type:{entry.id}", details={"department": department}, now=now)
    session.commit()
    return entry
