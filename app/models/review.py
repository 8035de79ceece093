"""Review-side records: jurisdiction disputes (职责争议)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base
from app.models.types import UTCDateTime


class Dispute(Base):
    """Departments dispute who handles a matter; settled within 24 hours.

    The clock starts when the dispute is opened (a reviewer marks it, or a
    disputed hotline order arrives); the outcome names the department and
    the legal basis.
    """

    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(primary_key=True)
    clue_id: Mapped[int | None] = mapped_column(ForeignKey("clues.id"), index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    departments: Mapped[list[str]] = mapped_column(JSON, default=list)
    opened_by: Mapped[str] = mapped_column(String(120))
    legal_basis: Mapped[str | None] = mapped_column(Text)
    designated_department_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(120))

    def overdue(self, now: datetime) -> bool:
        return self.resolved_at is None and self.due_at < now

    def settled_in_time(self) -> bool | None:
        if self.resolved_at is None:
            return None
        return self.resolved_at <= self.due_at

    def as_dict(self) -> dict[str, Any]:
        return {"departments": self.departments, "designated": self.designated_department_code}


class DisclosureRequest(Base):
    """A request to read a reporter's identity: reason, four-eyes approval, one use."""

    __tablename__ = "disclosure_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    clue_id: Mapped[int] = mapped_column(ForeignKey("clues.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved: Mapped[bool | None]
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
