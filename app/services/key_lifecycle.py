"""Key lifecycle for both keypairs: rotate, split among custodians, destroy (verify: key_verify).

Why rotation re-wraps and never re-encrypts: each sealed value has its own
data key, wrapped for a keypair (security/envelope.py). Moving a value to a
new keypair unwraps that small key with the old private key and wraps it
for the new public key; the ciphertext (an identity, a file's key and name)
is not touched, and attachment files on disk are not read at all.

A rotation commits batch by batch. Each value names its key, so after a
crash or Ctrl+C the same command finishes the work: values already on the
new key are skipped. The new key becomes current for new submissions when
the rotation starts; a submission sealed for the old key in that moment, or
an import that read the old key before, is left on it, which ``verify``
reports and another ``rotate`` picks up. The old private key stays (retired)
until ``destroy``, which refuses while anything is still sealed for it.

Every step is audited; wrong passphrases and shares too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from sqlalchemy import select

from app.models import EvidenceKey, IdentityKey
from app.security import envelope, keystore
from app.services import audit
from app.services.errors import Conflict, NotConfigured, NotFound
from app.services.sealed import KEY_MODELS, PLACES, Item, KeyKind, census
from app.services.types import DbSession
from app.timeutil import utcnow

BATCH = 500
Progress = Callable[[str, int], None]
# Hands new shares to the custodians (prints or writes them). Called before
# the commit that makes them the only way in: if it fails, nothing changes.
Deliver = Callable[[str, keystore.SplitInfo, tuple[str, ...]], None]
KeyRow = IdentityKey | EvidenceKey


@dataclass(frozen=True)
class Protection:
    """How a new private key is kept: a custodian's passphrase, or a fresh M-of-N split."""

    passphrase: str | None = None
    threshold: int = 0
    count: int = 0

    def apply(self, private: X25519PrivateKey, log2n: int, *, kid: str,
              deliver: Deliver | None) -> str:
        if self.passphrase is not None:
            return keystore.protect(private, self.passphrase, log2n)
        if deliver is None:
            raise ValueError("a split needs somewhere to deliver its shares")
        protected, info, shares = keystore.protect_split(private, self.threshold, self.count,
                                                         log2n)
        deliver(kid, info, shares)
        return protected

    def describe(self) -> str:
        return "passphrase" if self.passphrase is not None else (
            f"split {self.threshold} of {self.count}")


@dataclass(frozen=True)
class Plan:
    """What ``rotate`` would do now, so that a door can ask for the right secret."""

    kind: KeyKind
    current: str
    resume: bool
    # Keys whose private half a run needs: the current one for a new rotation,
    # the older ones still holding values for a resumed one.
    unlock: tuple[str, ...]
    pending: int  # values not on the current key
    stranded: int  # values on a destroyed or unknown key: nothing can move them

    def split(self, session: DbSession, kid: str) -> keystore.SplitInfo | None:
        return keystore.split_of(_key(session, self.kind, kid).private_key_protected)


@dataclass
class Rotation:
    kind: KeyKind
    old: tuple[str, ...]
    new: str
    resumed: bool
    moved: int = 0
    failed: list[str] = field(default_factory=list)
    remaining: int = 0


def keys_of(session: DbSession, kind: KeyKind) -> list[KeyRow]:
    model = KEY_MODELS[kind]
    return list(session.scalars(select(model).order_by(model.created_at)))


def current(session: DbSession, kind: KeyKind) -> KeyRow:
    model = KEY_MODELS[kind]
    key = cast(KeyRow | None, session.scalar(select(model).where(model.active.is_(True))
                                             .order_by(model.created_at.desc()).limit(1)))
    if key is None:
        raise NotConfigured(f"no {kind} keypair: run `keys init`")
    return key


def _current_for_update(session: DbSession, kind: KeyKind) -> KeyRow:
    """The current key, row-locked on PostgreSQL: two rotations cannot both start."""
    model = KEY_MODELS[kind]
    key = cast(KeyRow | None, session.scalar(
        select(model).where(model.active.is_(True)).order_by(model.created_at.desc())
        .limit(1).with_for_update()))
    if key is None:
        raise NotConfigured(f"no {kind} keypair: run `keys init`")
    return key


def _key(session: DbSession, kind: KeyKind, kid: str) -> KeyRow:
    key = cast(KeyRow | None, session.get(KEY_MODELS[kind], kid))
    if key is None:
        raise NotFound(f"no {kind} key {kid}")
    return key


def unlock(session: DbSession, kind: KeyKind, kid: str, secret: keystore.Secret, *,
           actor: str, purpose: str) -> X25519PrivateKey:
    """The private key in memory; a wrong passphrase or share set is audited, then raised."""
    key = _key(session, kind, kid)
    try:
        return keystore.unlock(key.private_key_protected, secret)
    except keystore.PassphraseError:
        audit.record(session, actor=actor, action="keys.unlock_failed", target=f"key:{kid}",
                     details={"kind": str(kind), "for": purpose})
        session.commit()
        raise


def plan(session: DbSession, kind: KeyKind) -> Plan:
    active = current(session, kind)
    counts = census(session, kind)
    usable = {k.kid for k in keys_of(session, kind)
              if not keystore.is_destroyed(k.private_key_protected)}
    older = sorted(kid for kid in counts if kid is not None and kid != active.kid
                   and kid in usable)
    pending = sum(n for kid, n in counts.items() if kid != active.kid)
    stranded = sum(n for kid, n in counts.items() if kid != active.kid and kid not in older)
    return Plan(kind, active.kid, bool(older), tuple(older) if older else (active.kid,),
                pending, stranded)


def check(todo: Plan, protection: Protection | None) -> None:
    """A new rotation needs protection for the new key; finishing one must not get any."""
    if todo.resume and protection is not None:
        raise Conflict(f"a rotation to {todo.kind} key {todo.current} is unfinished "
                       f"({todo.pending} values on key {', '.join(todo.unlock)}): "
                       "finish it first, with that key's secret and no new protection")
    if not todo.resume and protection is None:
        raise Conflict(f"every {todo.kind} value is on the current key {todo.current}: "
                       "a new rotation needs a passphrase or a split for the new key")


def rotate(session: DbSession, kind: KeyKind, *, secret: keystore.Secret,
           protection: Protection | None, log2n: int, actor: str, batch: int = BATCH,
           progress: Progress | None = None, deliver: Deliver | None = None,
           now: datetime | None = None) -> Rotation:
    """Start a rotation to a new keypair, or finish an interrupted one; returns the tally.

    A new rotation needs ``protection`` for the new private key and the
    current key's ``secret``; finishing one needs the older key's secret and
    refuses a ``protection`` (the new key exists already).
    """
    now = now or utcnow()
    todo = plan(session, kind)
    check(todo, protection)
    if protection is not None:
        old = _current_for_update(session, kind)
        if old.kid != todo.current:
            raise Conflict(f"another rotation of the {kind} key started meanwhile")
        unlocked = {old.kid: unlock(session, kind, old.kid, secret, actor=actor,
                                    purpose="rotate")}
        private = X25519PrivateKey.generate()
        target = private.public_key()
        new_kid = envelope.key_id(target)
        protected = protection.apply(private, log2n, kid=new_kid, deliver=deliver)
        del private
        session.add(KEY_MODELS[kind](kid=new_kid, public_key=envelope.public_bytes(target),
                                     private_key_protected=protected, active=True,
                                     created_at=now))
        old.active, old.retired_at = False, now
        audit.record(session, actor=actor, action="keys.rotate", target=f"key:{new_kid}",
                     details={"kind": str(kind), "from": old.kid, "to": new_kid,
                              "protection": protection.describe()}, now=now)
        session.commit()
        result = Rotation(kind, (old.kid,), new_kid, resumed=False)
    else:
        unlocked = {kid: unlock(session, kind, kid, secret, actor=actor, purpose="rotate")
                    for kid in todo.unlock}
        active = current(session, kind)
        target = X25519PublicKey.from_public_bytes(active.public_key)
        result = Rotation(kind, todo.unlock, active.kid, resumed=True)
        audit.record(session, actor=actor, action="keys.rotate_resumed",
                     target=f"key:{active.kid}",
                     details={"kind": str(kind), "from": list(todo.unlock),
                              "pending": todo.pending}, now=now)
        session.commit()
    _move(session, kind, unlocked, target, result, batch, progress)
    del unlocked
    result.remaining = sum(n for kid, n in census(session, kind).items() if kid != result.new)
    audit.record(session, actor=actor, action="keys.rotate_finished", target=f"key:{result.new}",
                 details={"kind": str(kind), "moved": result.moved,
                          "failed": len(result.failed), "remaining": result.remaining})
    session.commit()
    return result


def _move(session: DbSession, kind: KeyKind, unlocked: dict[str, X25519PrivateKey],
          target: X25519PublicKey, result: Rotation, batch: int,
          progress: Progress | None) -> None:
    for place in PLACES[kind]:
        for items in place.batches(session, batch):
            # One ephemeral key per batch: see envelope.Sealer for why that is safe.
            sealer = envelope.Sealer(target)
            changes: list[tuple[Item, str]] = []
            for item in items:
                private = unlocked.get(envelope.kid_of(item.sealed) or "")
                if private is None:
                    continue  # on the new key already, or on a key we cannot open
                try:
                    changes.append((item, envelope.rewrap(item.sealed, private, target,
                                                          sealer)))
                except envelope.EnvelopeError as exc:
                    result.failed.append(f"{item.label}: {exc}")
            place.replace(session, changes)
            session.commit()
            result.moved += len(changes)
            if progress is not None:
                progress(place.name, result.moved)


def split(session: DbSession, kind: KeyKind, *, secret: keystore.Secret, threshold: int,
          count: int, log2n: int, actor: str, deliver: Deliver) -> keystore.SplitInfo:
    """Keep the current private key under a random passphrase dealt as M-of-N shares.

    The old passphrase (or the old shares) no longer opens the key, except in
    database backups taken before. ``deliver`` gets the shares before the
    commit, so that a failure to hand them out leaves the old protection.
    """
    key = current(session, kind)
    private = unlock(session, kind, key.kid, secret, actor=actor, purpose="split")
    protected, info, shares = keystore.protect_split(private, threshold, count, log2n)
    del private
    deliver(key.kid, info, shares)
    key.private_key_protected = protected
    audit.record(session, actor=actor, action="keys.split", target=f"key:{key.kid}",
                 details={"kind": str(kind), "threshold": threshold, "count": count,
                          "split": info.identifier})
    session.commit()
    return info


def destroy(session: DbSession, kind: KeyKind, kid: str, *, actor: str) -> None:
    """Erase a retired private key for good; refuses while any value is sealed for it."""
    key = _key(session, kind, kid)
    if key.active:
        raise Conflict(f"{kind} key {kid} is current: rotate first")
    if keystore.is_destroyed(key.private_key_protected):
        raise Conflict(f"{kind} key {kid} is already destroyed")
    left = census(session, kind)[kid]
    if left:
        raise Conflict(f"{left} values are still sealed for {kind} key {kid}: "
                       "run `keys rotate` to move them first")
    key.private_key_protected = keystore.DESTROYED
    audit.record(session, actor=actor, action="keys.destroy", target=f"key:{kid}",
                 details={"kind": str(kind)})
    session.commit()
