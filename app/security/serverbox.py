"""Symmetric encryption under a server-held key, for data the server must use.

Why: a reporter's consented notify-me address is not part of the identity;
the mail worker has to read it to send "there is news" mails, so it cannot
sit under the custodians' public key. It is encrypted with AES-256-GCM under
a key derived (HKDF) from ``JIDU_RECEIPT_KEY``, bound to its record by the
associated data, and erased when the clue closes. A database thief without
the server's environment cannot read it.
"""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class BoxError(ValueError):
    pass


def derive_key(secret: str, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"jidu {purpose} v1".encode()
    ).derive(secret.encode())


def _kid(key: bytes) -> str:
    return hashlib.sha256(b"jidu box kid\x00" + key).hexdigest()[:8]


def seal(key: bytes, plaintext: str, aad: bytes) -> str:
    nonce = os.urandom(12)
    ct = AESGCM(key).encrypt(nonce, plaintext.encode(), aad)
    return f"s1${_kid(key)}${base64.urlsafe_b64encode(nonce + ct).decode()}"


def open_box(key: bytes, sealed: str, aad: bytes) -> str:
    try:
        version, kid, payload = sealed.split("$", 2)
        if version != "s1" or kid != _kid(key):
            raise BoxError("sealed under another key or format")
        raw = base64.urlsafe_b64decode(payload)
        return AESGCM(key).decrypt(raw[:12], raw[12:], aad).decode()
    except (ValueError, InvalidTag) as exc:
        if isinstance(exc, BoxError):
            raise
        raise BoxError("cannot open") from exc
