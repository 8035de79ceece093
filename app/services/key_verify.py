"""``keys verify``: every sealed value opened with the current key, in memory only."""

from __future__ import annotations

import base64
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from app.security import envelope, filecrypt, keystore
from app.services import audit
from app.services.key_lifecycle import BATCH, Progress, current, unlock
from app.services.sealed import PLACES, Item, KeyKind
from app.services.types import DbSession


@dataclass
class Verification:
    kind: KeyKind
    kid: str
    ok: int = 0
    failed: list[str] = field(default_factory=list)
    old: Counter[str] = field(default_factory=Counter)

    @property
    def passed(self) -> bool:
        return not self.failed and not self.old


def verify(session: DbSession, kind: KeyKind, *, secret: keystore.Secret, actor: str,
           files: Path | None = None, batch: int = BATCH,
           progress: Progress | None = None) -> Verification:
    """Open every sealed value of ``kind`` with the current key, in memory; audited.

    With ``files`` (the attachments folder) each evidence file is decrypted
    too, to the end, and its bytes thrown away. Nothing opened is kept or
    printed; failures are named by tracking number or id only.
    """
    key = current(session, kind)
    private = unlock(session, kind, key.kid, secret, actor=actor, purpose="verify")
    result = Verification(kind, key.kid)
    seen = 0
    for place in PLACES[kind]:
        for items in place.batches(session, batch):
            for item in items:
                kid = envelope.kid_of(item.sealed)
                if kid is not None and kid != key.kid:
                    result.old[kid] += 1
                    continue
                problem = _check(item, private, files)
                if problem:
                    result.failed.append(f"{item.label}: {problem}")
                else:
                    result.ok += 1
            seen += len(items)
            if progress is not None:
                progress(place.name, seen)
    del private
    audit.record(session, actor=actor, action="keys.verify", target=f"key:{key.kid}",
                 details={"kind": str(kind), "ok": result.ok, "failed": len(result.failed),
                          "old_key": sum(result.old.values())})
    session.commit()
    return result


def _check(item: Item, private: X25519PrivateKey, files: Path | None) -> str | None:
    try:
        plaintext = envelope.open_sealed(item.sealed, private, item.aad)
    except envelope.EnvelopeError as exc:
        return str(exc)
    if files is None or item.storage_name is None:
        return None
    try:
        file_key = base64.b64decode(json.loads(plaintext)["k"])
        with (files / item.storage_name).open("rb") as source:
            for _chunk in filecrypt.decrypt_chunks(source, file_key, item.storage_name):
                pass
    except FileNotFoundError:
        return "file missing"
    except (filecrypt.FileCryptError, ValueError, KeyError) as exc:
        return str(exc)
    return None
