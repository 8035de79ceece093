"""The identity keypair's lifecycle."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from sqlalchemy import select

from app.models import IdentityKey
from app.security import envelope, keystore
from app.services import audit
from app.services.errors import Conflict, NotConfigured
from app.services.types import DbSession


def init_keys(session: DbSession, *, passphrase: str, log2n: int, actor: str) -> str:
    """Create the first identity keypair; refuses if one exists. Returns its key id."""
    if session.scalar(select(IdentityKey.kid).limit(1)) is not None:
        raise Conflict("an identity keypair already exists; refusing to overwrite it")
    public, protected = keystore.generate(passphrase, log2n)
    kid = envelope.key_id(public)
    session.add(
        IdentityKey(kid=kid, public_key=envelope.public_bytes(public),
                    private_key_protected=protected, active=True)
    )
    audit.record(session, actor=actor, action="keys.init", target=f"key:{kid}",
                 details={"algorithm": "X25519", "scrypt_log2n": log2n})
    session.commit()
    return kid


def active_key(session: DbSession) -> IdentityKey:
    key = session.scalar(
        select(IdentityKey).where(IdentityKey.active.is_(True))
        .order_by(IdentityKey.created_at.desc()).limit(1)
    )
    if key is None:
        raise NotConfigured("no identity keypair: run `flask --app wsgi keys init`")
    return key


def active_public_key(session: DbSession) -> X25519PublicKey:
    return X25519PublicKey.from_public_bytes(active_key(session).public_key)


def unlock_private_key(session: DbSession, kid: str, passphrase: str) -> X25519PrivateKey:
    """For custodians: the private key, in memory only. Raises on a wrong passphrase."""
    key = session.get(IdentityKey, kid)
    if key is None:
        raise NotConfigured(f"no identity key {kid}")
    return keystore.unlock(key.private_key_protected, passphrase)
