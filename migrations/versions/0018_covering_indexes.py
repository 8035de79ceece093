"""covering indexes for the figures and the clue page's case box

Found with bench/explain.py at 1,000,000 clues (7 million events, 500,000
enforcement cases):
- the figures' "substantiated / recovered" count reads the clues concluded in
  a period, about 61,000 a month, and fetched each event row for its
  clue_id: the (kind, at) index now carries clue_id;
- the clue page's box counts a department's and an agency's cases of 90 days
  by type (10,000 to 20,000 each), fetching every case row: the department
  and agency indexes now carry the department and the type.
All are read from the index alone (PostgreSQL: index-only scans; SQLite:
covering indexes). Each new index is built before the old one is dropped;
on PostgreSQL the clue_events build holds back writes to that table while it
runs (about 20 s at 7 million events), the others about 1 s.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 12:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('clue_events', schema=None) as batch_op:
        batch_op.create_index('ix_clue_events_kind_at_clue', ['kind', 'at', 'clue_id'],
                              unique=False)
        batch_op.drop_index('ix_clue_events_kind_at')
    with op.batch_alter_table('enforcement_cases', schema=None) as batch_op:
        batch_op.create_index('ix_enforcement_cases_department_decided_type',
                              ['department_code', 'decided_on', 'case_type'], unique=False)
        batch_op.create_index('ix_enforcement_cases_agency_decided_type',
                              ['agency', 'decided_on', 'department_code', 'case_type'],
                              unique=False)
        batch_op.drop_index('ix_enforcement_cases_department_decided')
        batch_op.drop_index('ix_enforcement_cases_agency_decided')


def downgrade():
    with op.batch_alter_table('enforcement_cases', schema=None) as batch_op:
        batch_op.create_index('ix_enforcement_cases_agency_decided', ['agency', 'decided_on'],
                              unique=False)
        batch_op.create_index('ix_enforcement_cases_department_decided',
                              ['department_code', 'decided_on'], unique=False)
        batch_op.drop_index('ix_enforcement_cases_agency_decided_type')
        batch_op.drop_index('ix_enforcement_cases_department_decided_type')
    with op.batch_alter_table('clue_events', schema=None) as batch_op:
        batch_op.create_index('ix_clue_events_kind_at', ['kind', 'at'], unique=False)
        batch_op.drop_index('ix_clue_events_kind_at_clue')
