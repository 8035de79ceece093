"""Public-key envelopes for reporter identities (and, later, attachments).

Why: the web server must be able to *write* an identity but never *read* it
back. Each sealed value gets its own random 256-bit data key; the value is
encrypted with AES-256-GCM under that key, and the data key is wrapped for
the holder of an X25519 private key (ephemeral-static ECDH, HKDF-SHA256,
AES-256-GCM). The running service holds only the public key.

Format, version 1, stored as compact JSON text so that it is inspectable and
versioned::

    {"v": 1, "alg": "X25519-HKDF-SHA256-A256GCM", "kid": "<key id>",
     "epk": b64, "wn": b64, "wk": b64, "n": b64, "ct": b64}

``kid`` names the keypair that wrapped the data key, so that key rotation can
re-wrap ``wk`` without touching ``ct`` and crypto-shredding can delete ``wk``.
The associated data binds a value to its place (e.g. ``clue:JD-…:identity``):
an envelope copied onto another record does not open.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

VERSION = 1
ALGORITHM = "X25519-HKDF-SHA256-A256GCM"
_WRAP_INFO = b"jidu envelope v1 key wrap"


class EnvelopeError(ValueError):
    """The envelope is malformed, of an unknown version, or does not open."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_bytes(public_key: X25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(public_key: X25519PublicKey) -> str:
    """A short, stable name for a public key: the first 16 hex of its SHA-256."""
    return hashlib.sha256(public_bytes(public_key)).hexdigest()[:16]


@dataclass(frozen=True)
class Envelope:
    kid: str
    epk: bytes
    wrap_nonce: bytes
    wrapped_key: bytes
    nonce: bytes
    ciphertext: bytes

    def dumps(self) -> str:
        return json.dumps(
            {
                "v": VERSION,
                "alg": ALGORITHM,
                "kid": self.kid,
                "epk": _b64(self.epk),
                "wn": _b64(self.wrap_nonce),
                "wk": _b64(self.wrapped_key),
                "n": _b64(self.nonce),
                "ct": _b64(self.ciphertext),
            },
            separators=(",", ":"),
        )

    @classmethod
    def loads(cls, text: str) -> Envelope:
        try:
            raw = json.loads(text)
            if raw.get("v") != VERSION or raw.get("alg") != ALGORITHM:
                raise EnvelopeError(f"unsupported envelope version {raw.get('v')!r}")
            return cls(
                kid=str(raw["kid"]),
                epk=_unb64(raw["epk"]),
                wrap_nonce=_unb64(raw["wn"]),
                wrapped_key=_unb64(raw["wk"]),
                nonce=_unb64(raw["n"]),
                ciphertext=_unb64(raw["ct"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            if isinstance(exc, EnvelopeError):
                raise
            raise EnvelopeError("malformed envelope") from exc


def _kek(shared: bytes, epk: bytes, recipient: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=epk + recipient, info=_WRAP_INFO
    ).derive(shared)


class Sealer:
    """Seals values for one recipient; one key exchange serves many values.

    Why: a bulk import of 100,000 hotline orders cannot afford an X25519 key
    exchange per caller (about 0.1 ms each). Values sealed by one Sealer share
    the ephemeral key and so the key-wrapping key, but each still has its own
    random data key and nonces, and each opens on its own with
    ``open_sealed``. What they reveal is only that they were sealed together,
    which an import batch reveals anyway. A single ``seal`` uses a fresh one.
    """

    def __init__(self, recipient: X25519PublicKey) -> None:
        ephemeral = X25519PrivateKey.generate()
        self.kid = key_id(recipient)
        self.epk = public_bytes(ephemeral.public_key())
        self._kek = AESGCM(_kek(ephemeral.exchange(recipient), self.epk,
                                public_bytes(recipient)))

    def wrap(self, data_key: bytes) -> tuple[bytes, bytes, bytes]:
        wrap_nonce = os.urandom(12)
        return self.epk, wrap_nonce, self._kek.encrypt(wrap_nonce, data_key, self.epk)

    def seal(self, plaintext: bytes, aad: bytes) -> str:
        data_key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(12)
        ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, aad)
        epk, wrap_nonce, wrapped = self.wrap(data_key)
        return Envelope(self.kid, epk, wrap_nonce, wrapped, nonce, ciphertext).dumps()


def _unwrap(envelope: Envelope, private_key: X25519PrivateKey) -> bytes:
    recipient = public_bytes(private_key.public_key())
    try:
        peer = X25519PublicKey.from_public_bytes(envelope.epk)
        kek = _kek(private_key.exchange(peer), envelope.epk, recipient)
        return AESGCM(kek).decrypt(envelope.wrap_nonce, envelope.wrapped_key, envelope.epk)
    except (InvalidTag, ValueError) as exc:
        raise EnvelopeError("this key cannot open the envelope") from exc


def seal(plaintext: bytes, recipient: X25519PublicKey, aad: bytes) -> str:
    """Encrypt ``plaintext`` so that only ``recipient``'s private key opens it."""
    return Sealer(recipient).seal(plaintext, aad)


def open_sealed(text: str, private_key: X25519PrivateKey, aad: bytes) -> bytes:
    """Decrypt an envelope; raises ``EnvelopeError`` for a wrong key or place."""
    envelope = Envelope.loads(text)
    if envelope.kid != key_id(private_key.public_key()):
        raise EnvelopeError(f"envelope was sealed for key {envelope.kid}")
    data_key = _unwrap(envelope, private_key)
    try:
        return AESGCM(data_key).decrypt(envelope.nonce, envelope.ciphertext, aad)
    except InvalidTag as exc:
        raise EnvelopeError("envelope does not belong here or was altered") from exc


def rewrap(text: str, old: X25519PrivateKey, new: X25519PublicKey,
           sealer: Sealer | None = None) -> str:
    """Re-wrap the data key for a new keypair; the ciphertext is untouched.

    A key rotation passes one ``sealer`` (for ``new``) per batch: one key
    exchange serves the batch, as for a bulk import (see ``Sealer``).
    """
    envelope = Envelope.loads(text)
    if envelope.kid != key_id(old.public_key()):
        raise EnvelopeError(f"envelope was sealed for key {envelope.kid}")
    data_key = _unwrap(envelope, old)
    if sealer is None:
        sealer = Sealer(new)
    elif sealer.kid != key_id(new):
        raise ValueError("the sealer is for another key")
    epk, wrap_nonce, wrapped = sealer.wrap(data_key)
    return Envelope(
        sealer.kid, epk, wrap_nonce, wrapped, envelope.nonce, envelope.ciphertext
    ).dumps()


def kid_of(text: str) -> str | None:
    """The key an envelope names, or None if it is malformed."""
    try:
        return Envelope.loads(text).kid
    except EnvelopeError:
        return None
