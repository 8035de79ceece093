"""Retention (issue 8, point 4): identities and evidence destroyed after the period; figures stay.

Each test runs on SQLite and on PostgreSQL. The clues are made through the
real intake and workflow at past times (a campaign that spans them), so that
closure dates, roll-ups and figures are what they would be in service.
"""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select, text

from app.context import attachment_policy, intake_keys
from app.extensions import db
from app.models import (
    Attachment,
    AuditEvent,
    Channel,
    Clue,
    ClueEvent,
    DailyStat,
    HotlineOrder,
    OutboxMessage,
    User,
)
from app.services import (
    attachments,
    campaigns,
    compaction,
    dashboard,
    figures,
    hotline,
    intake,
    keys,
    people,
    retention,
    workflow,
)
from app.services.sealed import KeyKind, census
from app.timeutil import local_today, utcnow
from tests.conftest import bearer, skip_or_fail
from tests.evidence_files import jpeg_with_gps, pdf_with_author
from tests.factories import anonymous_payload, payload
from tests.test_keys_lifecycle import ENFORCEMENT_CALL

DAY = timedelta(days=1)
NOW = utcnow().replace(microsecond=0)
OTHER_CALL = "市民来电反映小区路灯不亮，希望尽快修复。"


@dataclass
class World:
    old: int  # closed 410 days ago: identity, notify address, two files, a pending mail
    recent: int  # closed 10 days ago
    open_: int  # still being handled
    merged: int  # merged into `middle`, which was merged into `old`
    middle: int
    stale: int  # its campaign ended 800 days ago; never closed
    hot: int  # hotline clue closed long ago
    order_linked: str
    order_old: str  # not enforcement-related, received 400 days ago
    order_new: str  # not enforcement-related, received today


def reviewer() -> User:
    found = db.session.scalar(select(User).where(User.username == "rv"))
    if found is not None:
        return found
    return people.create_user(db.session, username="rv", role="reviewer",
                              password="a long enough password", actor="test")[0]


def submit(at: datetime, *, data: dict | None = None, files: int = 0) -> int:
    uploads = [attachments.Upload(f"现场照片{i}.jpg", io.BytesIO(jpeg_with_gps((48, 32))))
               for i in range(files)]
    return intake.submit(db.session, data or payload(), channel=Channel.WEB,
                         keys=intake_keys(), now=at, actor="reporter", uploads=uploads,
                         policy=attachment_policy()).clue_id


def handle(clue_id: int, at: datetime, *, close: bool = True) -> None:
    """The whole workflow, a step an hour, closed three days after ``at``."""
    user = reviewer()
    workflow.start_triage(db.session, clue_id, actor=user, now=at)
    workflow.accept(db.session, clue_id, actor=user, now=at + timedelta(hours=1))
    workflow.assign(db.session, clue_id, department="market", due_at=at + 5 * DAY, reason="",
                    actor=user, now=at + timedelta(hours=2))
    workflow.start_investigation(db.session, clue_id, actor=user, now=at + timedelta(hours=3))
    workflow.conclude(db.session, clue_id, outcome="substantiated", summary="属实",
                      actor=user, now=at + DAY, recovered_fen=50000)
    workflow.give_feedback(db.session, clue_id, message="已责令退还。", actor=user,
                           now=at + 2 * DAY)
    if close:
        workflow.close(db.session, clue_id, actor=user, now=at + 3 * DAY)


def order(number: str, content: str, at: datetime) -> HotlineOrder:
    found, _new = hotline.receive(
        db.session, {"order_no": number, "received_at": at.isoformat(), "content": content,
                     "district": "putuo", "hotline_category": "投诉举报",
                     "caller": {"name": "王海明", "phone": "13957001234"}},
        public_key=keys.active_public_key(db.session),
        receipt_key=current_app.config["JIDU_RECEIPT_KEY"], now=at, actor="test")
    return found


@pytest.fixture
def world(app, identity_key, evidence_key) -> World:
    campaigns.create_campaign(db.session, slug="long", title="常态化征集",
                              opens_at=NOW - 1000 * DAY, deadline=NOW + 30 * DAY, actor="t")
    campaigns.create_campaign(db.session, slug="ended", title="已结束的征集",
                              opens_at=NOW - 900 * DAY, deadline=NOW - 800 * DAY, actor="t")
    start = NOW - 413 * DAY
    old = submit(start, data=payload(notify_email="lin.notify@example.com"), files=1)
    user = reviewer()
    workflow.ask_reporter(db.session, old, question="请补充罚单。", actor=user,
                          now=start + timedelta(minutes=5))
    workflow.reporter_reply(db.session, old, text="见附件。", now=start + timedelta(minutes=9),
                            uploads=[attachments.Upload("罚单.pdf", io.BytesIO(pdf_with_author()))],
                            policy=attachment_policy())
    middle, merged = submit(start + DAY), submit(start + DAY, files=1)
    workflow.merge(db.session, merged, into_id=middle, actor=user, now=start + 2 * DAY)
    workflow.merge(db.session, middle, into_id=old, actor=user, now=start + 2 * DAY)
    handle(old, start + timedelta(hours=1))
    recent = submit(NOW - 40 * DAY, files=1)
    handle(recent, NOW - 13 * DAY)
    open_ = submit(NOW - 500 * DAY, files=1)
    handle(open_, NOW - 499 * DAY, close=False)
    stale = submit(NOW - 810 * DAY, data=payload(occurred_on=None), files=1)
    linked = order("12345-20250101-0001", ENFORCEMENT_CALL, start)
    assert linked.clue_id is not None
    handle(linked.clue_id, start + DAY)
    old_order = order("12345-20250101-0002", OTHER_CALL, NOW - 400 * DAY)
    new_order = order("12345-20261201-0003", OTHER_CALL, NOW - DAY)
    assert old_order.clue_id is None
    assert new_order.clue_id is None
    return World(old, recent, open_, merged, middle, stale, linked.clue_id, linked.order_no,
                 old_order.order_no, new_order.order_no)


def policy(app) -> retention.Policy:
    return retention.Policy(retention_days=365, campaign_days=730,
                            folder=Path(app.config["JIDU_DATA_DIR"]) / attachments.FOLDER,
                            receipt_key=app.config["JIDU_RECEIPT_KEY"])


def state() -> dict:
    """Everything retention may touch, by clue."""
    db.session.expire_all()
    clues = {c.id: (c.identity_sealed, c.notify_email_sealed, c.description, c.status)
             for c in db.session.scalars(select(Clue))}
    files = {a.storage_name: a.clue_id for a in db.session.scalars(select(Attachment))}
    orders = {o.order_no: (o.caller_sealed, o.fingerprint, o.content)
              for o in db.session.scalars(select(HotlineOrder))}
    return {"clues": clues, "files": files, "orders": orders,
            "events": db.session.scalar(select(func.count(ClueEvent.id))),
            "audit": db.session.scalar(select(func.count(AuditEvent.id)))}


def statistics() -> tuple:
    """The figures, the dashboard and the roll-ups behind them."""
    period = figures.Period(local_today(NOW) - 900 * DAY, local_today(NOW))
    rows = figures.as_rows(figures.compute(db.session, period))
    board = dashboard.build(db.session, dashboard.Filters(period.start, period.end), now=NOW)
    stats = db.session.execute(select(DailyStat.dimension, DailyStat.day, DailyStat.campaign_id,
                                      DailyStat.key, DailyStat.n)
                               .order_by(DailyStat.dimension, DailyStat.day,
                                         DailyStat.campaign_id, DailyStat.key)).all()
    return rows, dataclasses.asdict(board), stats


def test_purge_destroys_exactly_what_is_due_and_keeps_every_figure(app, world, backend):
    folder = Path(app.config["JIDU_DATA_DIR"]) / attachments.FOLDER
    before, figures_before = state(), statistics()
    due = {world.old, world.merged, world.middle, world.stale, world.hot}
    due_files = [name for name, clue in before["files"].items() if clue in due]
    kept_files = [name for name, clue in before["files"].items() if clue not in due]
    assert len(due_files) == 4
    assert len(kept_files) == 2
    assert all((folder / name).exists() for name in before["files"])
    pending = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.clue_id == world.old, OutboxMessage.user_id.is_(None))).all()
    assert pending
    assert all("sealed_to" in m.params for m in pending)

    report = retention.run(db.session, policy=policy(app), now=NOW, actor="test")

    after = state()
    for clue_id, (identity, notify, description, status) in after["clues"].items():
        was = before["clues"][clue_id]
        if clue_id in due:
            assert (identity, notify) == (None, None), clue_id
        else:
            assert (identity, notify) == was[:2], clue_id
        assert (description, status) == was[2:]
    assert set(after["files"]) == set(kept_files)
    assert not any((folder / name).exists() for name in due_files)
    assert all((folder / name).exists() for name in kept_files)
    linked, old_order, new_order = (after["orders"][n] for n in (
        world.order_linked, world.order_old, world.order_new))
    assert linked[0] is None
    assert old_order[0] is None
    assert new_order[0] is not None
    assert linked[1].startswith("r1$")
    assert old_order[1].startswith("r1$")
    assert new_order[1] == before["orders"][world.order_new][1]
    db.session.expire_all()
    for mail in pending:
        db.session.refresh(mail)
        assert mail.status == "cancelled"
        assert "sealed_to" not in mail.params
    assert (report.clues, report.identities, report.notify_addresses, report.attachments,
            report.files, report.callers, report.mails) == (5, 5, 0, 4, 4, 2, len(pending))
    assert report.by_rule == {"closed": 2, "merged": 2, "campaign": 1}

    events = db.session.scalars(select(ClueEvent).where(ClueEvent.kind == retention.EVENT)
                                .order_by(ClueEvent.clue_id)).all()
    assert {e.clue_id for e in events} == due
    first = next(e for e in events if e.clue_id == world.old)
    assert first.data == {"rule": "closed", "identity": True, "notify_email": False,
                          "attachments": 2, "caller": False}
    (run,) = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "retention.purge")).all()
    assert run.details["clues"] == 5
    assert run.details["attachments"] == 4
    assert "sealed" not in repr(run.details)
    assert "13957001234" not in repr(run.details)

    assert statistics() == figures_before
    assert sum(census(db.session, KeyKind.EVIDENCE).values()) == 2

    # Idempotent: nothing left to destroy, nothing more written but the run's audit event.
    again = retention.run(db.session, policy=policy(app), now=NOW, actor="test")
    assert (again.clues, again.callers, again.files) == (0, 0, 0)
    assert state()["events"] == after["events"]
    assert state()["audit"] == after["audit"] + 1


def test_dry_run_changes_nothing_and_counts_what_a_run_would_do(app, world):
    before = state()
    dry = retention.run(db.session, policy=policy(app), now=NOW, actor="test", dry_run=True)
    assert state() == before
    assert all((Path(app.config["JIDU_DATA_DIR"]) / attachments.FOLDER / n).exists()
               for n in before["files"])
    real = retention.run(db.session, policy=policy(app), now=NOW, actor="test")
    assert dataclasses.replace(dry, dry_run=False) == real


def test_not_yet_due_is_untouched_and_the_backstop_can_be_off(app, world):
    early = retention.run(db.session, policy=dataclasses.replace(policy(app),
                                                                  campaign_days=0),
                          now=NOW - 60 * DAY, actor="test")
    # 60 days ago the old clue was closed 350 days: not yet due; the stale one
    # falls only under the campaign backstop, switched off here.
    assert early.clues == 0
    assert early.callers == 0
    db.session.expire_all()
    assert db.session.get(Clue, world.stale).identity_sealed is not None


def raw_database(backend: str) -> bytes:
    path = Path(db.engine.url.database)
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


# SQLite's files here; PostgreSQL's pages in the next test.
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_file_no_longer_holds_the_destroyed_envelopes(app, world, backend, runner):
    db.session.expire_all()
    envelopes = [db.session.get(Clue, world.old).identity_sealed,
                 db.session.get(Clue, world.stale).identity_sealed,
                 *db.session.scalars(select(Attachment.key_sealed)
                                     .where(Attachment.clue_id == world.old))]
    db.session.remove()
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    haystack = raw_database(backend)
    # The test would see them: each is in the file before the purge.
    assert all(e.encode() in haystack for e in envelopes)
    result = runner.invoke(args=["purge", "run"])
    assert result.exit_code == 0, result.output
    assert "VACUUM on sqlite" in result.output
    haystack = raw_database(backend)
    for envelope in envelopes:
        assert envelope.encode() not in haystack
        # Not even a piece of it (the wrapped key sits in the middle).
        middle = envelope[len(envelope) // 2:len(envelope) // 2 + 24].encode()
        assert middle not in haystack


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_postgresql_pages_no_longer_hold_the_destroyed_envelopes(app, world, backend, runner):
    db.session.expire_all()
    envelopes = [db.session.get(Clue, world.old).identity_sealed,
                 *db.session.scalars(select(Attachment.key_sealed)
                                     .where(Attachment.clue_id == world.old))]
    db.session.commit()
    with db.engine.connect() as conn:
        try:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
            conn.commit()
        except Exception:  # noqa: BLE001
            skip_or_fail("pageinspect is not available (needs a superuser)")

    def pages_with(marker: str) -> int:
        total = 0
        with db.engine.connect() as conn:
            for table in ("clues", "attachments"):
                total += conn.execute(text(
                    f"SELECT count(*) FROM generate_series(0, "  # noqa: S608 (fixed names)
                    f"pg_relation_size('{table}') / 8192 - 1) AS page "
                    f"WHERE position(convert_to(:m, 'UTF8') IN "
                    f"get_raw_page('{table}', CAST(page AS int))) > 0"), {"m": marker}
                ).scalar_one()
        return total

    try:
        assert all(pages_with(e) for e in envelopes)
        # A transaction older than the purge keeps what it can see; the run
        # says so instead of claiming the values gone.
        older = db.engine.connect()
        older.execute(text("SELECT txid_current()"))
        retention.run(db.session, policy=policy(app), now=NOW, actor="test")
        held = compaction.compact(db.engine, full=True, wait=1.0)
        assert held.kept_dead > 0
        assert all(pages_with(e) for e in envelopes[:1])
        older.rollback()
        older.close()
        # Once it has ended, a run with --full compacts though nothing is due.
        result = runner.invoke(args=["purge", "run", "--full"])
        assert result.exit_code == 0, result.output
        assert "destroyed: 0 clues" in result.output
        assert "VACUUM FULL on postgresql" in result.output
        assert "had to keep" not in result.output
        assert not any(pages_with(e) for e in envelopes)
    finally:
        with db.engine.connect() as conn:
            conn.execute(text("DROP EXTENSION IF EXISTS pageinspect"))
            conn.commit()


def test_cli_compacts_with_vacuum_full_on_request(app, world, backend, runner):
    result = runner.invoke(args=["purge", "run", "--full"])
    assert result.exit_code == 0, result.output
    assert ("VACUUM FULL on postgresql" if backend == "postgresql" else "VACUUM on sqlite") \
        in result.output
    assert "had to keep" not in result.output


def test_cli_dry_run_run_and_refusals(app, world, runner):
    dry = runner.invoke(args=["purge", "run", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would destroy: 5 clues (campaign 1, closed 2, merged 2), 5 identities" in dry.output
    assert db.session.scalar(select(func.count(ClueEvent.id))
                             .where(ClueEvent.kind == retention.EVENT)) == 0
    future = runner.invoke(args=["purge", "run", "--now", (NOW + DAY).isoformat()])
    assert future.exit_code == 1
    assert "cannot be in the future" in future.output
    done = runner.invoke(args=["purge", "run", "--now", NOW.isoformat()])
    assert done.exit_code == 0, done.output
    assert "destroyed: 5 clues" in done.output
    assert "4 attachments (4 files)" in done.output
    again = runner.invoke(args=["purge", "run"])
    assert "destroyed: 0 clues (none)" in again.output
    assert "VACUUM" not in again.output


def test_clue_page_says_what_retention_destroyed(app, world, client):
    from tests.web.test_console import make_user, sign_in

    retention.run(db.session, policy=policy(app), now=NOW, actor="test")
    _user, secret = make_user("sup", "supervisor")
    sign_in(client, "sup", secret)
    try:
        page = client.get(f"/review/clues/{world.old}").get_data(as_text=True)
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    assert "实名（身份已按保留期限销毁）" in page
    assert "保留期满，反映人身份、通知邮箱和证据材料已销毁" in page
    assert "申请查看身份" not in page
    assert "证据材料（0）" in page


def test_a_purged_order_sent_again_is_still_the_same_order(app, world, client, hotline_token):
    retention.run(db.session, policy=policy(app), now=NOW, actor="test")
    body = {"order_no": world.order_old, "received_at": (NOW - 400 * DAY).isoformat(),
            "content": OTHER_CALL, "district": "putuo", "hotline_category": "投诉举报",
            "caller": {"name": "王海明", "phone": "13957001234"}}
    again = client.post("/api/v1/hotline/orders", json=body, headers=bearer(hotline_token))
    assert again.status_code == 200, again.get_json()
    changed = client.post("/api/v1/hotline/orders", json={**body, "content": OTHER_CALL + "!"},
                          headers=bearer(hotline_token))
    assert changed.status_code == 409
    # The caller is gone whatever is sent: a resend stores nothing.
    db.session.expire_all()
    assert db.session.scalar(select(HotlineOrder.caller_sealed).where(
        HotlineOrder.order_no == world.order_old)) is None


def test_anonymous_clues_without_files_need_nothing(app, world):
    quiet = submit(NOW - 420 * DAY, data=anonymous_payload())
    handle(quiet, NOW - 419 * DAY)
    report = retention.run(db.session, policy=policy(app), now=NOW, actor="test")
    assert report.clues == 5
    assert db.session.scalar(select(func.count(ClueEvent.id)).where(
        ClueEvent.clue_id == quiet, ClueEvent.kind == retention.EVENT)) == 0


def test_a_purged_order_imported_again_is_skipped_not_refused(app, world, tmp_path):
    from app.services import hotline_import
    from app.timeutil import local

    retention.run(db.session, policy=policy(app), now=NOW, actor="test")
    received = local(NOW - 400 * DAY).strftime("%Y-%m-%d %H:%M:%S")
    header = "工单编号,受理时间,诉求内容,所属区域,诉求分类,派单部门,是否争议,来电人,联系电话\n"

    def import_(content: str):
        path = tmp_path / "again.csv"
        path.write_text(header + f"{world.order_old},{received},{content},普陀区,投诉举报,,否,"
                        "王海明,13957001234\n", encoding="utf-8")
        with path.open("rb") as stream:
            return hotline_import.import_file(
                db.session, str(path), stream, overrides=None,
                public_key=keys.active_public_key(db.session),
                receipt_key=app.config["JIDU_RECEIPT_KEY"], now=NOW, actor="test")

    same = import_(OTHER_CALL)
    assert (same.imported, same.skipped, same.rejected) == (0, 1, [])
    # The same number with other content is refused, as before the purge.
    changed = import_(OTHER_CALL + "补充")
    assert changed.skipped == 0
    assert [r.reason for r in changed.rejected] == ["该工单编号已以不同内容导入过"]
