"""Keys for rate limits that never keep a client address.

Why: the service must stop guessing and flooding, yet store no reporter's IP
address. Limits are counted under HMAC(day_key, address), where the day key
is derived from the server secret and the date, so yesterday's counters
cannot be linked to today's, and the counters expire from memory or Redis.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date


def day_key(secret: str, day: date) -> bytes:
    return hmac.new(secret.encode(), f"ratelimit {day.isoformat()}".encode(), "sha256").digest()


def anonymous_key(secret: str, day: date, value: str) -> str:
    return hmac.new(day_key(secret, day), value.encode(), hashlib.sha256).hexdigest()[:32]
