"""Receipts: the reporter's only secret, and tokens for partner systems.

Why this shape: a receipt must survive being read aloud on a hotline call or
retyped from a photo. It is 20 characters of Crockford base32 (100 bits of
entropy), shown in five groups of four; on input, case, spaces and hyphens
are ignored and the look-alikes O/I/L read as 0/1/1. Only a keyed hash is
stored (HMAC-SHA256 under ``JIDU_RECEIPT_KEY``), and the hash names its key
(``h1$<kid>$<hex>``) so that the key can be rotated later without guessing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
RECEIPT_CHARS = 20
GROUP = 4
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_receipt() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(RECEIPT_CHARS))
    return format_receipt(raw)


def format_receipt(raw: str) -> str:
    return "-".join(raw[i : i + GROUP] for i in range(0, len(raw), GROUP))


def normalise(text: str) -> str | None:
    """The canonical form of a typed receipt, or None if it cannot be one."""
    cleaned = "".join(ch for ch in text.upper() if ch not in " -\t\r\n\u3000—_")
    cleaned = cleaned.translate(_LOOKALIKES)
    if len(cleaned) != RECEIPT_CHARS or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


def key_id(key: str) -> str:
    return hashlib.sha256(b"jidu receipt key id\x00" + key.encode()).hexdigest()[:8]


def receipt_hash(receipt: str, key: str) -> str:
    """Keyed hash of a normalised receipt, naming the key that made it."""
    digest = hmac.new(key.encode(), receipt.encode(), hashlib.sha256).hexdigest()
    return f"h1${key_id(key)}${digest}"


def new_api_token() -> str:
    return "jidu_" + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    # API tokens carry 256 random bits, so a plain SHA-256 cannot be brute
    # forced; no key is needed to make the stored value useless to a thief.
    return hashlib.sha256(token.encode()).hexdigest()


def new_tracking_no() -> str:
    """Short, not secret, and random so that it does not reveal volumes."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"JD-{raw[:4]}-{raw[4:]}"
