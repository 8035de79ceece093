"""Two gunicorn processes share one rate limit through Redis; no address is kept anywhere.

Real processes with the shipped gunicorn.conf.py and production settings, as
on two app hosts behind nginx: the client's address arrives only in
X-Forwarded-For (JIDU_TRUSTED_PROXIES=1), like nginx sends it.
"""

from __future__ import annotations

import redis

from tests.deploy.conftest import Server, free_port, production_env

LOOKUP = "/api/v1/receipts/lookup"
CLIENT = "198.51.100.23"
OTHER_CLIENT = "198.51.100.99"


def lookup(server: Server, n: int, client: str = CLIENT) -> int:
    # A different receipt each time: only the per-address limit (5) is reached.
    return server.post(LOOKUP, {"receipt": f"{n:020d}"}, {"X-Forwarded-For": client})


def test_two_processes_share_one_limit_through_redis(base_app, tmp_path, redis_url, servers):
    env = production_env(tmp_path, base_app.config["SQLALCHEMY_DATABASE_URI"],
                         REDIS_URL=redis_url, JIDU_TRUSTED_PROXIES="1",
                         JIDU_LIMIT_LOOKUP_ADDRESS="5 per minute")
    a, b = Server("a", tmp_path, env), Server("b", tmp_path, env)
    servers.extend([a, b])
    a.wait_ready()
    b.wait_ready()

    assert [lookup(a, n) for n in range(5)] == [404] * 5
    # Process B has never seen this client, but Redis has.
    assert lookup(b, 5) == 429
    assert lookup(a, 6) == 429
    # The limit is the client's, not the service's: another address still passes.
    assert lookup(b, 7, OTHER_CLIENT) == 404

    keys = [key.decode() for key in redis.Redis.from_url(redis_url).keys("*")]
    assert keys, "the limiter wrote no counters to Redis"
    for address in (CLIENT, OTHER_CLIENT, "127.0.0.1"):
        assert not any(address in key for key in keys)
        for server in (a, b):
            assert address not in server.access_log.read_text()
    assert f"POST {LOOKUP} HTTP/1.1\" 429" in b.access_log.read_text()


def test_limits_hold_per_process_while_redis_is_down(base_app, tmp_path, servers):
    down = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    env = production_env(tmp_path, base_app.config["SQLALCHEMY_DATABASE_URI"],
                         REDIS_URL=down, JIDU_TRUSTED_PROXIES="1",
                         JIDU_LIMIT_LOOKUP_ADDRESS="3 per minute")
    server = Server("alone", tmp_path, env)
    servers.append(server)
    server.wait_ready()

    # Never a 500: the reporter is answered, and the limit still counts.
    assert [lookup(server, n) for n in range(4)] == [404, 404, 404, 429]
    assert "falling back to in-memory storage" in server.log()
