"""XLSX export: the workbook's content, the job, its runner, the sweep and the claim."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.context import intake_keys
from app.exports_worker import start_worker
from app.extensions import db
from app.models import AuditEvent, Channel, ExportJob, ExportStatus, User
from app.services import export, export_jobs, intake, people, queue
from app.timeutil import utcnow
from tests.factories import anonymous_payload, payload

RETENTION = timedelta(hours=24)


def make_user(name):
    user, _secret = people.create_user(db.session, username=name, role="reviewer",
                                       password="a long enough password", actor="test")
    # Plain values: an export expunges the session's objects as it reads
    # (constant memory), which would detach a model instance held here.
    return SimpleNamespace(id=user.id, username=user.username)


@pytest.fixture
def reviewer(app):
    return make_user("rv")


def submit(data):
    return intake.submit(db.session, data, channel=Channel.WEB, keys=intake_keys(),
                         now=utcnow(), actor="reporter")


def request(user, filters, inline_rows=5000):
    return export_jobs.request_xlsx(db.session, filters, user_id=user.id,
                                    actor=f"user:{user.username}", inline_rows=inline_rows,
                                    now=utcnow())


def sheet_rows(content):
    book = load_workbook(io.BytesIO(content), read_only=True)
    return [[cell.value for cell in row] for sheet in book.worksheets
            for row in sheet.iter_rows()]


def test_small_export_is_the_filtered_rows_without_identity_or_formulas(ready, reviewer):
    real = submit(payload(description="=SUM(A1:A9) 罚款明细见附件", agency='=HYPERLINK("http://x")'))
    submit(anonymous_payload(district="dinghai"))
    result = request(reviewer, queue.Filters(district="putuo"))
    assert result.job is None
    rows = sheet_rows(result.content)
    assert rows[0] == export.HEADER
    assert len(rows) == 2
    row = dict(zip(export.HEADER, rows[1], strict=True))
    assert row["tracking_no"] == real.tracking_no
    assert row["district"] == "putuo"
    # Text, never a formula: defused as in the CSV, and typed as a string.
    assert row["description"] == "'=SUM(A1:A9) 罚款明细见附件"
    assert row["agency"] == "'=HYPERLINK(\"http://x\")"
    with zipfile.ZipFile(io.BytesIO(result.content)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml
    everything = " ".join(str(v) for r in rows for v in r)
    for secret in ("林晓梅", "13857001234", "lin.xm@example.com", "舟山海韵民宿",
                   "91330900MA2A1B2C34"):
        assert secret not in everything
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "queue.export"))
    assert event.actor == "user:rv"
    assert event.details == {"format": "xlsx", "filters": {"district": "putuo"}}


def test_write_xlsx_continues_on_a_new_sheet_and_strips_control_characters(monkeypatch):
    monkeypatch.setattr(export, "XLSX_SHEET_ROWS", 2)
    rows = [["a\x07b", "#N/A"] + [""] * (len(export.HEADER) - 2) for _ in range(3)]
    buffer = io.BytesIO()
    assert export.write_xlsx(buffer, rows) == 3
    book = load_workbook(io.BytesIO(buffer.getvalue()), read_only=True)
    assert book.sheetnames == ["clues", "clues (2)"]
    first = [[c.value for c in r] for r in book["clues"].iter_rows()]
    assert first[0] == export.HEADER
    assert len(first) == 3
    assert first[1][:2] == ["ab", "#N/A"]
    assert next(book["clues"].iter_rows(min_row=2))[1].data_type == "s"
    assert [c.value for c in next(book["clues (2)"].iter_rows())] == export.HEADER


def test_an_empty_export_still_has_its_header():
    buffer = io.BytesIO()
    assert export.write_xlsx(buffer, []) == 0
    assert sheet_rows(buffer.getvalue()) == [export.HEADER]


def test_filters_survive_the_job_row():
    filters = queue.Filters(status="investigating", colour="red", overdue=True,
                            date_from=date(2025, 5, 1), date_to=date(2025, 5, 31), text="民宿",
                            scope_department="market")
    data = export_jobs.filters_to_json(filters)
    assert data["date_from"] == "2025-05-01"
    assert export_jobs.filters_from_json(data) == filters
    assert export_jobs.filters_from_json({**data, "unknown": 1}) == filters


def test_large_export_becomes_a_job_that_the_runner_builds(app, ready, reviewer, runner):
    made = [submit(anonymous_payload()) for _ in range(3)]
    submit(anonymous_payload(district="dinghai"))
    result = request(reviewer, queue.Filters(district="putuo"), inline_rows=2)
    job = result.job
    assert result.content is None
    assert job.status == ExportStatus.PENDING
    assert re.fullmatch(r"[0-9a-f]{32}", job.token)
    assert job.filters == {"district": "putuo"}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "queue.export"))
    assert event.target == f"export:{job.id}"
    assert event.details["job"] == job.id

    outcome = runner.invoke(args=["exports", "run", "--once"])
    assert outcome.exit_code == 0, outcome.output
    assert "exports built: 1" in outcome.output
    db.session.expire_all()
    job = db.session.get(ExportJob, job.id)
    assert job.status == ExportStatus.DONE
    assert job.row_count == 3
    assert job.started_at is not None
    assert job.finished_at is not None
    assert re.fullmatch(r"[0-9a-f]{32}\.xlsx", job.file_name)
    folder = export_jobs.exports_dir(app.config["JIDU_DATA_DIR"])
    assert sorted(p.name for p in folder.iterdir()) == [job.file_name]  # no .part left
    rows = sheet_rows((folder / job.file_name).read_bytes())
    assert rows[0] == export.HEADER
    assert sorted(r[0] for r in rows[1:]) == sorted(m.tracking_no for m in made)


def test_download_is_for_the_requester_only_and_audited(app, ready, reviewer):
    submit(anonymous_payload())
    job = request(reviewer, queue.Filters(), inline_rows=0).job
    data_dir = app.config["JIDU_DATA_DIR"]
    with pytest.raises(export_jobs.NotFound):  # not built yet
        export_jobs.open_download(db.session, job.token, user_id=reviewer.id, actor="user:rv",
                                  data_dir=data_dir, now=utcnow())
    export_jobs.run_pending(db.session, data_dir=data_dir, retention=RETENTION)
    other = make_user("rv2")
    with pytest.raises(export_jobs.NotFound):
        export_jobs.open_download(db.session, job.token, user_id=other.id, actor="user:rv2",
                                  data_dir=data_dir, now=utcnow())
    found, path = export_jobs.open_download(db.session, job.token, user_id=reviewer.id,
                                            actor="user:rv", data_dir=data_dir, now=utcnow())
    assert found.id == job.id
    assert path.is_file()
    downloads = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "queue.export.download")).all()
    assert [(e.actor, e.target) for e in downloads] == [("user:rv", f"export:{job.id}")]


def test_at_most_three_unfinished_exports_per_person(ready, reviewer):
    submit(anonymous_payload())
    for _ in range(export_jobs.MAX_OPEN_PER_USER):
        request(reviewer, queue.Filters(), inline_rows=0)
    with pytest.raises(export_jobs.TooManyExports):
        request(reviewer, queue.Filters(), inline_rows=0)


def test_a_job_is_claimed_once(ready, reviewer):
    submit(anonymous_payload())
    job = request(reviewer, queue.Filters(), inline_rows=0).job
    claimed = export_jobs.claim(db.session, utcnow())
    assert claimed.id == job.id
    assert claimed.status == ExportStatus.RUNNING
    assert export_jobs.claim(db.session, utcnow()) is None


def test_two_runners_never_take_the_same_job(app, ready, reviewer):
    submit(anonymous_payload())
    first = request(reviewer, queue.Filters(), inline_rows=0).job
    second = request(reviewer, queue.Filters(), inline_rows=0).job
    with Session(db.engine) as other:
        if db.engine.dialect.name == "postgresql":
            # The other runner holds the oldest job's row (FOR UPDATE): this
            # one takes the next at once instead of waiting for that lock.
            held = other.scalar(select(ExportJob).where(ExportJob.id == first.id)
                                .with_for_update())
            assert held is not None
            claimed = export_jobs.claim(db.session, utcnow())
            assert claimed.id == second.id
            other.rollback()
        else:
            # SQLite has one writer and no row locks: the conditional claim
            # alone keeps a job from being taken twice.
            theirs = export_jobs.claim(other, utcnow())
            assert theirs.id == first.id
            claimed = export_jobs.claim(db.session, utcnow())
            assert claimed.id == second.id
            assert export_jobs.claim(db.session, utcnow()) is None


def test_sweep_removes_old_files_and_fails_lost_jobs(app, ready, reviewer):
    submit(anonymous_payload())
    data_dir = app.config["JIDU_DATA_DIR"]
    job = request(reviewer, queue.Filters(), inline_rows=0).job
    export_jobs.run_pending(db.session, data_dir=data_dir, retention=RETENTION)
    lost = request(reviewer, queue.Filters(), inline_rows=0).job
    export_jobs.claim(db.session, utcnow())
    folder = export_jobs.exports_dir(data_dir)
    (folder / ".crashed.xlsx.part").write_bytes(b"half")
    later = utcnow() + RETENTION + timedelta(hours=1)
    removed = export_jobs.sweep(db.session, data_dir=data_dir, now=later, retention=RETENTION)
    assert removed == 2
    assert list(folder.iterdir()) == []
    db.session.expire_all()
    assert db.session.get(ExportJob, job.id).status == ExportStatus.EXPIRED
    assert db.session.get(ExportJob, job.id).file_name is None
    assert db.session.get(ExportJob, lost.id).status == ExportStatus.FAILED
    with pytest.raises(export_jobs.NotFound):
        export_jobs.open_download(db.session, job.token, user_id=reviewer.id, actor="user:rv",
                                  data_dir=data_dir, now=later)


def test_a_failing_build_marks_the_job_failed(app, ready, reviewer, monkeypatch):
    submit(anonymous_payload())
    job = request(reviewer, queue.Filters(), inline_rows=0).job

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(export, "write_xlsx", broken)
    data_dir = app.config["JIDU_DATA_DIR"]
    assert export_jobs.run_pending(db.session, data_dir=data_dir, retention=RETENTION) == 1
    db.session.expire_all()
    failed = db.session.get(ExportJob, job.id)
    assert failed.status == ExportStatus.FAILED
    assert failed.error == "RuntimeError"
    assert list(export_jobs.exports_dir(data_dir).iterdir()) == []


def test_the_in_process_worker_thread_builds_pending_jobs(app, ready, reviewer):
    submit(anonymous_payload())
    job = request(reviewer, queue.Filters(), inline_rows=0).job
    thread = start_worker(app)
    thread.join(timeout=60)
    assert not thread.is_alive()
    db.session.expire_all()
    assert db.session.get(ExportJob, job.id).status == ExportStatus.DONE
    assert db.session.get(User, reviewer.id) is not None
