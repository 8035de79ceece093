"""Reference tables: categories, situations, exclusions, districts, departments."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Base


class Category(Base):
    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(128))
    position: Mapped[int]

    situations: Mapped[list[Situation]] = relationship(
        back_populates="category", order_by="Situation.position", lazy="selectin"
    )


class Situation(Base):
    __tablename__ = "situations"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(200))
    position: Mapped[int]

    category: Mapped[Category] = relationship(back_populates="situations")


class Exclusion(Base):
    __tablename__ = "exclusions"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    question: Mapped[str] = mapped_column(String(200))
    question_en: Mapped[str] = mapped_column(String(300))
    guidance: Mapped[str] = mapped_column(String(200))
    guidance_en: Mapped[str] = mapped_column(String(300))
    position: Mapped[int]


class District(Base):
    __tablename__ = "districts"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(128))
    position: Mapped[int]


class Department(Base):
    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(128))
    position: Mapped[int]
    active: Mapped[bool] = mapped_column(default=True)


class ReferenceVersion(Base):
    """One row whose ``n`` database triggers move on any write to the reference
    tables, the campaigns, the API tokens and the keys, so that each process
    knows when to read them again (services/reference_cache.py)."""

    __tablename__ = "reference_version"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(BigInteger)
