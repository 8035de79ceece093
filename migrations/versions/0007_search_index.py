"""search index: FTS5 trigram on SQLite, pg_trgm GIN on PostgreSQL

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22

The DDL lives in app/search.py, shared with the tests.
"""
from alembic import op

from app import search

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    search.install(op.get_bind())


def downgrade():
    search.uninstall(op.get_bind())
