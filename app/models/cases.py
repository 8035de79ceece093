"""Enforcement case records (执法案件) imported from the agencies' case systems.

They are the denominator for complaints: how many inspections, penalties and
compulsory measures an agency carried out in a period, next to how many clues
were filed against it (services/case_links.py).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base
from app.models.types import UTCDateTime
from app.timeutil import utcnow


class CaseType(enum.StrEnum):
    INSPECTION = "inspection"  # 行政检查
    PENALTY = "penalty"  # 行政处罚
    COMPULSORY = "compulsory"  # 行政强制


class EnforcementCase(Base):
    __tablename__ = "enforcement_cases"
    __table_args__ = (
        # The console and the clue box ask "this department (agency), this period";
        # the box counts by type from these indexes alone (10,000 to 20,000 cases
        # at a million clues). The agency index also lists the agencies, one
        # step per name (services/case_links.py).
        Index("ix_enforcement_cases_department_decided_type", "department_code", "decided_on",
              "case_type"),
        Index("ix_enforcement_cases_agency_decided_type", "agency", "decided_on",
              "department_code", "case_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The agency's own document number (e.g. 舟普市监罚〔2025〕0012号); a re-import
    # of the same number updates the record.
    case_no: Mapped[str] = mapped_column(String(64), unique=True)
    agency: Mapped[str] = mapped_column(String(200))
    # Nullable: an agency outside the departments list is still a case.
    department_code: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"))
    domain: Mapped[str] = mapped_column(String(64))
    case_type: Mapped[CaseType] = mapped_column(String(16))
    decided_on: Mapped[date] = mapped_column(index=True)
    # Integer fen; BigInteger because seized property or tax cases exceed the
    # 21 million yuan a 32-bit column would hold. None: no amount (most inspections).
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
