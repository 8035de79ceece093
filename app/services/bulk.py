"""Bulk synthetic clues for benchmarks and large demos, through bulk inserts.

A million clues cannot go through the one-by-one intake in minutes, so rows
are built in memory in batches and inserted with executemany. Real-name
clues still get real envelopes (a share of them), receipts real keyed
hashes; the review state is spread over the whole workflow so that queue
filters and reports see realistic data.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text

from app.extensions import Base
from app.models import Category, Clue, Department, clue_situations
from app.models.clue import identity_aad
from app.reference import DISTRICTS
from app.security import envelope, receipts
from app.services import counts
from app.services.demo import AGENCIES, STORIES, THINGS
from app.services.intake import Keys
from app.services.types import DbSession

STATUS_WEIGHTS = [("received", 8), ("triaging", 4), ("accepted", 3), ("assigned", 8),
                  ("investigating", 9), ("concluded", 4), ("feedback_given", 10),
                  ("closed", 45), ("not_accepted", 8), ("merged", 1)]
TRIAGED = {"accepted", "assigned", "investigating", "concluded", "feedback_given", "closed",
           "not_accepted"}
HANDLED = {"assigned", "investigating", "concluded", "feedback_given", "closed"}
CONCLUDED = {"concluded", "feedback_given", "closed"}
CHANNELS = ["web", "qr", "qr", "app", "hotline", "hotline", "letter", "phone", "email"]


def _tracking_no(seed: int, index: int) -> str:
    """Unique per index: an odd multiplier is a bijection modulo 32**8."""
    value = (index * 0x9E3779B1 + seed * 7919) % (32**8)
    chars = []
    for _ in range(8):
        value, digit = divmod(value, 32)
        chars.append(receipts.ALPHABET[digit])
    return f"JD-{''.join(chars[:4])}-{''.join(chars[4:])}"


def bulk_clues(session: DbSession, n: int, *, keys: Keys, now: datetime, days: int = 365,
               seed: int = 7, batch: int = 10_000, real_name_share: float = 0.1) -> int:
    """Insert ``n`` clues (with events and situations); returns how many."""
    base = session.scalar(select(func.max(Clue.id))) or 0
    # A second run continues where the first ended instead of repeating it.
    rng = random.Random(f"{seed}:{base}")
    categories = list(session.scalars(select(Category).order_by(Category.position)))
    departments = list(session.scalars(select(Department.code)))
    statuses = [s for s, w in STATUS_WEIGHTS for _ in range(w)]
    events: list[dict[str, Any]]
    made = 0
    while made < n:
        size = min(batch, n - made)
        clue_rows: list[dict[str, Any]] = []
        plans: list[str] = []
        for _ in range(size):
            category = rng.choice(categories)
            status = rng.choice(statuses)
            created = now - timedelta(seconds=rng.randint(0, days * 86400))
            tracking = _tracking_no(seed, base + made + len(clue_rows))
            amount = rng.choice([None, None, 20000, 50000, 200000, 500000, 2000000, 5000000])
            real_name = rng.random() < real_name_share
            row: dict[str, Any] = {
                "tracking_no": tracking,
                "receipt_hash": receipts.receipt_hash(
                    f"{rng.getrandbits(100):025x}", keys.receipt_key),
                "campaign_id": None, "channel": rng.choice(CHANNELS),
                "source_tag": None, "api_token_id": None, "category_code": category.code,
                "agency": rng.choice(AGENCIES), "department_code": None,
                "district_code": rng.choice(DISTRICTS)[0],
                "occurred_on": (created - timedelta(days=rng.randint(0, 20))).date(),
                "description": STORIES[category.code].format(
                    thing=rng.choice(THINGS), amount=(amount or 0) // 100 or "若干",
                    agency=rng.choice(AGENCIES)),
                "amount_fen": amount, "real_name": real_name, "confidential": True,
                "identity_sealed": None, "notify_email_sealed": None, "status": status,
                "colour": rng.choice(["red", "orange", "yellow", "yellow"])
                if status in TRIAGED else None,
                "colour_reason": "批量演示数据" if status in TRIAGED else None,
                "handling_department_code": rng.choice(departments) if status in HANDLED
                else None,
                "due_at": created + timedelta(days=rng.choice([1, 3, 7, 10]))
                if status in HANDLED - CONCLUDED or status == "triaging" else None,
                "not_accepted_reason": "insufficient" if status == "not_accepted" else None,
                "conclusion": rng.choice(["substantiated", "partly", "unsubstantiated"])
                if status in CONCLUDED else None,
                "recovered_fen": rng.choice([None, 0, 50000, 300000]) if status in CONCLUDED
                else None,
                "merged_into_id": None,
                "first_satisfaction": rng.choice(["satisfied", "satisfied", "basically",
                                                  "unsatisfied"])
                if status in ("feedback_given", "closed") else None,
                "satisfaction": None,
                "closed_at": created + timedelta(days=rng.randint(1, 30))
                if status == "closed" else None,
                "created_at": created, "updated_at": created,
            }
            row["satisfaction"] = row["first_satisfaction"]
            if real_name and keys.identity_public is not None:
                identity = {"name": "演示" + str(rng.randint(1, 999)),
                            "phone": f"139{rng.randint(10_000_000, 99_999_999)}"}
                row["identity_sealed"] = envelope.seal(
                    json.dumps(identity, ensure_ascii=False).encode(), keys.identity_public,
                    identity_aad(tracking))
            clue_rows.append(row)
            plans.append(rng.sample(category.situations, k=1)[0].code)
        # Ids assigned here (one bulk writer at a time) so that plain
        # executemany can be used: RETURNING per batch is far slower.
        first = (session.scalar(select(func.max(Clue.id))) or 0) + 1
        ids = list(range(first, first + len(clue_rows)))
        for clue_id, row in zip(ids, clue_rows, strict=True):
            row["id"] = clue_id
        session.execute(insert(Base.metadata.tables["clues"]), clue_rows)
        session.execute(insert(clue_situations),
                        [{"clue_id": i, "situation_code": s} for i, s in zip(ids, plans,
                                                                             strict=True)])
        events = []
        for clue_id, row in zip(ids, clue_rows, strict=True):
            events.append({"clue_id": clue_id, "at": row["created_at"], "kind": "submitted",
                           "actor_label": "demo-data", "actor_user_id": None,
                           "from_status": None, "to_status": "received",
                           "data": {"channel": row["channel"]}, "public_message": None})
            if row["status"] != "received":
                events.append({"clue_id": clue_id, "at": row["created_at"] + timedelta(hours=2),
                               "kind": "status", "actor_label": "demo-data",
                               "actor_user_id": None, "from_status": "received",
                               "to_status": row["status"], "data": {},
                               "public_message": "经核查已处理，感谢您的反映。"
                               if row["status"] in ("feedback_given", "closed") else None})
        session.execute(insert(Base.metadata.tables["clue_events"]), events)
        per_status: dict[str, int] = {}
        for row in clue_rows:
            per_status[row["status"]] = per_status.get(row["status"], 0) + 1
        counts.bump(session, per_status)
        session.commit()
        made += size
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT setval(pg_get_serial_sequence('clues', 'id'), "
                             "(SELECT max(id) FROM clues))"))
        session.commit()
    return made
