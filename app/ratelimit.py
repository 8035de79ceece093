"""Rate-limit keys: per address, per session and per receipt, none of them stored.

A QR campaign at a business meeting puts thirty honest people behind one NAT
address, so the per-address limits are generous and the tight ones apply to
a single browser session or a single receipt. Every key is a keyed hash
under a key that changes daily (security/ratekeys.py); counters expire.
"""

from __future__ import annotations

import secrets

from flask import current_app, g, request, session
from limits import parse_many

from app.security.ratekeys import anonymous_key
from app.security.receipts import normalise
from app.timeutil import local_today

SESSION_FIELD = "rl"


def _key(value: str) -> str:
    return anonymous_key(current_app.config["SECRET_KEY"], local_today(), value)


def client_key() -> str:
    return "a:" + _key("addr:" + (request.remote_addr or "-"))


def ensure_session_id() -> str:
    if SESSION_FIELD not in session:
        session[SESSION_FIELD] = secrets.token_urlsafe(12)
    return str(session[SESSION_FIELD])


def session_key() -> str:
    sid = session.get(SESSION_FIELD)
    if not sid:
        return client_key()
    return "s:" + _key("session:" + str(sid))


def receipt_key() -> str:
    typed = ""
    if request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict) and isinstance(body.get("receipt"), str):
            typed = body["receipt"]
    else:
        typed = request.form.get("receipt", "")
    return "r:" + _key("receipt:" + (normalise(typed) or typed[:64]))


def token_key() -> str:
    token = getattr(g, "api_token", None)
    if token is None:
        header = request.headers.get("Authorization", "")
        return "t:" + _key("token:" + header[-16:])
    return f"t:{token.id}"


# Failed Bearer tokens, counted per address under a scope of their own.
# Flask-Limiter's decorators run after the token check (they count per
# token), so wrong tokens are counted here, by hand, with its storage.
FAILED_AUTH_SCOPE = "api-auth-failures"


def _failed_token_limits() -> list:
    return parse_many(current_app.config["JIDU_LIMIT_API_TOKEN_FAILURES"])


def token_failures_exhausted() -> bool:
    """Whether this address sent too many wrong tokens lately (then: 429, no look-up)."""
    from app.extensions import limiter

    if not limiter.enabled:
        return False
    key = client_key()
    try:
        return not all(limiter.limiter.test(item, key, FAILED_AUTH_SCOPE)
                       for item in _failed_token_limits())
    except Exception:  # noqa: BLE001 - as the limiter does: a store that is down turns no one away
        current_app.logger.warning("rate limit storage unreachable: wrong tokens not limited")
        return False


def count_token_failure() -> None:
    from app.extensions import limiter

    if not limiter.enabled:
        return
    key = client_key()
    try:
        for item in _failed_token_limits():
            limiter.limiter.hit(item, key, FAILED_AUTH_SCOPE)
    except Exception:  # noqa: BLE001 - see token_failures_exhausted
        current_app.logger.warning("rate limit storage unreachable: wrong tokens not counted")
