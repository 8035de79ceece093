"""The identity keypair's private half, kept only under a passphrase.

Why: whoever holds the database (or the running server) must not be able to
read identities. The X25519 private key is encrypted with AES-256-GCM under a
key derived from the custodian's passphrase with scrypt; only this encrypted
blob is stored. The plaintext key exists in memory while a custodian uses it
and is never written to disk. The scrypt cost is stored with the blob, so a
stronger cost later does not strand old keys.
"""

from __future__ import annotations

import base64
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from app.security.envelope import key_id

MIN_PASSPHRASE = 12


class PassphraseError(ValueError):
    """The passphrase is too short, or does not open the private key."""


def _derive(passphrase: str, salt: bytes, log2n: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=2**log2n, r=8, p=1).derive(passphrase.encode("utf-8"))


def generate(passphrase: str, log2n: int) -> tuple[X25519PublicKey, str]:
    """A new keypair: the public key, and the private key encrypted as JSON."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise PassphraseError(f"the passphrase needs at least {MIN_PASSPHRASE} characters")
    private = X25519PrivateKey.generate()
    return private.public_key(), protect(private, passphrase, log2n)


def protect(private: X25519PrivateKey, passphrase: str, log2n: int) -> str:
    salt, nonce = os.urandom(16), os.urandom(12)
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    kid = key_id(private.public_key())
    ciphertext = AESGCM(_derive(passphrase, salt, log2n)).encrypt(nonce, raw, kid.encode())
    return json.dumps(
        {
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
    )


def unlock(protected: str, passphrase: str) -> X25519PrivateKey:
    """Decrypt the private key; raises ``PassphraseError`` on a wrong passphrase."""
    blob = json.loads(protected)
    key = _derive(passphrase, base64.b64decode(blob["salt"]), int(blob["log2n"]))
    try:
        raw = AESGCM(key).decrypt(
            base64.b64decode(blob["nonce"]), base64.b64decode(blob["ct"]), blob["kid"].encode()
        )
    except InvalidTag as exc:
        raise PassphraseError("wrong passphrase") from exc
    return X25519PrivateKey.from_private_bytes(raw)
