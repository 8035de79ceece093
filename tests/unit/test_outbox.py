"""Mail through the outbox: a real SMTP server, outages, exactly-once delivery, privacy."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from app.context import intake_keys, outbox_round
from app.extensions import db
from app.models import Channel, OutboxMessage, OutboxStatus
from app.services import intake, notify, outbox, people, workflow
from app.timeutil import LOCAL, utcnow
from tests.factories import anonymous_payload, payload

PASSWORD = "a long enough password"


def user(name, role, *, email=None, department=None):
    created, _ = people.create_user(db.session, username=name, role=role, password=PASSWORD,
                                    department=department, email=email, actor="test")
    return created


@pytest.fixture
def staff(ready):
    return {
        "reviewer": user("rev", "reviewer", email="rev@bureau.example"),
        "supervisor": user("sup", "supervisor", email="sup@bureau.example"),
        "liaison": user("mkt", "liaison", email="mkt@market.example", department="market"),
        "other_liaison": user("tour", "liaison", email="tour@tourism.example",
                              department="tourism"),
        "analyst": user("ana", "analyst", email="ana@bureau.example"),
    }


def submit(now, **changes):
    # Manual entry (a letter): accepted at any date, so fixed calendars can be used.
    return intake.submit(db.session, payload(**changes), channel=Channel.LETTER,
                         keys=intake_keys(), now=now, actor="user:rev",
                         require_open_campaign=False)


def ids_received(server):
    return Counter(m["Message-ID"] for m in server.inbox.messages)


def test_reviewers_hear_of_a_new_clue_without_its_text_or_identity(smtp, staff):
    now = utcnow()
    clue = submit(now)
    queued, result = outbox_round(now)
    assert (result.sent, result.failed) == (2, 0)
    assert sorted(m["To"] for m in smtp.inbox.messages) == ["rev@bureau.example",
                                                            "sup@bureau.example"]
    body = smtp.inbox.body(smtp.inbox.to("rev@bureau.example")[0])
    assert clue.tracking_no in body
    assert "乱罚款" in body
    assert "Arbitrary fines" in body
    assert "红色" in body or "橙色" in body or "黄色" in body
    for secret in ("林晓梅", "13857001234", "首次轻微违法", clue.receipt, "普陀区某某局"):
        assert secret not in body
    # Liaisons and analysts are not told of unassigned clues.
    assert not smtp.inbox.to("mkt@market.example")
    assert not smtp.inbox.to("ana@bureau.example")


def test_an_smtp_outage_loses_nothing_and_sends_nothing_twice(smtp, staff, runner):
    now = utcnow()
    smtp.stop()
    for _ in range(3):
        submit(now)
    _, result = outbox_round(now)
    assert (result.sent, result.failed) == (0, 6)
    assert result.error
    assert smtp.inbox.messages == []
    waiting = db.session.scalars(select(OutboxMessage)).all()
    assert {(m.status, m.attempts) for m in waiting} == {(OutboxStatus.PENDING, 1)}
    assert all(m.next_attempt_at == now + timedelta(minutes=1) for m in waiting)

    # Still down a minute later: the next try backs off to two minutes.
    _, result = outbox_round(now + timedelta(minutes=1))
    assert result.failed == 6
    smtp.start()
    _, result = outbox_round(now + timedelta(minutes=2))
    assert result.sent == 0, "not due yet: backing off"
    _, result = outbox_round(now + timedelta(minutes=3, seconds=1))
    assert result.sent == 6
    outbox_round(now + timedelta(hours=2))
    outbox_round(now + timedelta(hours=3))
    counts = ids_received(smtp)
    assert len(counts) == 6
    assert set(counts.values()) == {1}
    assert {m.status for m in db.session.scalars(select(OutboxMessage))} == {OutboxStatus.SENT}


def test_once_reports_an_unreachable_server_in_one_line(smtp, staff, runner):
    submit(utcnow())
    smtp.stop()
    result = runner.invoke(args=["outbox", "run", "--once"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "will retry" in lines[0]
    smtp.start()
    result = runner.invoke(args=["outbox", "run", "--once"])
    assert result.exit_code == 0
    assert "sent 0" in result.output
    assert smtp.inbox.messages == []


def test_several_workers_at_once_send_each_message_once(smtp, staff, app):
    now = utcnow()
    for _ in range(15):
        submit(now)
    assert db.session.scalar(select(text("count(*)")).select_from(OutboxMessage)) == 30
    db.session.remove()
    errors = []

    def worker():
        try:
            with app.app_context():
                while outbox_round(now)[1].sent:
                    pass
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    counts = ids_received(smtp)
    assert len(counts) == 30
    assert set(counts.values()) == {1}


def test_a_claimed_message_is_not_claimed_by_another_worker(staff, app):
    now = utcnow()
    submit(now)
    first = outbox._claim(db.session, now, 10)
    assert len(first) == 2
    db.session.remove()
    with app.app_context():
        assert outbox._claim(db.session, now, 10) == []
        # A worker that died mid-send: its claim lapses and the row is retried.
        assert sorted(outbox._claim(db.session, now + outbox.CLAIM_TIMEOUT
                                    + timedelta(seconds=1), 10)) == sorted(first)


def test_the_reporter_hears_only_that_there_is_news(smtp, staff):
    now = utcnow()
    reviewer = staff["reviewer"]
    clues = [intake.submit(db.session, anonymous_payload(notify_email=f"r{i}@mail.example"),
                           channel=Channel.WEB, keys=intake_keys(), now=now, actor="reporter")
             for i in range(3)]
    outbox_round(now)
    smtp.inbox.messages.clear()
    # Three different pieces of news: accepted, not accepted, concluded.
    for clue in clues:
        workflow.start_triage(db.session, clue.clue_id, actor=reviewer, now=now)
    workflow.accept(db.session, clues[0].clue_id, actor=reviewer, now=now)
    workflow.not_accept(db.session, clues[1].clue_id, reason="insufficient", actor=reviewer,
                        now=now)
    workflow.accept(db.session, clues[2].clue_id, actor=reviewer, now=now)
    _, result = outbox_round(now)
    smtp.inbox.messages.clear()
    workflow.assign(db.session, clues[2].clue_id, department="market",
                    due_at=now + timedelta(days=3), reason="", actor=reviewer, now=now)
    workflow.start_investigation(db.session, clues[2].clue_id, actor=reviewer, now=now)
    workflow.conclude(db.session, clues[2].clue_id, outcome="partly", summary="部分属实",
                      actor=reviewer, now=now)
    outbox_round(now + timedelta(minutes=1))
    news = [smtp.inbox.to(f"r{i}@mail.example") for i in range(3)]
    assert [len(n) for n in news] == [0, 0, 1]
    # Accepted, not accepted, accepted (sent in the earlier round), then concluded.
    rows = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.template == "reporter_news").order_by(OutboxMessage.id)).all()
    assert [r.status for r in rows] == [OutboxStatus.SENT] * 4
    assert all("sealed_to" not in r.params for r in rows)


def test_reporter_news_is_the_same_text_and_length_whatever_happened(smtp, staff):
    now = utcnow()
    reviewer = staff["reviewer"]
    clues = [intake.submit(db.session, anonymous_payload(notify_email="same@mail.example"),
                           channel=Channel.WEB, keys=intake_keys(), now=now, actor="reporter")
             for _ in range(3)]
    outbox_round(now)
    smtp.inbox.messages.clear()
    for clue in clues:
        workflow.start_triage(db.session, clue.clue_id, actor=reviewer, now=now)
    workflow.accept(db.session, clues[0].clue_id, actor=reviewer, now=now)
    workflow.not_accept(db.session, clues[1].clue_id, reason="out_of_scope", actor=reviewer,
                        now=now)
    workflow.accept(db.session, clues[2].clue_id, actor=reviewer, now=now)
    workflow.assign(db.session, clues[2].clue_id, department="market",
                    due_at=now + timedelta(days=3), reason="", actor=reviewer, now=now)
    workflow.start_investigation(db.session, clues[2].clue_id, actor=reviewer, now=now)
    workflow.conclude(db.session, clues[2].clue_id, outcome="unsubstantiated", summary="不属实",
                      actor=reviewer, now=now)
    outbox_round(now)
    mails = smtp.inbox.to("same@mail.example")
    assert len(mails) == 3
    bodies = [smtp.inbox.body(m) for m in mails]
    by_clue = {c.tracking_no: c for c in clues}
    normalised = set()
    for mail, body in zip(mails, bodies, strict=True):
        number = next(no for no in by_clue if no in body)
        normalised.add((mail["Subject"], body.replace(number, "JD-XXXX-XXXX")))
        assert by_clue[number].receipt not in body
        for word in ("受理", "办结", "不属实", "accepted", "concluded"):
            assert word not in body
    assert len(normalised) == 1
    assert len({len(b.encode()) for b in bodies}) == 1


def test_no_plaintext_reporter_address_in_the_database(smtp, staff):
    now = utcnow()
    clue = intake.submit(db.session, anonymous_payload(notify_email="hidden@mail.example"),
                         channel=Channel.WEB, keys=intake_keys(), now=now, actor="reporter")
    workflow.start_triage(db.session, clue.clue_id, actor=staff["reviewer"], now=now)
    workflow.not_accept(db.session, clue.clue_id, reason="insufficient",
                        actor=staff["reviewer"], now=now)
    for row in db.session.execute(select(OutboxMessage.params)).scalars():
        assert "hidden@mail.example" not in str(row)
    outbox_round(now)
    assert smtp.inbox.to("hidden@mail.example")
    for row in db.session.execute(select(OutboxMessage.params)).scalars():
        assert "hidden@mail.example" not in str(row)
        assert "sealed_to" not in row


def test_news_queued_before_closing_still_reaches_the_reporter(smtp, staff):
    now = utcnow()
    reviewer = staff["reviewer"]
    clue = intake.submit(db.session, anonymous_payload(notify_email="late@mail.example"),
                         channel=Channel.WEB, keys=intake_keys(), now=now, actor="reporter")
    workflow.not_accept(db.session, clue.clue_id, reason="insufficient", actor=reviewer,
                        now=now)
    workflow.close(db.session, clue.clue_id, actor=reviewer, now=now)
    outbox_round(now)
    assert len(smtp.inbox.to("late@mail.example")) == 1


def test_a_user_disabled_before_the_mail_goes_gets_nothing(smtp, staff):
    now = utcnow()
    submit(now)
    staff["supervisor"].active = False
    db.session.commit()
    _, result = outbox_round(now)
    assert (result.sent, result.cancelled) == (1, 1)
    assert not smtp.inbox.to("sup@bureau.example")


def test_department_assignment_reminder_and_escalation(smtp, staff):
    start = datetime(2026, 3, 9, 9, 0, tzinfo=LOCAL)  # a Monday, 09:00 in Zhoushan
    clue = submit(start)
    reviewer = staff["reviewer"]
    workflow.start_triage(db.session, clue.clue_id, actor=reviewer, now=start)
    workflow.accept(db.session, clue.clue_id, actor=reviewer, now=start)
    due = start + timedelta(days=2)
    workflow.assign(db.session, clue.clue_id, department="market", due_at=due, reason="",
                    actor=reviewer, now=start)
    outbox_round(start)
    assigned = smtp.inbox.to("mkt@market.example")
    assert len(assigned) == 1
    assert "2026-03-11 09:00" in smtp.inbox.body(assigned[0])
    assert not smtp.inbox.to("tour@tourism.example")

    # A day before the due time: one reminder, however often the worker runs.
    for minutes in (0, 1, 30):
        outbox_round(due - timedelta(hours=23) + timedelta(minutes=minutes))
    reminders = [m for m in smtp.inbox.to("mkt@market.example") if "即将到期" in m["Subject"]]
    assert len(reminders) == 1
    assert not [m for m in smtp.inbox.messages if "已超期" in m["Subject"]]

    # Overdue: escalated to the supervisor (and the department), once.
    for minutes in (1, 2, 60):
        outbox_round(due + timedelta(minutes=minutes))
    overdue = [m for m in smtp.inbox.messages if "已超期" in m["Subject"]]
    assert sorted(m["To"] for m in overdue) == ["mkt@market.example", "sup@bureau.example"]


def test_supervisors_get_one_digest_a_day_from_eight(smtp, staff):
    start = datetime(2026, 3, 9, 7, 0, tzinfo=LOCAL)
    reviewer = staff["reviewer"]
    clue = submit(start)
    workflow.start_triage(db.session, clue.clue_id, actor=reviewer, now=start)
    workflow.accept(db.session, clue.clue_id, actor=reviewer, now=start)
    workflow.assign(db.session, clue.clue_id, department="market",
                    due_at=start + timedelta(hours=5), reason="", actor=reviewer, now=start)
    outbox_round(start)
    assert not [m for m in smtp.inbox.messages if "日报" in m["Subject"]]
    for hour in (8, 9, 15):
        outbox_round(start.replace(hour=hour))
    digests = [m for m in smtp.inbox.messages if "日报" in m["Subject"]]
    assert [m["To"] for m in digests] == ["sup@bureau.example"]
    body = smtp.inbox.body(digests[0])
    assert clue.tracking_no in body
    assert "市场监督管理局" in body
    outbox_round(start + timedelta(days=1, hours=2))  # 09:00 the next day: overdue now
    digests = [m for m in smtp.inbox.messages if "日报" in m["Subject"]]
    assert len(digests) == 2
    assert "超期 1 件" in digests[1]["Subject"]


def test_overdue_dispute_goes_to_the_supervisor(smtp, staff):
    from app.services import disputes

    start = datetime(2026, 3, 9, 10, 0, tzinfo=LOCAL)
    clue = submit(start)
    disputes.open_for_clue(db.session, clue.clue_id, departments=["market", "tourism"],
                           actor="user:rev", now=start)
    outbox_round(start + timedelta(hours=23))
    assert not [m for m in smtp.inbox.messages if "职责争议" in m["Subject"]]
    outbox_round(start + timedelta(hours=24, minutes=1))
    outbox_round(start + timedelta(hours=25))
    mails = [m for m in smtp.inbox.messages if "职责争议" in m["Subject"]]
    assert [m["To"] for m in mails] == ["sup@bureau.example"]


def test_without_a_mail_server_mail_goes_to_a_folder(app, staff, runner, tmp_path):
    submit(utcnow())
    result = runner.invoke(args=["outbox", "run", "--once"])
    assert result.exit_code == 0, result.output
    assert "sent 2" in result.output
    folder = app.config["JIDU_DATA_DIR"] / "mail"
    files = sorted(folder.glob("*.eml"))
    assert len(files) == 2
    assert b"rev@bureau.example" in b"".join(f.read_bytes() for f in files)


def test_back_off_starts_at_a_minute_and_stops_at_an_hour():
    minutes = [outbox.backoff(n) / timedelta(minutes=1) for n in (1, 2, 3, 6, 7, 30)]
    assert minutes == [1, 2, 4, 32, 60, 60]


def test_schedule_is_idempotent_under_a_dedupe_key(staff):
    start = datetime(2026, 3, 9, 9, 0, tzinfo=LOCAL)
    clue = submit(start)
    reviewer = staff["reviewer"]
    workflow.start_triage(db.session, clue.clue_id, actor=reviewer, now=start)
    workflow.accept(db.session, clue.clue_id, actor=reviewer, now=start)
    workflow.assign(db.session, clue.clue_id, department="market",
                    due_at=start + timedelta(hours=2), reason="", actor=reviewer, now=start)
    kwargs = {"remind_before": timedelta(hours=24), "digest_hour": 8}
    first = notify.schedule(db.session, now=start, **kwargs)
    db.session.commit()
    again = notify.schedule(db.session, now=start + timedelta(minutes=5), **kwargs)
    assert (first, again) == (2, 0)  # the liaison's reminder and the supervisor's digest
