"""12345 hotline work orders (工单) and what Jidu made of them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Base
from app.models.types import UTCDateTime

if TYPE_CHECKING:
    from app.models.clue import Clue


class HotlineOrder(Base):
    """A work order from the 12345 hotline, screened, perhaps linked to a clue.

    The caller's name and phone are sealed for the custodians' key like a
    reporter's identity. ``fingerprint`` is a keyed hash of the order as
    received, so that a resend can be told apart from a changed order
    (409) without keeping a readable copy of the caller.
    """

    __tablename__ = "hotline_orders"
    __table_args__ = (
        Index("ix_hotline_orders_received", "received_at"),
        Index("ix_hotline_orders_related", "enforcement_related", "received_at"),
        # Orders Jidu received in a period (reports, figures): without it, each
        # monthly report read every order three times (bench/explain.py).
        Index("ix_hotline_orders_created", "created_at"),
        # The reviewed orders' agreement with the screening, on every page of
        # the hotline list: without it, a read of every order. Partial: only
        # reviewed orders are in it, and SQLite's planner uses it for
        # "reviewed_at IS NOT NULL" (a full index it would pass over).
        Index("ix_hotline_orders_reviewed", "reviewed_at",
              sqlite_where=text("reviewed_at IS NOT NULL"),
              postgresql_where=text("reviewed_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_no: Mapped[str] = mapped_column(String(64), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    content: Mapped[str] = mapped_column(Text)
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"))
    hotline_category: Mapped[str | None] = mapped_column(String(100))
    dispatched_to: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))
    disputed: Mapped[bool] = mapped_column(default=False)
    caller_sealed: Mapped[str | None] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(96))
    source: Mapped[str] = mapped_column(String(16), default="api")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # Screening (研判筛选): the rules' verdict and why, then a reviewer's.
    enforcement_related: Mapped[bool] = mapped_column(default=False)
    category_code: Mapped[str | None] = mapped_column(ForeignKey("categories.code"))
    screening_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    screening_version: Mapped[str] = mapped_column(String(16))
    reviewed_related: Mapped[bool | None]
    reviewed_category: Mapped[str | None] = mapped_column(ForeignKey("categories.code"))
    reviewed_by: Mapped[str | None] = mapped_column(String(120))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    clue_id: Mapped[int | None] = mapped_column(ForeignKey("clues.id"), unique=True)
    clue: Mapped[Clue | None] = relationship()
    dispute_id: Mapped[int | None] = mapped_column(ForeignKey("disputes.id"))

    # The hotline's own satisfaction call-back (回访), posted back to Jidu.
    callback_satisfaction: Mapped[str | None] = mapped_column(String(16))
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def screening(self) -> dict[str, Any]:
        related = self.reviewed_related if self.reviewed_related is not None else \
            self.enforcement_related
        category = self.reviewed_category if self.reviewed_related is not None else \
            self.category_code
        return {"enforcement_related": related, "category": category if related else None}


class HardDispatchType(Base):
    """交办难清单: a recurring kind of order that is hard to dispatch, and what settles it.

    Each entry names the order type, the responsibility list (职责清单) item
    and legal basis that settles it, and the department it designates; a
    disputed order of that type is shown the entry.
    """

    __tablename__ = "hard_dispatch_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    keywords: Mapped[str] = mapped_column(String(500))
    responsibility: Mapped[str] = mapped_column(Text)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(120))
