"""JIDU_TRUSTED_PROXIES: which address the per-address rate limit counts.

Behind nginx (1 hop) the client is the address nginx appends to
X-Forwarded-For; anything the client wrote into the header itself is
ignored. With no trusted proxy the header is ignored altogether, so a client
cannot escape its limit by inventing addresses.
"""

from __future__ import annotations

import pytest

from app import create_app
from app.extensions import db, limiter
from tests.conftest import make_config

NGINX = "127.0.0.1"


@pytest.fixture
def make_app(base_app, tmp_path):
    made = []

    def make(hops: int):
        config = make_config(tmp_path, base_app.config["SQLALCHEMY_DATABASE_URI"])
        config.JIDU_TRUSTED_PROXIES = hops
        config.JIDU_LIMIT_LOOKUP_ADDRESS = "3 per minute"
        app = create_app(config)
        made.append(app)
        with app.app_context():
            limiter.reset()
        return app.test_client()

    yield make
    for app in made:
        with app.app_context():
            db.engine.dispose()
    # One Limiter object serves every app: give it back to the session's app.
    limiter.init_app(base_app)


def lookups(client, forwarded_for: list[str]) -> list[int]:
    return [client.post("/api/v1/receipts/lookup", json={"receipt": f"{n:020d}"},
                        headers={"X-Forwarded-For": value},
                        environ_base={"REMOTE_ADDR": NGINX}).status_code
            for n, value in enumerate(forwarded_for)]


def test_one_trusted_hop_counts_the_address_nginx_saw(make_app):
    client = make_app(1)
    assert lookups(client, ["203.0.113.7"] * 4) == [404, 404, 404, 429]
    # Another reporter behind the same nginx has a limit of their own.
    assert lookups(client, ["203.0.113.8"]) == [404]
    # Writing addresses into the header does not help: nginx appends the real one.
    assert lookups(client, ["10.0.0.1, 203.0.113.7", "192.0.2.55, 203.0.113.7"]) == [429, 429]


def test_two_trusted_hops_skip_the_load_balancer(make_app):
    client = make_app(2)
    # client, then the load balancer's address appended by nginx
    assert lookups(client, ["203.0.113.7, 10.0.0.2"] * 4) == [404, 404, 404, 429]
    assert lookups(client, ["203.0.113.8, 10.0.0.2"]) == [404]


def test_no_trusted_proxy_ignores_the_header(make_app):
    client = make_app(0)
    answers = lookups(client, ["203.0.113.7", "203.0.113.8", "203.0.113.9", "203.0.113.10"])
    assert answers == [404, 404, 404, 429]
