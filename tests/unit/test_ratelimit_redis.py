"""Rate limits shared through Redis by several processes, keyed without addresses."""

from __future__ import annotations

import os
import uuid

import pytest
import redis

from app import create_app
from app.extensions import db, limiter
from tests.conftest import make_config, skip_or_fail

ADDRESS = "198.51.100.23"


@pytest.fixture
def redis_url():
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        skip_or_fail("TEST_REDIS_URL is not set: Redis rate-limit tests not run")
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


def two_processes(tmp_path, redis_url, backend_url):
    apps = []
    for _ in range(2):
        config = make_config(tmp_path, backend_url)
        config.RATELIMIT_STORAGE_URI = redis_url
        config.RATELIMIT_KEY_PREFIX = f"jidu-test-{uuid.uuid4().hex[:6]}"
        config.JIDU_LIMIT_LOOKUP_ADDRESS = "5 per minute"
        apps.append(create_app(config))
    prefix = apps[0].config["RATELIMIT_KEY_PREFIX"]
    for app in apps:
        app.config["RATELIMIT_KEY_PREFIX"] = prefix
    return apps


@pytest.fixture
def restore_limiter(base_app):
    # Flask-Limiter keeps one storage per Limiter object: give it back to the
    # session's app once the Redis-backed apps are done.
    yield
    limiter.init_app(base_app)


def test_limits_are_shared_and_store_no_address(base_app, tmp_path, redis_url, restore_limiter):
    apps = two_processes(tmp_path, redis_url, base_app.config["SQLALCHEMY_DATABASE_URI"])
    statuses = []
    for i in range(8):
        client = apps[i % 2].test_client()
        response = client.post("/api/v1/receipts/lookup",
                               json={"receipt": f"{i:020d}"},
                               environ_base={"REMOTE_ADDR": ADDRESS})
        statuses.append(response.status_code)
    assert statuses[:5] == [404] * 5
    assert statuses[5:] == [429] * 3
    keys = [key.decode() for key in redis.Redis.from_url(redis_url).keys("*")]
    assert keys, "the limiter wrote no counters to Redis"
    assert not any(ADDRESS in key or ADDRESS.replace(".", "") in key for key in keys)
    for app in apps:
        with app.app_context():
            db.engine.dispose()
