"""Bulk synthetic clues for benchmarks and large demos, through bulk inserts.

A million clues cannot go through the one-by-one intake in minutes, so rows
are built in batches and written with one prepared statement per table and
batch (COPY on PostgreSQL: bulk_write.py). Building the rows is pure Python
and takes longer than writing them, so above a few batches it runs in a
pool of processes: on SQLite (one per core) while the main process writes,
as the hotline import does; on PostgreSQL each process writes what it
builds (:func:`_loaded`).

Each clue gets the history its status implies (triage, colour, acceptance,
assignment to a department, investigation, conclusion, feedback, rating,
closure), a real keyed receipt hash and, for real-name clues, a real identity
envelope of its own. Clues are received in id order over ``days`` days, as
real ones are. :func:`fill` adds what surrounds them (bulk_related.py): the
12345 orders behind hotline clues and as many that were not about
enforcement, their disputes, and enforcement cases.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import multiprocessing as mp
import multiprocessing.util as mp_util
import os
import random
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from sqlalchemy import Dialect, Engine, func, select, text
from sqlalchemy.orm import Session

from app import search
from app.models import Category, Clue, Department
from app.models.clue import identity_aad
from app.reference import DISTRICTS
from app.security import envelope, receipts
from app.services import bulk_write, counts, rollup
from app.services.demo import AGENCIES, SOURCE_TAGS, STORIES, THINGS
from app.services.intake import Keys
from app.services.types import DbSession
from app.timeutil import local

STATUS_WEIGHTS = [("received", 8), ("triaging", 4), ("accepted", 3), ("assigned", 8),
                  ("investigating", 9), ("concluded", 4), ("feedback_given", 10),
                  ("closed", 45), ("not_accepted", 8), ("merged", 1)]
TRIAGED = {"accepted", "assigned", "investigating", "concluded", "feedback_given", "closed",
           "not_accepted"}
HANDLED = {"assigned", "investigating", "concluded", "feedback_given", "closed"}
INVESTIGATED = {"investigating", "concluded", "feedback_given", "closed"}
CONCLUDED = {"concluded", "feedback_given", "closed"}
CHANNELS = ["web", "qr", "qr", "app", "hotline", "hotline", "letter", "phone", "email"]
FEEDBACK = "经核查已处理，感谢您的反映。"
NOT_ACCEPTED = "经审核，该线索不属于本次征集范围。"
RATINGS = ["satisfied", "satisfied", "satisfied", "basically", "unsatisfied"]
AMOUNTS = [None, None, 20000, 50000, 200000, 500000, 2000000, 5000000]
# Tables in the order their foreign keys need.
TABLES = ("clues", "clue_situations", "disputes", "hotline_orders", "clue_events",
          "enforcement_cases")
# Below this many clues one process builds and writes (a pool costs a second to start).
POOL_FROM = 40_000

Step = tuple[str, str | None, str | None, dict[str, Any], str | None]


@dataclass
class Filled:
    clues: int = 0
    events: int = 0
    orders: int = 0
    disputes: int = 0
    cases: int = 0

    def add(self, sizes: dict[str, int]) -> None:
        self.clues += sizes.get("clues", 0)
        self.events += sizes.get("clue_events", 0)
        self.orders += sizes.get("hotline_orders", 0)
        self.disputes += sizes.get("disputes", 0)
        self.cases += sizes.get("enforcement_cases", 0)


@dataclass
class Batch:
    """One batch's rows, converted for the database, and what the writer must record."""

    first_id: int
    tables: dict[str, bulk_write.Values]
    per_status: dict[str, int]
    days: set[date] = field(default_factory=set)


def _tracking_no(seed: int, index: int) -> str:
    """Unique per index: an odd multiplier is a bijection modulo 32**8."""
    value = (index * 0x9E3779B1 + seed * 7919) % (32**8)
    chars = []
    for _ in range(8):
        value, digit = divmod(value, 32)
        chars.append(receipts.ALPHABET[digit])
    return f"JD-{''.join(chars[:4])}-{''.join(chars[4:])}"


def receipt_hasher(key: str) -> Callable[[str], str]:
    """receipts.receipt_hash with the key prepared once: the same value, a third of the cost."""
    prefix = receipts.receipt_hash("", key).rsplit("$", 1)[0] + "$"
    keyed = hmac.new(key.encode(), digestmod=hashlib.sha256)

    def hash_(receipt: str) -> str:
        mac = keyed.copy()
        mac.update(receipt.encode())
        return prefix + mac.hexdigest()

    return hash_


def next_id(session: DbSession, table: str) -> int:
    """The first free id; bulk writers assign ids themselves (one writer at a time)."""
    # The table name is one of this module's constants, never input.
    return int(session.scalar(text(f"SELECT coalesce(max(id), 0) + 1 FROM {table}"))  # noqa: S608
               or 1)


def sync_sequence(session: DbSession, table: str) -> None:
    """PostgreSQL: after rows with explicit ids, the sequence continues after them."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                             f"(SELECT coalesce(max(id), 1) FROM {table}))"))


def history(row: dict[str, Any]) -> list[Step]:
    """The steps a clue in ``row['status']`` went through: (kind, from, to, data, message)."""
    status = row["status"]
    steps: list[Step] = [("submitted", None, "received", {"channel": row["channel"]}, None)]
    if status == "merged":
        return [*steps, ("merged", "received", "merged", {}, None)]
    if status == "received":
        return steps
    steps.append(("triage_started", "received", "triaging", {}, None))
    if status == "triaging":
        return steps
    steps.append(("colour_set", None, None, {"from": None, "to": row["colour"],
                                             "reason": row["colour_reason"]}, None))
    if status == "not_accepted":
        return [*steps, ("not_accepted", "triaging", "not_accepted",
                         {"reason": row["not_accepted_reason"]}, NOT_ACCEPTED)]
    steps.append(("accepted", "triaging", "accepted", {}, None))
    if status == "accepted":
        return steps
    steps.append(("assigned", "accepted", "assigned", {
        "from": None, "to": row["handling_department_code"], "due_at": None, "reason": ""},
        None))
    if status in INVESTIGATED:
        steps.append(("investigating", "assigned", "investigating", {"note": ""}, None))
    if status in CONCLUDED:
        steps.append(("concluded", "investigating", "concluded",
                      {"outcome": row["conclusion"], "recovered_fen": row["recovered_fen"]},
                      None))
    if status in ("feedback_given", "closed"):
        steps.append(("feedback", "concluded", "feedback_given", {}, FEEDBACK))
    if status == "closed":
        steps.append(("rated", None, None, {"rating": row["satisfaction"]}, None))
        steps.append(("closed", "feedback_given", "closed", {}, None))
    return steps


@dataclass
class _Maker:
    """Builds one batch of rows; runs in the pool's processes (inherited by fork)."""

    dialect: Dialect
    n: int
    base: int  # clues that existed before: a second run continues the sequence
    ids: dict[str, int]  # the first id of each table
    now: datetime
    days: int
    seed: int
    real_name_share: float
    receipt_key: str
    public_key: bytes | None
    categories: dict[str, list[str]]  # category → its situation codes
    departments: list[str]
    related: bool

    def __call__(self, task: tuple[int, int]) -> Batch:
        from app.services import bulk_related

        start, size = task
        rng = random.Random(f"{self.seed}:{self.base}:{start}")
        randint, choice, random_ = rng.randint, rng.choice, rng.random
        public = X25519PublicKey.from_public_bytes(self.public_key) if self.public_key else None
        sealer = envelope.Sealer(public) if public is not None else None
        hash_receipt = receipt_hasher(self.receipt_key)
        statuses = [s for s, w in STATUS_WEIGHTS for _ in range(w)]
        categories = list(self.categories)
        tags = [tag for tag, _label in SOURCE_TAGS]
        districts = [code for code, *_rest in DISTRICTS]
        oldest = self.now - timedelta(days=self.days)
        step = timedelta(days=self.days) / max(self.n, 1)
        first = self.ids["clues"] + start
        rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
        per_status: dict[str, int] = {}
        days: set[date] = set()
        # The commonest draws made for the whole batch at once: cheaper than one by one.
        drawn: list[tuple[str, list[Any]]] = [
            ("category", categories), ("status", statuses), ("channel", CHANNELS),
            ("agency", AGENCIES), ("named", AGENCIES), ("district", districts),
            ("thing", THINGS), ("amount", AMOUNTS)]
        picks = {name: rng.choices(population, k=size) for name, population in drawn}
        for offset in range(size):
            index = start + offset
            clue_id = first + offset
            category = picks["category"][offset]
            status = picks["status"][offset]
            created = oldest + step * (index + random_())
            # The history fits between receipt and now: recent clues moved fast.
            span = min(timedelta(hours=randint(4, 30 * 24)), (self.now - created) * 0.9)
            tracking = _tracking_no(self.seed, self.base + index)
            amount = picks["amount"][offset]
            real_name = random_() < self.real_name_share
            channel = picks["channel"][offset]
            rating = choice(RATINGS) if status == "closed" else None
            row: dict[str, Any] = {
                "id": clue_id, "tracking_no": tracking,
                "receipt_hash": hash_receipt(f"{rng.getrandbits(100):025x}"),
                "campaign_id": None,
                "channel": channel, "source_tag": choice(tags) if channel == "qr" else None,
                "api_token_id": None, "category_code": category,
                "agency": picks["agency"][offset], "department_code": None,
                "district_code": picks["district"][offset],
                "occurred_on": (created - timedelta(days=randint(0, 20))).date(),
                "description": STORIES[category].format(
                    thing=picks["thing"][offset], amount=(amount or 0) // 100 or "若干",
                    agency=picks["named"][offset]),
                "amount_fen": amount, "real_name": real_name, "confidential": random_() < 0.8,
                "identity_sealed": None, "notify_email_sealed": None, "status": status,
                "colour": choice(["red", "orange", "yellow", "yellow"])
                if status in TRIAGED else None,
                "colour_reason": "批量演示数据" if status in TRIAGED else None,
                "handling_department_code": choice(self.departments) if status in HANDLED
                else None,
                "due_at": None,
                "not_accepted_reason": "insufficient" if status == "not_accepted" else None,
                "conclusion": choice(["substantiated", "partly", "unsubstantiated"])
                if status in CONCLUDED else None,
                "recovered_fen": choice([None, 0, 50000, 300000]) if status in CONCLUDED
                else None,
                "merged_into_id": first if status == "merged" and clue_id != first else None,
                "first_satisfaction": rating, "satisfaction": rating, "closed_at": None,
                "created_at": created, "updated_at": created,
            }
            if real_name and sealer is not None:
                identity = {"name": "演示" + str(randint(1, 999)),
                            "phone": f"139{randint(10_000_000, 99_999_999)}"}
                row["identity_sealed"] = sealer.seal(
                    json.dumps(identity, ensure_ascii=False).encode(), identity_aad(tracking))
            steps = history(row)
            last = len(steps) - 1 or 1
            at = created
            for number, (kind, from_status, to_status, data, message) in enumerate(steps):
                at = created + span * number / last
                if kind == "assigned":
                    row["due_at"] = at + timedelta(days=choice([1, 3, 7, 10]))
                    data["due_at"] = row["due_at"].isoformat()
                rows["clue_events"].append({
                    "clue_id": clue_id, "at": at, "kind": kind, "actor_label": "demo-data",
                    "actor_user_id": None, "from_status": from_status, "to_status": to_status,
                    "data": data, "public_message": message})
            if status == "triaging":
                row["due_at"] = created + timedelta(days=choice([1, 3, 7]))
            elif status in CONCLUDED:
                row["due_at"] = None
            if status == "closed":
                row["closed_at"] = at
                days.add(local(at).date())
            row["updated_at"] = at
            days.add(local(created).date())
            per_status[status] = per_status.get(status, 0) + 1
            rows["clues"].append(row)
            rows["clue_situations"].append(
                {"clue_id": clue_id, "situation_code": choice(self.categories[category])})
            if self.related:
                bulk_related.add_related(rng, rows, row, index, ids=self.ids, sealer=sealer,
                                         receipt_key=self.receipt_key, now=self.now)
        tables = {name: bulk_write.values(self.dialect, name, table_rows)
                  for name, table_rows in rows.items() if table_rows}
        return Batch(first, tables, per_status, days)


_MAKER: _Maker | None = None
_ENGINE: Engine | None = None  # PostgreSQL: each process writes what it builds


def _init_worker(maker: _Maker, engine: Engine | None) -> None:
    global _MAKER, _ENGINE
    _MAKER, _ENGINE = maker, engine
    if engine is not None:
        # The parent's pooled connections stay the parent's; this process opens its own
        # and closes them when the pool ends.
        engine.dispose(close=False)
        mp_util.Finalize(None, engine.dispose, exitpriority=0)


def _build(task: tuple[int, int]) -> Batch:
    if _MAKER is None:  # pragma: no cover - the pool always runs the initializer
        raise RuntimeError("worker not initialised")
    return _MAKER(task)


def _build_and_write(task: tuple[int, int]) -> dict[str, int]:
    batch = _build(task)
    if _ENGINE is None:  # pragma: no cover - the pool always runs the initializer
        raise RuntimeError("worker not initialised")
    with Session(_ENGINE) as session:
        return _write(session, batch)


def _loaded(session: DbSession, maker: _Maker, tasks: list[tuple[int, int]],
            workers: int) -> Iterator[dict[str, int]]:
    """Build and write the batches; yields each one's rows per table.

    In a pool of processes when there are enough batches. On PostgreSQL each
    process writes the batches it builds, in a transaction of its own (ids
    are assigned beforehand, so the order of commits does not matter): rows
    never cross between processes, which costs as much as making them, and
    the writing runs on every core. SQLite has one writer, this process, and
    at most one batch per worker waits beyond the one being written, so that
    memory stays at a few batches whatever the size.
    """
    if workers < 2 or maker.n < POOL_FROM or "fork" not in mp.get_all_start_methods():
        for built in map(maker, tasks):
            yield _write(session, built)
        return
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) and bind.dialect.name == "postgresql" else None
    with mp.get_context("fork").Pool(workers, _init_worker, (maker, engine)) as pool:
        if engine is not None:
            yield from pool.imap_unordered(_build_and_write, tasks)
            pool.close()
            pool.join()  # the workers close their connections
            return
        pending: deque[Any] = deque()
        for task in tasks:
            pending.append(pool.apply_async(_build, (task,)))
            if len(pending) > workers:
                yield _write(session, pending.popleft().get())
        while pending:
            yield _write(session, pending.popleft().get())


def _write(session: DbSession, batch: Batch) -> dict[str, int]:
    bulk_write.fast_commit(session)
    connection = session.connection()
    # The free-text index: one statement per batch instead of a trigger per row.
    search.pause_trigger(connection)
    for name in TABLES:
        if name in batch.tables:
            bulk_write.write(session, name, *batch.tables[name])
        if name == "clues":
            search.bulk_rows_added(connection, batch.first_id)
    rollup.mark(session, batch.days)
    counts.bump(session, batch.per_status)  # last: its rows stay locked until the commit
    session.commit()
    return {name: len(values[1]) for name, values in batch.tables.items()}


def _run(session: DbSession, n: int, *, keys: Keys, now: datetime, days: int, seed: int,
         batch: int, real_name_share: float, related: bool, workers: int | None) -> Filled:
    base = session.scalar(select(func.max(Clue.id))) or 0
    categories = {c.code: [s.code for s in c.situations] for c in session.scalars(
        select(Category).order_by(Category.position))}
    maker = _Maker(
        dialect=session.get_bind().dialect, n=n, base=base,
        ids={name: next_id(session, name) for name in TABLES if name != "clue_situations"},
        now=now, days=days, seed=seed, real_name_share=real_name_share,
        receipt_key=keys.receipt_key,
        public_key=envelope.public_bytes(keys.identity_public) if keys.identity_public else None,
        categories=categories, departments=list(session.scalars(select(Department.code))),
        related=related)
    session.commit()  # nothing is held open while the pool starts
    tasks = [(start, min(batch, n - start)) for start in range(0, n, batch)]
    if workers is None:
        # On PostgreSQL each process also waits for its writes to finish: one
        # more process than cores keeps the cores busy meanwhile.
        workers = (os.cpu_count() or 1) + (maker.dialect.name == "postgresql")
    filled = Filled()
    with bulk_write.loading(session, TABLES, fresh=base == 0):
        for sizes in _loaded(session, maker, tasks, workers):
            filled.add(sizes)
        for name in TABLES:
            if name != "clue_situations":
                sync_sequence(session, name)
        session.commit()
    return filled


def bulk_clues(session: DbSession, n: int, *, keys: Keys, now: datetime, days: int = 365,
               seed: int = 7, batch: int = 10_000, real_name_share: float = 0.5,
               workers: int | None = None) -> int:
    """Insert ``n`` clues with their situations and histories; returns how many.

    Real-name clues (``real_name_share`` of them) get an identity envelope of
    their own when an identity key exists: one Sealer per batch (one key
    exchange), but each clue its own data key, nonces and associated data
    naming its tracking number, as the hotline import seals callers.
    """
    return _run(session, n, keys=keys, now=now, days=days, seed=seed, batch=batch,
                real_name_share=real_name_share, related=False, workers=workers).clues


def fill(session: DbSession, n: int, *, keys: Keys, now: datetime, days: int = 365,
         batch: int = 10_000, workers: int | None = None) -> Filled:
    """``n`` clues with everything around them, in proportion (bulk_related.py)."""
    return _run(session, n, keys=keys, now=now, days=days, seed=7, batch=batch,
                real_name_share=0.5, related=True, workers=workers)
