"""The XLSX export by the console: at once when small, else a job on "我的导出"."""

from __future__ import annotations

import io

import pyotp
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.context import intake_keys
from app.extensions import db
from app.models import AuditEvent, Channel, ExportJob, ExportStatus
from app.services import export, intake, people
from app.timeutil import utcnow
from tests.factories import anonymous_payload, payload

PASSWORD = "a long enough password"


def signed_in(app, name, role="reviewer", department=None):
    _user, secret = people.create_user(db.session, username=name, role=role, password=PASSWORD,
                                       department=department, actor="test")
    client = app.test_client()
    client.post("/review/login", data={"username": name, "password": PASSWORD,
                                       "otp": pyotp.TOTP(secret).now()})
    return client


@pytest.fixture
def csrf_off(app):
    app.config["WTF_CSRF_ENABLED"] = False
    yield
    app.config["WTF_CSRF_ENABLED"] = True


@pytest.fixture
def clues(ready):
    made = [intake.submit(db.session, data, channel=Channel.WEB, keys=intake_keys(),
                          now=utcnow(), actor="reporter")
            for data in (payload(description="=1+1 被重复罚款"), anonymous_payload(),
                         anonymous_payload(district="dinghai"))]
    return [m.tracking_no for m in made]


def test_queue_page_offers_the_xlsx_export_with_its_filters(app, clues, csrf_off):
    client = signed_in(app, "rv")
    page = client.get("/review/?district=putuo&after=x").get_data(as_text=True)
    assert 'action="/review/export.xlsx?district=putuo"' in page
    assert "/review/exports" in page


def test_small_xlsx_is_sent_at_once(app, clues, csrf_off):
    client = signed_in(app, "rv")
    response = client.post("/review/export.xlsx?district=putuo")
    assert response.status_code == 200
    assert response.mimetype == export.XLSX_MIMETYPE
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).worksheets[0]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == export.HEADER
    assert sorted(r[0] for r in rows[1:]) == sorted(clues[:2])
    descriptions = {r[export.HEADER.index("description")] for r in rows[1:]}
    assert "'=1+1 被重复罚款" in descriptions
    assert "林晓梅" not in str(rows)
    assert db.session.scalar(select(ExportJob)) is None


def test_the_export_post_needs_its_csrf_token(app, clues):
    client = signed_in(app, "rv")
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/review/export.xlsx").status_code == 400
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "queue.export")) is None


def test_large_xlsx_is_a_job_only_its_requester_sees_and_downloads(app, clues, runner,
                                                                    csrf_off, monkeypatch):
    monkeypatch.setitem(app.config, "JIDU_XLSX_INLINE_ROWS", 1)
    owner = signed_in(app, "rv")
    response = owner.post("/review/export.xlsx?district=putuo")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/review/exports")
    page = owner.get("/review/exports").get_data(as_text=True)
    assert "正在后台生成" in page
    assert "排队中" in page
    assert 'http-equiv="refresh"' in page
    job = db.session.scalar(select(ExportJob))
    assert job.status == ExportStatus.PENDING
    assert f"/review/exports/{job.token}" not in page  # no link before it is done

    assert runner.invoke(args=["exports", "run", "--once"]).exit_code == 0
    page = owner.get("/review/exports").get_data(as_text=True)
    assert "已完成" in page
    assert f"/review/exports/{job.token}" in page
    download = owner.get(f"/review/exports/{job.token}")
    assert download.status_code == 200
    assert download.mimetype == export.XLSX_MIMETYPE
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Cache-Control"] == "no-store"
    rows = list(load_workbook(io.BytesIO(download.data), read_only=True).worksheets[0]
                .iter_rows(values_only=True))
    assert sorted(r[0] for r in rows[1:]) == sorted(clues[:2])

    stranger = signed_in(app, "rv2")
    assert stranger.get(f"/review/exports/{job.token}").status_code == 404
    assert stranger.get("/review/exports/" + "0" * 32).status_code == 404
    assert job.token not in stranger.get("/review/exports").get_data(as_text=True)
    supervisor = signed_in(app, "sv", role="supervisor")
    assert supervisor.get(f"/review/exports/{job.token}").status_code == 404

    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action.in_(("queue.export", "queue.export.download")))
        .order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor, e.target) for e in events] == [
        ("queue.export", "user:rv", f"export:{job.id}"),
        ("queue.export.download", "user:rv", f"export:{job.id}"),
    ]


def test_a_liaison_exports_only_their_department(app, clues, csrf_off):
    # No clue is assigned to the market department yet: only the header.
    liaison = signed_in(app, "li", role="liaison", department="market")
    response = liaison.post("/review/export.xlsx")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data), read_only=True).worksheets[0]
                .iter_rows(values_only=True))
    assert [list(r) for r in rows] == [export.HEADER]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "queue.export"))
    assert event.details["filters"] == {"scope_department": "market"}


def test_too_many_unfinished_exports_are_refused_with_a_message(app, clues, csrf_off,
                                                               monkeypatch):
    monkeypatch.setitem(app.config, "JIDU_XLSX_INLINE_ROWS", 0)
    client = signed_in(app, "rv")
    for _ in range(3):
        client.post("/review/export.xlsx")
    page = client.post("/review/export.xlsx", follow_redirects=True).get_data(as_text=True)
    assert "正在生成" in page
    assert len(db.session.scalars(select(ExportJob)).all()) == 3


@pytest.mark.parametrize("role", ["admin", "analyst"])
def test_other_roles_may_not_export(app, clues, csrf_off, role):
    client = signed_in(app, f"u-{role}", role=role)
    assert client.post("/review/export.xlsx").status_code == 403
    assert client.get("/review/exports").status_code == 403
    assert client.get("/review/exports/" + "0" * 32).status_code == 403
