"""Spreadsheet exports too large to build while the reviewer waits."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base
from app.models.types import UTCDateTime


class ExportStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    # Done, and its file removed after the retention period.
    EXPIRED = "expired"


class ExportJob(Base):
    """An XLSX export of the filtered queue, built in the background.

    The file lives under the data folder; only the user who asked for it may
    download it, and each download is audited like the export itself.
    """

    __tablename__ = "export_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    fmt: Mapped[str] = mapped_column(String(8), default="xlsx")
    status: Mapped[ExportStatus] = mapped_column(String(10), default=ExportStatus.PENDING)
    row_count: Mapped[int | None]
    file_name: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(200))
