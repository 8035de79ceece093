"""Intake: a reporter's clue, from any door, stored in one transaction."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from app.models import Channel, Clue, ClueEvent, ClueStatus, clue_situations
from app.models.clue import identity_aad
from app.security import envelope, receipts, serverbox
from app.services import attachments, colour_rules, counts, notify, reference_cache
from app.services.errors import CampaignClosed, Excluded
from app.services.reference_cache import Window
from app.services.submission import Draft, applicable_exclusions, validate
from app.services.types import DbSession
from app.timeutil import local_today

# Doors through which the public reports: the campaign window governs them.
PUBLIC_CHANNELS = frozenset({Channel.WEB, Channel.QR, Channel.APP, Channel.HOTLINE})
UNKNOWN_TAG = "unknown"


@dataclass(frozen=True)
class Keys:
    """Key material intake needs: the public identity key and server secrets."""

    identity_public: X25519PublicKey | None
    receipt_key: str
    notify_key: bytes


@dataclass(frozen=True)
class StoredFile:
    kind: str
    mime: str
    size_bytes: int
    removed: tuple[str, ...]


@dataclass(frozen=True)
class Submitted:
    """What the reporter is told. Built before the commit, so that answering needs
    no database: once it has committed, a database gone away cannot cost the
    reporter their receipt."""

    clue_id: int
    tracking_no: str
    receipt: str
    submitted_at: datetime
    category: str
    files: tuple[StoredFile, ...] = ()


def notify_aad(tracking_no: str) -> bytes:
    return f"jidu clue {tracking_no} notify-email".encode()


def resolve_source_tag(session: DbSession, tag: str | None) -> str | None:
    """A known QR tag as is; any other tag is recorded as ``unknown``."""
    if tag is None:
        return None
    return tag if tag in reference_cache.current(session).source_tags else UNKNOWN_TAG


def submit(session: DbSession, payload: Mapping[str, Any], *, channel: Channel, keys: Keys,
           now: datetime, actor: str, api_token_id: int | None = None,
           require_open_campaign: bool = True, uploads: Sequence[attachments.Upload] = (),
           policy: attachments.Policy | None = None) -> Submitted:
    """Validate and store a clue; return the tracking number and the one-time receipt.

    Checks run in the order the API promises: the campaign window, then the
    exclusions, then everything else, then the attachments (``uploads``,
    checked against ``policy``). Nothing is stored unless all pass.
    The identity is sealed for the custodians' key before it reaches the
    session, so no plaintext identity is ever flushed to the database.
    """
    reference = reference_cache.current(session)
    campaign = reference.open_campaign(now)
    if require_open_campaign and campaign is None:
        current = reference.current_campaign(now)
        raise CampaignClosed(current.opens_at if current else None,
                             current.deadline if current else None)
    rules = applicable_exclusions(session, payload.get("exclusions"))
    if rules:
        raise Excluded(rules)
    draft = validate(session, payload, today=local_today(now))
    if draft.identity is not None and keys.identity_public is None:
        from app.services.errors import NotConfigured

        raise NotConfigured("no identity keypair: real-name clues cannot be sealed")
    # Files are stripped and encrypted before the transaction starts, so that
    # no database lock is held meanwhile; they are deleted if it fails.
    if uploads and policy is None:
        raise ValueError("attachments need a policy")
    prepared = attachments.prepare(uploads, policy=policy) if uploads and policy else []
    try:
        return _persist(session, draft, campaign=campaign, channel=channel, keys=keys,
                        now=now, actor=actor, api_token_id=api_token_id, prepared=prepared,
                        policy=policy)
    except BaseException:
        attachments.discard(prepared)
        raise


def _persist(session: DbSession, draft: Draft, *, campaign: Window | None, channel: Channel,
             keys: Keys, now: datetime, actor: str, api_token_id: int | None,
             prepared: list[attachments.Prepared],
             policy: attachments.Policy | None) -> Submitted:
    """Build the clue, its event and its attachments' rows; commit once.

    Everything that reads comes first and the writes follow in one burst,
    the shared status count last: the transaction holds its locks (on SQLite,
    the database's one write lock) for as short a time as it can.
    """
    receipt = receipts.new_receipt()
    for _attempt in range(5):
        tracking_no = receipts.new_tracking_no()
        if session.scalar(select(Clue.id).where(Clue.tracking_no == tracking_no)) is None:
            break
    clue = Clue(
        tracking_no=tracking_no,
        receipt_hash=receipts.receipt_hash(receipts.normalise(receipt) or "", keys.receipt_key),
        campaign_id=campaign.id if campaign else None,
        channel=channel,
        source_tag=resolve_source_tag(session, draft.source_tag),
        api_token_id=api_token_id,
        category_code=draft.category,
        agency=draft.agency,
        department_code=draft.department,
        district_code=draft.district,
        occurred_on=draft.occurred_on,
        description=draft.description,
        amount_fen=draft.amount_fen,
        real_name=draft.real_name,
        confidential=draft.confidential,
        status=ClueStatus.RECEIVED,
        created_at=now,
        updated_at=now,
    )
    if draft.identity is not None and keys.identity_public is not None:
        plaintext = json.dumps(draft.identity.as_dict(), ensure_ascii=False).encode()
        clue.identity_sealed = envelope.seal(plaintext, keys.identity_public,
                                             identity_aad(tracking_no))
    if draft.notify_email:
        clue.notify_email_sealed = serverbox.seal(keys.notify_key, draft.notify_email,
                                                  notify_aad(tracking_no))
    colour = colour_rules.suggest(session, clue, now).colour
    reviewers = notify.reviewers(session)
    # The writes.
    session.add(clue)
    session.add(ClueEvent(
        clue=clue, at=now, kind="submitted", actor_label=actor, to_status=ClueStatus.RECEIVED,
        data={"channel": str(channel), "source_tag": clue.source_tag,
              "real_name": draft.real_name, "campaign_id": clue.campaign_id},
    ))
    session.flush()
    if draft.situations:
        session.execute(insert(clue_situations), [
            {"clue_id": clue.id, "situation_code": code} for code in draft.situations])
    notify.new_clue(session, clue, colour=colour, now=now, to=reviewers)
    rows = []
    if prepared and policy is not None and policy.public_key is not None:
        rows = attachments.record(session, clue, prepared, public_key=policy.public_key,
                                  actor=actor, now=now)
    counts.bump(session, {ClueStatus.RECEIVED: 1})
    submitted = Submitted(clue.id, tracking_no, receipt, now, draft.category, tuple(
        StoredFile(r.kind, r.mime, r.size_bytes, tuple(r.removed)) for r in rows))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise
    return submitted
