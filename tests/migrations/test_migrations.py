"""Migrations build exactly the models' schema, with the reference data, on both databases."""

from __future__ import annotations

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, func, select, text

from app import create_app, search
from app.extensions import Base, db
from app.models import Category, Department, District, Exclusion, Situation
from tests.conftest import make_config, skip_or_fail


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
        return
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        skip_or_fail("TEST_DATABASE_URL is not set: PostgreSQL migration test not run")
    name = f"jidu_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_head_matches_models_and_loads_reference_data(empty_database, tmp_path):
    app = create_app(make_config(tmp_path, empty_database))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"include_object": search.include_object})
            diff = compare_metadata(context, Base.metadata)
        assert diff == []
        counts = {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
                  for model in (Category, Situation, Exclusion, District, Department)}
        assert counts == {"categories": 8, "situations": 31, "exclusions": 4, "districts": 7,
                          "departments": 14}
        db.session.remove()
        downgrade(revision="base")
        with db.engine.connect() as conn:
            tables = set(db.inspect(conn).get_table_names()) - {"alembic_version"}
        assert tables == set()
        db.engine.dispose()
