"""indexes on hotline_orders.created_at and reviewed_at

Found with bench/explain.py at 1,000,000 clues (about 450,000 orders): the
monthly report and its figures count the orders Jidu received in a period
(and the previous one, and a year before) by created_at, and every page of
the hotline list counts the reviewed orders (reviewed_at IS NOT NULL); each
read the whole table. The second index is partial (reviewed orders only):
SQLite's planner passes over a full one for IS NOT NULL.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 06:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('hotline_orders', schema=None) as batch_op:
        batch_op.create_index('ix_hotline_orders_created', ['created_at'], unique=False)
        batch_op.create_index('ix_hotline_orders_reviewed', ['reviewed_at'], unique=False,
                              sqlite_where=sa.text('reviewed_at IS NOT NULL'),
                              postgresql_where=sa.text('reviewed_at IS NOT NULL'))


def downgrade():
    with op.batch_alter_table('hotline_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_hotline_orders_reviewed')
        batch_op.drop_index('ix_hotline_orders_created')
