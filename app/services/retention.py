"""Retention: a set time after a clue is closed, who reported it and their evidence are destroyed.

Crypto-shredding. Every sealed value carries its own data key, wrapped in
the value's envelope (security/envelope.py); every evidence file is
encrypted under a key of its own that exists only inside the attachment's
sealed envelope (services/attachments.py). Deleting the envelope therefore
destroys the value: a copy of the ciphertext left anywhere (a disk block, an
old file) is useless without it. Overwriting files is not attempted: on
journalling and copy-on-write file systems and on SSDs an overwrite does not
reliably reach the old blocks, so the guarantee rests on the key, and on the
envelope not lingering (services/compaction.py: VACUUM after a run; and
backups kept no longer than the retention period, services/backup.py).

Destroyed, for each eligible clue: the identity envelope, the notify-me
address (normally erased at closure already), every attachment (its row with
the sealed file key and file name, then its file), the caller and the full
fingerprint of a linked hotline order (services/hotline.py: the fingerprint
would confirm a guessed caller to whoever holds JIDU_RECEIPT_KEY), and the
sealed address in reporter mail never sent. Unlinked hotline orders lose
their caller the same time after they were received.

Kept: the clue's text, agency, category, situations, district, dates,
status, colour, outcome, amounts, satisfaction and history (append-only),
so that every figure, roll-up, report and scenario stays as it was. The text
is the complaint about an agency's conduct, the record supervision needs;
that its author may recognise themselves in it is no reason to keep their
name. Clue text may still point to its author; no cryptography helps there
(docs/SECURITY.md).

Eligible: a clue closed ``retention_days`` ago or earlier; a merged clue
once the clue it was merged into is (following merges to the end); and, as a
backstop, any clue of a campaign whose deadline passed ``campaign_days`` ago.
A run is idempotent: only clues with something left to destroy are touched,
each gets one ``retention_purge`` event saying what went, and the run one
audit event with the counts (never a value).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    bindparam,
    delete,
    exists,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.orm import aliased

from app.models import (
    Attachment,
    Campaign,
    Clue,
    ClueEvent,
    ClueStatus,
    Dispute,
    HotlineOrder,
    OutboxMessage,
    OutboxStatus,
)
from app.services import attachments, audit, hotline
from app.services.types import DbSession

EVENT = "retention_purge"
# Reporter mail that may still hold the sealed address (sent mail never does).
HOLDING = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.DEAD)


@dataclass(frozen=True)
class Policy:
    retention_days: int
    campaign_days: int  # 0: no campaign backstop
    folder: Path  # JIDU_DATA_DIR/attachments
    receipt_key: str

    def __post_init__(self) -> None:
        if self.retention_days < 0 or self.campaign_days < 0:
            raise ValueError("retention periods cannot be negative")


@dataclass
class Report:
    closed_before: datetime
    campaign_deadline_before: datetime | None
    dry_run: bool
    clues: int = 0
    identities: int = 0
    notify_addresses: int = 0
    attachments: int = 0
    files: int = 0
    files_missing: int = 0
    callers: int = 0
    mails: int = 0
    orphans: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)

    @property
    def destroyed(self) -> bool:
        return any((self.clues, self.callers, self.orphans))

    def counts(self) -> dict[str, Any]:
        found = asdict(self)
        found["closed_before"] = self.closed_before.isoformat()
        found["campaign_deadline_before"] = (self.campaign_deadline_before.isoformat()
                                             if self.campaign_deadline_before else None)
        return found


def _cutoffs(policy: Policy, now: datetime) -> tuple[datetime, datetime | None]:
    closed = now - timedelta(days=policy.retention_days)
    campaign = now - timedelta(days=policy.campaign_days) if policy.campaign_days else None
    return closed, campaign


def _closed_before(cutoff: datetime) -> ColumnElement[bool]:
    return and_(Clue.status == ClueStatus.CLOSED, Clue.closed_at <= cutoff)


def _merged_into_closed(cutoff: datetime) -> Any:
    """Merged clues whose last merge target was closed before ``cutoff`` (a recursive walk)."""
    chain = (select(Clue.id.label("id"), Clue.merged_into_id.label("target"))
             .where(Clue.status == ClueStatus.MERGED).cte("merge_chain", recursive=True))
    parent = aliased(Clue)
    chain = chain.union_all(
        select(chain.c.id, parent.merged_into_id)
        .join(parent, parent.id == chain.c.target)
        .where(parent.status == ClueStatus.MERGED))
    root = aliased(Clue)
    return (select(chain.c.id).join(root, root.id == chain.c.target)
            .where(root.status == ClueStatus.CLOSED, root.closed_at <= cutoff))


def eligible(closed: datetime, campaign: datetime | None) -> ColumnElement[bool]:
    rules = [_closed_before(closed), Clue.id.in_(_merged_into_closed(closed))]
    if campaign is not None:
        rules.append(Clue.campaign_id.in_(select(Campaign.id)
                                          .where(Campaign.deadline <= campaign)))
    return or_(*rules)


def _order_left() -> ColumnElement[bool]:
    return or_(HotlineOrder.caller_sealed.is_not(None),
               not_(HotlineOrder.fingerprint.startswith(hotline.RETAINED + "$")))


def _left_to_destroy() -> ColumnElement[bool]:
    return or_(
        Clue.identity_sealed.is_not(None),
        Clue.notify_email_sealed.is_not(None),
        exists().where(Attachment.clue_id == Clue.id),
        exists().where(HotlineOrder.clue_id == Clue.id, _order_left()),
        exists().where(OutboxMessage.clue_id == Clue.id, OutboxMessage.user_id.is_(None),
                       OutboxMessage.status.in_(HOLDING)))


def _rule(status: str, closed_at: datetime | None, closed: datetime) -> str:
    if status == ClueStatus.CLOSED and closed_at is not None and closed_at <= closed:
        return "closed"
    return "merged" if status == ClueStatus.MERGED else "campaign"


def _destroy_orders(session: DbSession, orders: Sequence[Any], receipt_key: str) -> None:
    """Callers erased and fingerprints replaced by ones without the caller."""
    if not orders:
        return
    table = cast(Table, HotlineOrder.__table__)
    session.execute(
        update(table).where(table.c.id == bindparam("o_id"))
        .values(caller_sealed=None, fingerprint=bindparam("o_mark")),
        [{"o_id": row.id, "o_mark": hotline.retained_fingerprint(
            {"order_no": row.order_no, "received_at": row.received_at, "content": row.content,
             "district": row.district_code, "hotline_category": row.hotline_category,
             "dispatched_to": row.dispatched_to, "disputed": row.disputed}, receipt_key)}
         for row in orders])


def _order_columns() -> tuple[Any, ...]:
    return (HotlineOrder.id, HotlineOrder.clue_id, HotlineOrder.order_no,
            HotlineOrder.received_at, HotlineOrder.content, HotlineOrder.district_code,
            HotlineOrder.hotline_category, HotlineOrder.dispatched_to, HotlineOrder.disputed,
            HotlineOrder.caller_sealed.is_not(None))


def _clue_batch(session: DbSession, policy: Policy, report: Report, condition: Any,
                after: int, size: int, now: datetime) -> tuple[int | None, list[str]]:
    """One batch of clues: destroyed (or counted, in a dry run). Returns the last id and files."""
    query = (select(Clue.id, Clue.status, Clue.closed_at, Clue.identity_sealed.is_not(None),
                    Clue.notify_email_sealed.is_not(None))
             .where(Clue.id > after, condition).order_by(Clue.id).limit(size))
    if not report.dry_run:
        query = query.with_for_update(of=Clue)
    clues = session.execute(query).all()
    if not clues:
        return None, []
    ids = [row[0] for row in clues]
    files = session.execute(select(Attachment.id, Attachment.clue_id, Attachment.storage_name)
                            .where(Attachment.clue_id.in_(ids))).all()
    orders = session.execute(select(*_order_columns())
                             .where(HotlineOrder.clue_id.in_(ids), _order_left())).all()
    mails = list(session.scalars(select(OutboxMessage).where(
        OutboxMessage.clue_id.in_(ids), OutboxMessage.user_id.is_(None),
        OutboxMessage.status.in_(HOLDING))))
    per_clue: dict[int, int] = {}
    for _id, clue_id, _name in files:
        per_clue[clue_id] = per_clue.get(clue_id, 0) + 1
    callers = {row.clue_id: bool(row[-1]) for row in orders}
    report.clues += len(clues)
    report.identities += sum(bool(row[3]) for row in clues)
    report.notify_addresses += sum(bool(row[4]) for row in clues)
    report.attachments += len(files)
    report.callers += sum(callers.values())
    report.mails += len(mails)
    for row in clues:
        rule = _rule(row[1], row[2], report.closed_before)
        report.by_rule[rule] = report.by_rule.get(rule, 0) + 1
    if report.dry_run:
        return ids[-1], [name for _i, _c, name in files]
    session.execute(update(Clue).where(Clue.id.in_(ids)).values(
        identity_sealed=None, notify_email_sealed=None, updated_at=Clue.updated_at))
    if files:
        session.execute(delete(Attachment).where(Attachment.id.in_([f[0] for f in files])))
    _destroy_orders(session, orders, policy.receipt_key)
    for mail in mails:
        mail.params = {k: v for k, v in mail.params.items() if k != "sealed_to"}
        mail.status, mail.claimed_at, mail.last_error = OutboxStatus.CANCELLED, None, "retention"
    for row in clues:
        session.add(ClueEvent(
            clue_id=row[0], at=now, kind=EVENT, actor_label="system",
            data={"rule": _rule(row[1], row[2], report.closed_before),
                  "identity": bool(row[3]), "notify_email": bool(row[4]),
                  "attachments": per_clue.get(row[0], 0), "caller": callers.get(row[0], False)}))
    session.commit()
    return ids[-1], [name for _i, _c, name in files]


def _unlinked_orders(session: DbSession, policy: Policy, report: Report, size: int) -> None:
    """Hotline orders that never became a clue: the caller goes ``retention_days`` after receipt."""
    cutoff = report.closed_before
    settled = or_(HotlineOrder.dispute_id.is_(None), exists().where(
        Dispute.id == HotlineOrder.dispute_id, Dispute.resolved_at <= cutoff))
    after = 0
    while True:
        orders = session.execute(
            select(*_order_columns())
            .where(HotlineOrder.id > after, HotlineOrder.clue_id.is_(None),
                   HotlineOrder.received_at <= cutoff, settled, _order_left())
            .order_by(HotlineOrder.id).limit(size)).all()
        if not orders:
            return
        after = orders[-1].id
        report.callers += sum(bool(row[-1]) for row in orders)
        if not report.dry_run:
            _destroy_orders(session, orders, policy.receipt_key)
            session.commit()


def _remove(folder: Path, names: list[str], report: Report) -> None:
    for name in names:
        try:
            (folder / name).unlink()
            report.files += 1
        except FileNotFoundError:
            report.files_missing += 1


def run(session: DbSession, *, policy: Policy, now: datetime, actor: str,
        dry_run: bool = False, batch: int = 500) -> Report:
    """Destroy what retention says is due (or, ``dry_run``, only count it); audited.

    Each batch is one transaction; files are removed after it commits, so a
    crash leaves at worst files whose key is already gone, which the next
    run's sweep (attachments.sweep_orphans) removes. A dry run writes
    nothing at all, and does not count orphaned files.
    """
    closed, campaign = _cutoffs(policy, now)
    report = Report(closed_before=closed, campaign_deadline_before=campaign, dry_run=dry_run)
    condition = and_(eligible(closed, campaign), _left_to_destroy())
    after = 0
    while True:
        last, names = _clue_batch(session, policy, report, condition, after, batch, now)
        if last is None:
            break
        after = last
        if dry_run:
            report.files += len(names)
        else:
            _remove(policy.folder, names, report)
    _unlinked_orders(session, policy, report, batch)
    if not dry_run:
        # Files a crash left behind (here between a batch's commit and its
        # unlinks, or in intake): keyless ciphertext, with the sweep's guards.
        report.orphans = attachments.sweep_orphans(session, policy.folder, now=now)
    if dry_run:
        session.rollback()
        return report
    audit.record(session, actor=actor, action="retention.purge", details=report.counts(),
                 now=now)
    session.commit()
    return report
