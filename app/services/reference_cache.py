"""What intake reads on every submission and changes a few times a year, kept per process.

A submission checks its codes against the categories, situations, districts,
departments and exclusions, its QR tag against the known tags, its moment
against the campaigns' windows, its caller against the API tokens, and seals
with the active public keys. Read from the tables each time, that was nine of
a submission's sixteen statements. Each process keeps them in a
:class:`Snapshot` instead, checked on every use against one counter,
``reference_version``, that database triggers move on any write to those
tables, whoever makes it (the console, the CLI, a migration, psql), so that a
change reaches every process and host at its next submission: one read of a
one-row table replaces nine.

Within one transaction of a session the snapshot is read once. The counter
starts at a random value, so that a database rebuilt under a running process
(tests, a restore) cannot meet a cached snapshot with the same number.
"""

from __future__ import annotations

import functools
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import scoped_session

from app.models import (
    ApiToken,
    Campaign,
    Category,
    Department,
    District,
    EvidenceKey,
    Exclusion,
    IdentityKey,
    Situation,
    SourceTag,
    TokenChannel,
)
from app.services.types import DbSession

WATCHED = ("categories", "situations", "districts", "departments", "exclusions",
           "source_tags", "campaigns", "api_tokens", "identity_keys", "evidence_keys")
_FUNCTION = "jidu_reference_changed"
_MEMO = "jidu_reference_snapshot"


@dataclass(frozen=True)
class Token:
    """An API token as the API needs it (never its hash)."""

    id: int
    name: str
    channel: TokenChannel
    revoked_at: datetime | None


@dataclass(frozen=True)
class Window:
    """A campaign and the moments it opens and closes."""

    id: int
    opens_at: datetime
    deadline: datetime

    def is_open(self, now: datetime) -> bool:
        return self.opens_at <= now < self.deadline


@dataclass(frozen=True)
class Named:
    """A reference row as the form shows it: its code and names (``name_en``)."""

    code: str
    name: str
    name_en: str


@dataclass(frozen=True)
class CategoryRow(Named):
    situations: tuple[Named, ...]


@dataclass(frozen=True)
class Question:
    """An exclusion as the form asks it, and the guidance shown for a "yes"."""

    code: str
    question: str
    question_en: str
    guidance: str
    guidance_en: str


@dataclass(frozen=True)
class Snapshot:
    version: int | None
    # What the form shows, in order: categories with their situations, the
    # exclusions, the districts and the active departments.
    category_rows: tuple[CategoryRow, ...]
    exclusion_rows: tuple[Question, ...]
    district_rows: tuple[Named, ...]
    department_rows: tuple[Named, ...]
    # What a submission is checked against (a retired department still counts).
    departments: frozenset[str]
    source_tags: frozenset[str]
    campaigns: tuple[Window, ...]
    tokens: dict[str, Token]
    identity_public: X25519PublicKey | None
    evidence_public: X25519PublicKey | None

    @functools.cached_property
    def categories(self) -> frozenset[str]:
        return frozenset(c.code for c in self.category_rows)

    @functools.cached_property
    def situations(self) -> dict[str, frozenset[str]]:
        return {c.code: frozenset(s.code for s in c.situations) for c in self.category_rows}

    @functools.cached_property
    def districts(self) -> frozenset[str]:
        return frozenset(d.code for d in self.district_rows)

    @functools.cached_property
    def exclusions(self) -> tuple[str, ...]:
        return tuple(e.code for e in self.exclusion_rows)

    def open_campaign(self, now: datetime) -> Window | None:
        """The campaign accepting clues now (the latest-opened if several)."""
        return pick_open(self.campaigns, now)

    def current_campaign(self, now: datetime) -> Window | None:
        return pick_current(self.campaigns, now)


def pick_open(windows: Iterable[Window], now: datetime) -> Window | None:
    """The window open at ``now`` (the latest-opened, then the highest id, if several)."""
    open_now = [w for w in windows if w.is_open(now)]
    return max(open_now, key=lambda w: (w.opens_at, w.id), default=None)


def pick_current(windows: Iterable[Window], now: datetime) -> Window | None:
    """The open window; else the most recently closed; else the next to open."""
    windows = list(windows)
    found = pick_open(windows, now)
    if found is None:
        found = max((w for w in windows if w.deadline <= now),
                    key=lambda w: (w.deadline, w.id), default=None)
    if found is None:
        found = min((w for w in windows if w.opens_at > now),
                    key=lambda w: (w.opens_at, w.id), default=None)
    return found


_lock = threading.Lock()
_kept: dict[str, Snapshot] = {}


def current(session: DbSession) -> Snapshot:
    """The snapshot for ``session``'s database, read again if anything changed."""
    own = session() if isinstance(session, scoped_session) else session
    transaction = own.get_transaction()
    memo = own.info.get(_MEMO)
    if transaction is not None and memo is not None and memo[0] is transaction:
        return memo[1]
    connection = session.connection()
    version = _version(connection)
    where = connection.engine.url.render_as_string(hide_password=True)
    kept = _kept.get(where)
    if kept is None or version is None or kept.version != version:
        kept = _load(session, version)
        if version is not None:
            with _lock:
                _kept[where] = kept
    own.info[_MEMO] = (own.get_transaction(), kept)
    return kept


def _version(connection: Connection) -> int | None:
    row = connection.exec_driver_sql("SELECT n FROM reference_version WHERE id = 1").first()
    return None if row is None else int(row[0])


def _load(session: DbSession, version: int | None) -> Snapshot:
    situations: dict[str, list[Named]] = {}
    for category, code, name, name_en in session.execute(
            select(Situation.category_code, Situation.code, Situation.name, Situation.name_en)
            .order_by(Situation.position, Situation.code)):
        situations.setdefault(category, []).append(Named(code, name, name_en))
    identity = session.scalar(
        select(IdentityKey.public_key).where(IdentityKey.active.is_(True))
        .order_by(IdentityKey.created_at.desc()).limit(1))
    evidence = session.scalar(
        select(EvidenceKey.public_key).where(EvidenceKey.active.is_(True))
        .order_by(EvidenceKey.created_at.desc()).limit(1))
    return Snapshot(
        version=version,
        category_rows=tuple(
            CategoryRow(code, name, name_en, tuple(situations.get(code, ())))
            for code, name, name_en in session.execute(
                select(Category.code, Category.name, Category.name_en)
                .order_by(Category.position))),
        exclusion_rows=tuple(Question(*row) for row in session.execute(
            select(Exclusion.code, Exclusion.question, Exclusion.question_en,
                   Exclusion.guidance, Exclusion.guidance_en).order_by(Exclusion.position))),
        district_rows=tuple(Named(*row) for row in session.execute(
            select(District.code, District.name, District.name_en).order_by(District.position))),
        department_rows=tuple(Named(*row) for row in session.execute(
            select(Department.code, Department.name, Department.name_en)
            .where(Department.active.is_(True)).order_by(Department.position))),
        departments=frozenset(session.scalars(select(Department.code))),
        source_tags=frozenset(session.scalars(select(SourceTag.tag))),
        campaigns=tuple(Window(*row) for row in session.execute(
            select(Campaign.id, Campaign.opens_at, Campaign.deadline))),
        tokens={row.token_hash: Token(row.id, row.name, row.channel, row.revoked_at)
                for row in session.execute(select(
                    ApiToken.id, ApiToken.name, ApiToken.channel, ApiToken.token_hash,
                    ApiToken.revoked_at))},
        identity_public=None if identity is None else X25519PublicKey.from_public_bytes(identity),
        evidence_public=None if evidence is None else X25519PublicKey.from_public_bytes(evidence),
    )


def renumber(session: DbSession) -> None:
    """Move the counter by a random step (after a restore, whose counter a process
    may have seen before with other contents); in the caller's transaction."""
    if inspect(session.connection()).has_table("reference_version"):
        session.execute(text("UPDATE reference_version SET n = n + :step WHERE id = 1"),
                        {"step": secrets.randbelow(2**40) + 1})


# -- the counter and its triggers (schema.rebuild and migration 0017) --------


def install(connection: Connection) -> None:
    """Create the counter's row (at a random start) and the triggers that move it."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(
            "INSERT INTO reference_version (id, n) "
            "VALUES (1, floor(random() * 1e15)::bigint) ON CONFLICT (id) DO NOTHING"))
        connection.execute(text(
            f"CREATE OR REPLACE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS "  # noqa: S608 - constant names
            "$$ BEGIN UPDATE reference_version SET n = n + 1 WHERE id = 1; RETURN NULL; END $$"))
        for table in WATCHED:
            connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_reference_changed "
                                    f"ON {table}"))
            connection.execute(text(
                f"CREATE TRIGGER {table}_reference_changed "
                f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {_FUNCTION}()"))
        return
    connection.execute(text(
        "INSERT OR IGNORE INTO reference_version (id, n) "
        "VALUES (1, abs(random() % 1000000000000000))"))
    for table in WATCHED:
        for verb in ("INSERT", "UPDATE", "DELETE"):
            connection.execute(text(
                f"CREATE TRIGGER IF NOT EXISTS {table}_reference_{verb.lower()} "  # noqa: S608
                f"AFTER {verb} ON {table} "
                "BEGIN UPDATE reference_version SET n = n + 1 WHERE id = 1; END"))


def uninstall(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        for table in WATCHED:
            connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_reference_changed "
                                    f"ON {table}"))
        connection.execute(text(f"DROP FUNCTION IF EXISTS {_FUNCTION}()"))
        return
    for table in WATCHED:
        for verb in ("insert", "update", "delete"):
            connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_reference_{verb}"))
