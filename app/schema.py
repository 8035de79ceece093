"""The schema built straight from the models, for tests and benchmarks.

Deployments use the migrations (``flask db upgrade``); a test suite that
rebuilds the schema many times, or a benchmark, needs the same tables,
search index and reference rows in one quick step. The migration test checks
that both ways give the same schema.
"""

from __future__ import annotations

from sqlalchemy import Engine, insert, text

from app import search
from app.extensions import Base
from app.reference import seed_rows
from app.services import reference_cache


def rebuild(engine: Engine) -> None:
    """Drop everything Jidu owns in this database and create it afresh, with reference data."""
    with engine.begin() as conn:
        search.uninstall(conn)
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        Base.metadata.create_all(conn)
        search.install(conn)
        reference_cache.install(conn)
        for table, rows in seed_rows().items():
            conn.execute(insert(Base.metadata.tables[table]), rows)
