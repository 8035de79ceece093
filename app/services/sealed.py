"""Every place a value is sealed for a keypair, read in batches: what rotation and verify walk.

Two keypairs, each with its own places (services/keys.py, evidence_keys.py):

- identity: the reporter's identity on a clue, the caller on a hotline order;
- evidence: each attachment's file key and file name.

Each value is an envelope naming its key (``kid``) and bound to its row by
associated data, so a place says how to rebuild that binding. Rows are read
by primary key, ``batch`` at a time, so that a walk over a million rows holds
little memory and can stop and resume anywhere.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, select, update
from sqlalchemy.orm import InstrumentedAttribute

from app.models import Attachment, Clue, EvidenceKey, HotlineOrder, IdentityKey
from app.models.clue import identity_aad
from app.security import envelope
from app.services.attachments import key_aad
from app.services.hotline_store import caller_aad
from app.services.types import DbSession


class KeyKind(StrEnum):
    IDENTITY = "identity"
    EVIDENCE = "evidence"


KEY_MODELS: dict[KeyKind, type[IdentityKey] | type[EvidenceKey]] = {
    KeyKind.IDENTITY: IdentityKey, KeyKind.EVIDENCE: EvidenceKey}


@dataclass(frozen=True)
class Item:
    """One sealed value: its row id, the envelope, the binding, and a name safe to print."""

    row_id: int
    sealed: str
    aad: bytes
    label: str
    storage_name: str | None = None


@dataclass(frozen=True)
class Place:
    name: str
    model: Any
    column: InstrumentedAttribute[str | None] | InstrumentedAttribute[str]
    query: Callable[[], Any]  # a select() of id, envelope, then what binds it
    item: Callable[[Any], Item]

    def batches(self, session: DbSession, size: int) -> Iterator[list[Item]]:
        """Sealed values ``size`` at a time, in id order, each batch read afresh."""
        last = 0
        while True:
            rows = session.execute(self.query().where(self.model.id > last)
                                   .order_by(self.model.id).limit(size)).all()
            if not rows:
                return
            yield [self.item(row) for row in rows]
            last = rows[-1][0]

    def replace(self, session: DbSession, changes: list[tuple[Item, str]]) -> None:
        """Write new envelopes, each only if its row still holds the one read.

        Compare-and-set: a value changed or removed meanwhile (say, an
        identity erased) is left alone, never brought back.
        """
        if not changes:
            return
        table = self.model.__table__
        column = table.c[self.column.key]
        statement = (update(table)
                     .where(and_(table.c.id == bindparam("b_id"),
                                 column == bindparam("b_old")))
                     .values({column: bindparam("b_new")}))
        session.execute(statement, [{"b_id": item.row_id, "b_old": item.sealed, "b_new": new}
                                    for item, new in changes])


def _not_null(column: InstrumentedAttribute[Any]) -> ColumnElement[bool]:
    return column.is_not(None)


PLACES: dict[KeyKind, tuple[Place, ...]] = {
    KeyKind.IDENTITY: (
        Place("clue identities", Clue, Clue.identity_sealed,
              lambda: select(Clue.id, Clue.identity_sealed, Clue.tracking_no)
              .where(_not_null(Clue.identity_sealed)),
              lambda row: Item(row[0], row[1], identity_aad(row[2]), f"clue {row[2]}")),
        Place("hotline callers", HotlineOrder, HotlineOrder.caller_sealed,
              lambda: select(HotlineOrder.id, HotlineOrder.caller_sealed, HotlineOrder.order_no)
              .where(_not_null(HotlineOrder.caller_sealed)),
              lambda row: Item(row[0], row[1], caller_aad(row[2]), f"hotline order {row[2]}")),
    ),
    KeyKind.EVIDENCE: (
        Place("attachment keys", Attachment, Attachment.key_sealed,
              lambda: select(Attachment.id, Attachment.key_sealed, Clue.tracking_no,
                             Attachment.storage_name)
              .join(Clue, Clue.id == Attachment.clue_id),
              lambda row: Item(row[0], row[1], key_aad(row[2], row[3]),
                               f"attachment {row[0]} of clue {row[2]}", storage_name=row[3])),
    ),
}


def census(session: DbSession, kind: KeyKind, batch: int = 2000) -> Counter[str | None]:
    """How many sealed values each key holds (None: envelopes too damaged to name one)."""
    counts: Counter[str | None] = Counter()
    for place in PLACES[kind]:
        for items in place.batches(session, batch):
            counts.update(envelope.kid_of(item.sealed) for item in items)
    return counts
