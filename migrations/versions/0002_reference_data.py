"""reference data: categories, situations, exclusions, districts, departments

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

The rows come from app/reference.py (pure data). Later changes to reference
data get their own migration that inserts only what is new.
"""
import sqlalchemy as sa
from alembic import op

from app.reference import seed_rows

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_COLUMNS = {
    "categories": ["code", "name", "name_en", "position"],
    "situations": ["code", "category_code", "name", "name_en", "position"],
    "exclusions": ["code", "question", "question_en", "guidance", "guidance_en", "position"],
    "districts": ["code", "name", "name_en", "position"],
    "departments": ["code", "name", "name_en", "position", "active"],
}


def _table(name):
    columns = []
    for column in _COLUMNS[name]:
        if column == "position":
            columns.append(sa.column(column, sa.Integer))
        elif column == "active":
            columns.append(sa.column(column, sa.Boolean))
        else:
            columns.append(sa.column(column, sa.String))
    return sa.table(name, *columns)


def upgrade():
    for name, rows in seed_rows().items():
        op.bulk_insert(_table(name), rows)


def downgrade():
    for name in reversed(list(seed_rows())):
        op.execute(sa.text(f"DELETE FROM {name}"))  # noqa: S608 (fixed table names)
