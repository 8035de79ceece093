"""Shared fixtures: the app on SQLite and PostgreSQL, clients, keys, tokens.

Every test that uses ``app`` runs once per database: SQLite always, and
PostgreSQL when TEST_DATABASE_URL is set. With CI=true a missing PostgreSQL
or Chromium fails the run instead of skipping.
"""

from __future__ import annotations

import contextvars
import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_mail import Mail
from sqlalchemy import delete, insert

from app import create_app, schema
from app.extensions import Base, db, limiter
from app.reference import seed_rows
from app.services import campaigns, keys, people
from app.timeutil import utcnow
from config import TestingConfig
from tests.smtp import SmtpServer

IN_CI = os.environ.get("CI", "").lower() == "true"
PASSPHRASE = "correct horse battery staple"
SEED_ROWS = seed_rows()


def skip_or_fail(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


def _database_url(kind: str, tmp: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'jidu-test.sqlite3'}"
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        skip_or_fail("TEST_DATABASE_URL is not set: PostgreSQL tests not run")
    return str(url)


class IsolatedClient(FlaskClient):
    """Each request in its own, fresh context, as in a real server.

    Tests hold an app context open to use ``db.session``; without this, every
    request would share it (and its ``g``, its session) with the test and
    with each other, hiding bugs such as a user cached across requests.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        # Buffered: a streamed body is read inside the request's own context.
        kwargs.setdefault("buffered", True)
        return contextvars.Context().run(super().open, *args, **kwargs)


def make_config(tmp: Path, url: str) -> type[TestingConfig]:
    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url
        INSTANCE_DIR = tmp / "instance"
        JIDU_DATA_DIR = tmp / "data"

    return Config


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def base_app(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    tmp = tmp_path_factory.mktemp(backend)
    app = create_app(make_config(tmp, _database_url(backend, tmp)))
    app.test_client_class = IsolatedClient
    with app.app_context():
        schema.rebuild(db.engine)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(base_app: Flask) -> Iterator[Flask]:
    """The app, with every table back to its freshly built state after each test.

    Reference tables are reloaded too: a test that adds a situation or renames a
    department must not change what the next test sees.
    """
    with base_app.app_context():
        limiter.reset()
        yield base_app
        db.session.rollback()
        for table in reversed(Base.metadata.sorted_tables):
            if table.name != "reference_version":  # its triggers count what follows
                db.session.execute(delete(table))
        for name, rows in SEED_ROWS.items():
            db.session.execute(insert(Base.metadata.tables[name]), rows)
        db.session.commit()
        data_dir = Path(base_app.config["JIDU_DATA_DIR"])
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True, exist_ok=True)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def identity_key(app: Flask) -> str:
    """The identity keypair, created with PASSPHRASE; returns its key id."""
    return keys.init_keys(db.session, passphrase=PASSPHRASE,
                          log2n=app.config["JIDU_SCRYPT_LOG2N"], actor="test")


@pytest.fixture
def open_campaign(app: Flask) -> Any:
    now = utcnow()
    return campaigns.create_campaign(db.session, slug="open", title="测试征集",
                                     opens_at=now - timedelta(days=1),
                                     deadline=now + timedelta(days=30), actor="test")


@pytest.fixture
def ready(identity_key: str, open_campaign: Any) -> str:
    """An open campaign and an identity key: public intake works."""
    return identity_key


@pytest.fixture
def app_token(app: Flask) -> str:
    return people.create_token(db.session, channel="app", name="浙企之家", actor="test")


@pytest.fixture
def hotline_token(app: Flask) -> str:
    return people.create_token(db.session, channel="hotline", name="12345", actor="test")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def smtp(app: Flask) -> Iterator[SmtpServer]:
    """A real SMTP server, and the app's mail pointed at it for this test."""
    server = SmtpServer()
    server.start()
    saved_config = {k: app.config.get(k) for k in ("MAIL_SERVER", "MAIL_PORT")}
    saved_state = app.extensions["mail"]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port)
    # Flask-Mail reads its settings once, at init: give it the test server's.
    app.extensions["mail"] = Mail().init_mail({**app.config, "MAIL_SUPPRESS_SEND": False})
    yield server
    server.stop()
    app.config.update(saved_config)
    app.extensions["mail"] = saved_state


EVIDENCE_PASSPHRASE = "evidence passphrase for tests"


@pytest.fixture
def evidence_key(app: Flask) -> str:
    """The evidence keypair (attachments), created with EVIDENCE_PASSPHRASE."""
    from app.services import evidence_keys

    return evidence_keys.init_key(db.session, passphrase=EVIDENCE_PASSPHRASE,
                                  log2n=app.config["JIDU_SCRYPT_LOG2N"], actor="test")
