"""Clues (线索) and their append-only event history."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Table,
    Text,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Base
from app.models.reference import Category, Situation
from app.models.types import UTCDateTime
from app.timeutil import utcnow


class ClueStatus(enum.StrEnum):
    RECEIVED = "received"
    TRIAGING = "triaging"
    ACCEPTED = "accepted"
    NOT_ACCEPTED = "not_accepted"
    ASSIGNED = "assigned"
    INVESTIGATING = "investigating"
    CONCLUDED = "concluded"
    FEEDBACK_GIVEN = "feedback_given"
    CLOSED = "closed"
    MERGED = "merged"


class Channel(enum.StrEnum):
    WEB = "web"
    QR = "qr"
    APP = "app"
    HOTLINE = "hotline"
    LETTER = "letter"
    PHONE = "phone"
    EMAIL = "email"


class Colour(enum.StrEnum):
    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"


clue_situations = Table(
    "clue_situations",
    Base.metadata,
    Column("clue_id", ForeignKey("clues.id", ondelete="CASCADE"), primary_key=True),
    Column("situation_code", ForeignKey("situations.code"), primary_key=True),
)


class Clue(Base):
    __tablename__ = "clues"
    __table_args__ = (
        Index("ix_clues_status_created", "status", "created_at"),
        Index("ix_clues_campaign_created", "campaign_id", "created_at"),
        # Repeat complaints against one agency (colour rules, duplicates).
        Index("ix_clues_agency_created", "agency", "created_at"),
        # Clues closed on a day (roll-ups of handling time).
        Index("ix_clues_closed_at", "closed_at"),
        # Overdue and due-soon counts over the open clues (dashboard).
        Index("ix_clues_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_no: Mapped[str] = mapped_column(String(16), unique=True)
    # The receipt itself is never stored; only its keyed hash (receipts.py).
    receipt_hash: Mapped[str] = mapped_column(String(96), unique=True)
    # Optional: the campaign window governs public intake only; hotline-linked
    # and manually entered clues are accepted at any time.
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    channel: Mapped[Channel] = mapped_column(String(16))
    source_tag: Mapped[str | None] = mapped_column(String(40), index=True)
    api_token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))

    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"), index=True)
    agency: Mapped[str] = mapped_column(String(200))
    department_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"), index=True)
    occurred_on: Mapped[date | None]
    description: Mapped[str] = mapped_column(Text)
    # Integer fen (分): exact, and the same on SQLite and PostgreSQL.
    amount_fen: Mapped[int | None]

    real_name: Mapped[bool]
    confidential: Mapped[bool] = mapped_column(default=True)
    # Public-key envelope (security/envelope.py); readable only with the
    # private key, which the web server does not have.
    identity_sealed: Mapped[str | None] = mapped_column(Text)
    # Consented notify-me address: encrypted under a server-held key so that
    # the mail worker can use it; erased when the clue closes.
    notify_email_sealed: Mapped[str | None] = mapped_column(Text)

    status: Mapped[ClueStatus] = mapped_column(String(16), default=ClueStatus.RECEIVED)
    colour: Mapped[Colour | None] = mapped_column(String(8))
    colour_reason: Mapped[str | None] = mapped_column(String(300))
    # The department handling the clue now (交办), and when the current
    # stage is due (colour deadline or assignment due date).
    handling_department_code: Mapped[str | None] = mapped_column(
        ForeignKey("departments.code"), index=True
    )
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    not_accepted_reason: Mapped[str | None] = mapped_column(String(32))
    conclusion: Mapped[str | None] = mapped_column(String(16))
    # Economic losses recovered, recorded at conclusion (fen).
    recovered_fen: Mapped[int | None]
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("clues.id"))
    # 满意 / 基本满意 / 不满意: the first answer is kept for 初次满意率.
    first_satisfaction: Mapped[str | None] = mapped_column(String(16))
    satisfaction: Mapped[str | None] = mapped_column(String(16))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    category: Mapped[Category] = relationship(lazy="joined")
    situations: Mapped[list[Situation]] = relationship(
        secondary=clue_situations, order_by="Situation.position", lazy="selectin"
    )
    events: Mapped[list[ClueEvent]] = relationship(
        back_populates="clue", order_by="ClueEvent.id", lazy="select"
    )

    @property
    def identity_aad(self) -> bytes:
        return identity_aad(self.tracking_no)


def identity_aad(tracking_no: str) -> bytes:
    """Binds an identity envelope to its clue: it opens nowhere else."""
    return f"jidu clue {tracking_no} identity".encode()


class ClueEvent(Base):
    """One change of a clue. Rows are only ever added, never changed."""

    __tablename__ = "clue_events"
    __table_args__ = (
        # Events of a kind in a period (conclusions made in a month: figures),
        # with the clue, so that the figures read the clues concluded in a
        # month from the index alone, not from 60,000 event rows.
        Index("ix_clue_events_kind_at_clue", "kind", "at", "clue_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clue_id: Mapped[int] = mapped_column(ForeignKey("clues.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Who acted when not a user: "reporter", "api:<token name>", "system".
    actor_label: Mapped[str] = mapped_column(String(120))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    # Non-sensitive structured detail; never identity, never free text from
    # the reporter beyond what the clue itself holds.
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Text the reporter may read through the receipt look-up (反馈).
    public_message: Mapped[str | None] = mapped_column(Text)

    clue: Mapped[Clue] = relationship(back_populates="events")


class AppendOnlyError(RuntimeError):
    pass


@event.listens_for(ClueEvent, "before_update")
@event.listens_for(ClueEvent, "before_delete")
def _refuse_change(mapper: Any, connection: Any, target: ClueEvent) -> None:
    raise AppendOnlyError("clue events are append-only")


class StatusCount(Base):
    """How many clues are in each status, kept current in the same transaction
    as every change, so that the queue's counts cost nothing at a million clues.

    A status's count is the sum of its rows: each change adds to one of
    ``COUNT_SHARDS`` rows picked at random, so that concurrent submissions,
    which all add to "received", seldom wait for one another's row lock.
    """

    __tablename__ = "status_counts"

    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True, default=0)
    n: Mapped[int] = mapped_column(default=0)
