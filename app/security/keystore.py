"""The identity keypair's private half, kept only under a passphrase.

Why: whoever holds the database (or the running server) must not be able to
read identities. The X25519 private key is encrypted with AES-256-GCM under a
key derived from the custodian's passphrase with scrypt; only this encrypted
blob is stored. The plaintext key exists in memory while a custodian uses it
and is never written to disk. The scrypt cost is stored with the blob, so a
stronger cost later does not strand old keys.

The passphrase may instead be a random one that nobody knows, dealt to
custodians as M-of-N shares (security/shares.py); the blob then records the
split's identifier, threshold and count, and ``unlock`` takes the shares.
A retired key is destroyed by replacing its blob with ``DESTROYED``.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from app.security import shares as sharing
from app.security.envelope import key_id

MIN_PASSPHRASE = 12
DESTROYED = '{"v":1,"destroyed":true}'


class PassphraseError(ValueError):
    """The passphrase (or the shares) is too short, or does not open the private key."""


@dataclass(frozen=True)
class Shares:
    """Custodians' shares, given instead of a passphrase."""

    words: tuple[str, ...]


Secret = str | Shares


@dataclass(frozen=True)
class SplitInfo:
    identifier: int
    threshold: int
    count: int


def _derive(passphrase: str, salt: bytes, log2n: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=2**log2n, r=8, p=1).derive(passphrase.encode("utf-8"))


def generate(passphrase: str, log2n: int) -> tuple[X25519PublicKey, str]:
    """A new keypair: the public key, and the private key encrypted as JSON."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise PassphraseError(f"the passphrase needs at least {MIN_PASSPHRASE} characters")
    private = X25519PrivateKey.generate()
    return private.public_key(), protect(private, passphrase, log2n)


def protect(private: X25519PrivateKey, passphrase: str, log2n: int,
            split: SplitInfo | None = None) -> str:
    if len(passphrase) < MIN_PASSPHRASE:
        raise PassphraseError(f"the passphrase needs at least {MIN_PASSPHRASE} characters")
    salt, nonce = os.urandom(16), os.urandom(12)
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    kid = key_id(private.public_key())
    ciphertext = AESGCM(_derive(passphrase, salt, log2n)).encrypt(nonce, raw, kid.encode())
    blob: dict[str, object] = {
        "v": 1,
        "kdf": "scrypt",
        "log2n": log2n,
        "r": 8,
        "p": 1,
        "kid": kid,
        "salt": base64.b64encode(salt).decode(),
        "nonce": base64.b64encode(nonce).decode(),
        "ct": base64.b64encode(ciphertext).decode(),
    }
    if split is not None:
        blob["split"] = {"id": split.identifier, "threshold": split.threshold,
                         "count": split.count}
    return json.dumps(blob)


def protect_split(private: X25519PrivateKey, threshold: int, count: int,
                  log2n: int) -> tuple[str, SplitInfo, tuple[str, ...]]:
    """Protect under a fresh random passphrase dealt as shares; returns (blob, split, shares)."""
    dealt = sharing.split(threshold, count)
    info = SplitInfo(dealt.identifier, threshold, count)
    return protect(private, dealt.passphrase, log2n, info), info, dealt.shares


def split_of(protected: str) -> SplitInfo | None:
    """How the key is split among custodians, or None if it has a plain passphrase."""
    raw = json.loads(protected).get("split")
    if not raw:
        return None
    return SplitInfo(int(raw["id"]), int(raw["threshold"]), int(raw["count"]))


def is_destroyed(protected: str) -> bool:
    return bool(json.loads(protected).get("destroyed"))


def _passphrase(blob: dict[str, object], secret: Secret) -> str:
    raw_split = blob.get("split")
    split_id = int(raw_split["id"]) if isinstance(raw_split, dict) else None
    words: tuple[str, ...] | list[str] | None = (
        secret.words if isinstance(secret, Shares) else None)
    if words is None and split_id is not None:
        # A split key's passphrase is known to nobody: typed text can only be
        # the shares themselves (e.g. custodians typing theirs in turn).
        words = sharing.from_text(str(secret))
    if words is None:
        return str(secret)
    if split_id is None:
        raise PassphraseError("this key is not split: it takes its passphrase, not shares")
    try:
        return sharing.combine(words, identifier=split_id)
    except sharing.SharesError as exc:
        raise PassphraseError(str(exc)) from exc


def unlock(protected: str, secret: Secret) -> X25519PrivateKey:
    """Decrypt the private key; raises ``PassphraseError`` on a wrong passphrase or shares."""
    blob = json.loads(protected)
    if blob.get("destroyed"):
        raise PassphraseError("this private key was destroyed")
    passphrase = _passphrase(blob, secret)
    key = _derive(passphrase, base64.b64decode(blob["salt"]), int(blob["log2n"]))
    try:
        raw = AESGCM(key).decrypt(
            base64.b64decode(blob["nonce"]), base64.b64decode(blob["ct"]), blob["kid"].encode()
        )
    except InvalidTag as exc:
        raise PassphraseError("wrong shares" if isinstance(secret, Shares) or "split" in blob
                              else "wrong passphrase") from exc
    return X25519PrivateKey.from_private_bytes(raw)
