"""The evidence keypair: it seals attachments, and opens nothing else.

Why a keypair of its own: reviewers, supervisors and liaisons must look at
photos and documents as part of ordinary work, so its passphrase is known to
more people than the identity custodians'. Were attachments sealed for the
identity key, every liaison who opens a photo would hold the passphrase that
also opens reporters' identities, and the two-person rule of disclosure
(services/disclosure.py) would rest on trust alone. With two keypairs the web
server still holds only public keys; a stolen database and data directory
open nothing without a passphrase; and the evidence passphrase never opens
an identity. Same envelope, same keystore, same rotation by ``kid``.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from sqlalchemy import select

from app.models import EvidenceKey
from app.security import envelope, keystore
from app.services import audit
from app.services.errors import Conflict, NotConfigured
from app.services.types import DbSession


def init_key(session: DbSession, *, passphrase: str, log2n: int, actor: str) -> str:
    """Create the evidence keypair; refuses if one exists. Returns its key id."""
    if session.scalar(select(EvidenceKey.kid).limit(1)) is not None:
        raise Conflict("an evidence keypair already exists; refusing to overwrite it")
    public, protected = keystore.generate(passphrase, log2n)
    kid = envelope.key_id(public)
    session.add(EvidenceKey(kid=kid, public_key=envelope.public_bytes(public),
                            private_key_protected=protected, active=True))
    audit.record(session, actor=actor, action="keys.init_evidence", target=f"key:{kid}",
                 details={"algorithm": "X25519", "scrypt_log2n": log2n})
    session.commit()
    return kid


def active_public_key(session: DbSession) -> X25519PublicKey | None:
    key = session.scalar(select(EvidenceKey).where(EvidenceKey.active.is_(True))
                         .order_by(EvidenceKey.created_at.desc()).limit(1))
    return None if key is None else X25519PublicKey.from_public_bytes(key.public_key)


def unlock(session: DbSession, kid: str, passphrase: str) -> X25519PrivateKey:
    """The private key, in memory only; raises ``keystore.PassphraseError`` if wrong."""
    key = session.get(EvidenceKey, kid)
    if key is None:
        raise NotConfigured(f"no evidence key {kid}")
    return keystore.unlock(key.private_key_protected, passphrase)
