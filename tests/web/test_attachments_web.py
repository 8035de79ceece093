"""Attachments through the doors: the phone form, the status reply, the console."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.context import attachment_policy, intake_keys
from app.extensions import db
from app.models import Attachment, AuditEvent, Channel, Clue
from app.services import attachments, intake, workflow
from app.services.attachments import Upload
from app.timeutil import utcnow
from tests.conftest import EVIDENCE_PASSPHRASE
from tests.evidence_files import GPS_IFD, elf, jpeg_with_gps
from tests.factories import anonymous_payload
from tests.web.test_console import make_user, sign_in
from tests.web.test_public import FORM, Collector, csrf, nonce


def form_with(client, files, url="/report", **changes):
    page = client.get(url).get_data(as_text=True)
    data = {**FORM, **changes, "csrf_token": csrf(page), "nonce": nonce(page),
            "attachments": [(io.BytesIO(body), name) for body, name in files]}
    return client.post(url, data=data, content_type="multipart/form-data")


def clue_count() -> int:
    return db.session.scalar(select(func.count(Clue.id)))


def test_the_form_is_multipart_with_a_labelled_file_field(client, ready, evidence_key):
    page = client.get("/report").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    field = re.search(r"<input[^>]*type=\"file\"[^>]*>", page).group(0)
    assert 'multiple' in field
    assert 'accept="image/*,application/pdf' in field
    assert '<label class="label" for="attachments">证据材料（可不传）</label>' in page
    assert "最多5个，每个不超过20 MB" in page
    checker = Collector()
    checker.feed(page)
    assert checker.problems == []


def test_phone_photo_reaches_the_console_without_its_gps(app, client, ready, evidence_key):
    response = form_with(client, [(jpeg_with_gps(), "IMG_2041.JPG")])
    assert response.status_code == 302
    done = client.get("/report/done").get_data(as_text=True)
    assert "附件已加密保存" in done
    assert "IMG_2041.JPG" in done
    assert "已移除：位置信息（GPS）、拍摄设备信息、拍摄或编辑时间" in done

    clue = db.session.scalar(select(Clue))
    (row,) = attachments.for_clue(db.session, clue.id)
    _user, secret = make_user("reviewer-a", "reviewer")
    console = app.test_client()
    sign_in(console, "reviewer-a", secret)
    app.config["WTF_CSRF_ENABLED"] = True  # the download proves CSRF as well
    page = console.get(f"/review/clues/{clue.id}").get_data(as_text=True)
    assert "证据材料（1）" in page
    assert "图片（JPG" in page
    assert "已移除：位置信息（GPS）" in page
    assert "IMG_2041" not in page  # the name is sealed: shown only in the download
    url = f"/review/clues/{clue.id}/attachments/{row.id}"
    assert console.post(url, data={"passphrase": EVIDENCE_PASSPHRASE}).status_code == 400
    got = console.post(url, data={"passphrase": EVIDENCE_PASSPHRASE, "csrf_token": csrf(page)})
    assert got.status_code == 200
    assert got.headers["Content-Type"] == "image/jpeg"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''IMG_2041.JPG" in got.headers["Content-Disposition"]
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Cache-Control"] == "no-store"
    picture = Image.open(io.BytesIO(got.data))
    assert not picture.getexif().get_ifd(GPS_IFD)
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "attachment.download")) == 1


def test_chinese_file_name_survives_the_download_header(app, ready, evidence_key):
    from app.web.review.attachments import content_disposition

    header = content_disposition("现场 照片.jpg")
    assert header == ("attachment; filename=\"_____.jpg\"; "
                      "filename*=UTF-8''%E7%8E%B0%E5%9C%BA%20%E7%85%A7%E7%89%87.jpg")


def test_a_refused_file_keeps_everything_typed(client, ready, evidence_key):
    response = form_with(client, [(jpeg_with_gps(), "ok.jpg"), (elf(), "photo.jpg")],
                         description="执法人员未出示证件即开具罚单，详见照片。")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert clue_count() == 0
    assert "附件未能接收" in page
    assert "photo.jpg：文件类型不支持" in page
    assert "请重新选择附件" in page
    for typed in ("普陀区某某局执法大队", "执法人员未出示证件即开具罚单，详见照片。", "林晓梅",
                  FORM["phone"], "舟山海韵民宿", "5000"):
        assert typed in page, typed
    checker = Collector()
    checker.feed(page)
    assert checker.problems == []


def test_a_form_error_asks_for_the_files_again(client, ready, evidence_key):
    response = form_with(client, [(jpeg_with_gps(), "ok.jpg")], agency="")
    page = response.get_data(as_text=True)
    assert "请重新选择附件" in page
    assert clue_count() == 0


def test_a_too_large_request_is_a_clear_413_that_keeps_the_text(app, client, ready,
                                                                  evidence_key):
    app.config["JIDU_UPLOAD_REQUEST_BYTES"] = 64 * 1024
    try:
        response = form_with(client, [(b"\xff\xd8" + b"\x00" * 200_000, "huge.jpg")],
                             description="很长的描述仍然要保留。")
        page = response.get_data(as_text=True)
        assert response.status_code == 413
        assert "提交的附件合计过大" in page
        assert "很长的描述仍然要保留。" in page
        assert "普陀区某某局执法大队" in page
        assert "请重新选择附件" in page
        assert clue_count() == 0
    finally:
        app.config["JIDU_UPLOAD_REQUEST_BYTES"] = (5 * 20 + 1) * 1024 * 1024


def test_other_forms_keep_the_small_body_limit(client, ready):
    response = client.post("/status", data={"receipt": "x" * 300_000})
    assert response.status_code == 413
    assert "提交的内容过大" in response.get_data(as_text=True)


@pytest.fixture
def asked(ready, evidence_key):
    """A clue with a reviewer's question, and its receipt."""
    submitted = intake.submit(db.session, anonymous_payload(), channel=Channel.WEB,
                              keys=intake_keys(), now=utcnow(), actor="reporter")
    user, _secret = make_user("asker", "reviewer")
    workflow.ask_reporter(db.session, submitted.clue_id, question="请补充罚单照片。",
                          actor=user, now=utcnow())
    return submitted


def look_up(client, receipt):
    page = client.get("/status").get_data(as_text=True)
    return client.post("/status", data={"receipt": receipt, "csrf_token": csrf(page)})


def test_reporter_answers_with_a_photo_at_status(client, asked):
    page = look_up(client, asked.receipt).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    assert 'name="attachments"' in page
    response = client.post("/status/reply", content_type="multipart/form-data", data={
        "csrf_token": csrf(page), "reply": "罚单照片见附件。",
        "attachments": [(io.BytesIO(jpeg_with_gps()), "罚单.jpg")]})
    shown = response.get_data(as_text=True)
    assert "补充内容已提交" in shown
    assert "罚单.jpg" in shown
    assert "已移除：位置信息（GPS）" in shown
    (row,) = attachments.for_clue(db.session, asked.clue_id)
    assert row.event_id is not None


def test_a_refused_reply_file_keeps_the_reply_typed(client, asked):
    page = look_up(client, asked.receipt).get_data(as_text=True)
    response = client.post("/status/reply", content_type="multipart/form-data", data={
        "csrf_token": csrf(page), "reply": "这是我认真写的补充说明。",
        "attachments": [(io.BytesIO(elf()), "罚单.jpg")]})
    shown = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "这是我认真写的补充说明。" in shown
    assert "罚单.jpg：文件类型不支持" in shown
    assert "请重新选择附件" in shown
    assert db.session.scalar(select(func.count(Attachment.id))) == 0


@pytest.fixture
def clue_with_photo(ready, evidence_key):
    submitted = intake.submit(db.session, anonymous_payload(), channel=Channel.WEB,
                              keys=intake_keys(), now=utcnow(), actor="reporter",
                              uploads=[Upload("a.jpg", io.BytesIO(jpeg_with_gps()))],
                              policy=attachment_policy())
    return submitted.clue_id, attachments.for_clue(db.session, submitted.clue_id)[0].id


def test_liaison_downloads_only_for_a_clue_assigned_to_the_department(app, clue_with_photo):
    clue_id, attachment_id = clue_with_photo
    url = f"/review/clues/{clue_id}/attachments/{attachment_id}"
    _liaison, secret = make_user("liaison-m", "liaison", department="market")
    client = app.test_client()
    sign_in(client, "liaison-m", secret)
    try:
        assert client.post(url, data={"passphrase": EVIDENCE_PASSPHRASE}).status_code == 404
        db.session.get(Clue, clue_id).handling_department_code = "market"
        db.session.commit()
        got = client.post(url, data={"passphrase": EVIDENCE_PASSPHRASE})
        assert got.status_code == 200
        assert got.headers["Content-Disposition"].startswith("attachment;")
        _analyst, secret = make_user("analyst-a", "analyst")
        other = app.test_client()
        sign_in(other, "analyst-a", secret)
        assert other.post(url, data={"passphrase": EVIDENCE_PASSPHRASE}).status_code == 403
    finally:
        app.config["WTF_CSRF_ENABLED"] = True


def test_a_wrong_passphrase_is_refused_and_audited(app, clue_with_photo):
    clue_id, attachment_id = clue_with_photo
    _user, secret = make_user("reviewer-w", "reviewer")
    client = app.test_client()
    sign_in(client, "reviewer-w", secret)
    try:
        response = client.post(f"/review/clues/{clue_id}/attachments/{attachment_id}",
                               data={"passphrase": "wrong wrong wrong"})
        assert response.status_code == 302
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "证据密钥口令不正确，已记录。" in page
        assert db.session.scalar(select(AuditEvent.actor).where(
            AuditEvent.action == "attachment.wrong_passphrase")) == "user:reviewer-w"
    finally:
        app.config["WTF_CSRF_ENABLED"] = True


def test_manual_entry_takes_attachments(app, ready, evidence_key):
    _user, secret = make_user("reviewer-m", "reviewer")
    client = app.test_client()
    sign_in(client, "reviewer-m", secret)
    try:
        page = client.get("/review/clues/new").get_data(as_text=True)
        assert 'enctype="multipart/form-data"' in page
        assert 'name="attachments"' in page
        data = {**FORM, "channel": "letter",
                "attachments": [(io.BytesIO(jpeg_with_gps()), "来信附图.jpg")]}
        response = client.post("/review/clues/new", data=data,
                               content_type="multipart/form-data")
        shown = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "来信附图.jpg" in shown
        assert "已移除：位置信息（GPS）" in shown
        clue = db.session.scalar(select(Clue))
        (row,) = attachments.for_clue(db.session, clue.id)
        assert row.uploaded_by == "user:reviewer-m"
        refused = client.post("/review/clues/new", content_type="multipart/form-data",
                              data={**FORM, "channel": "letter",
                                    "attachments": [(io.BytesIO(elf()), "x.jpg")]})
        assert "x.jpg：文件类型不支持" in refused.get_data(as_text=True)
        assert clue_count() == 1
    finally:
        app.config["WTF_CSRF_ENABLED"] = True


def test_old_attachment_rows_keep_their_clue(app, clue_with_photo):
    clue_id, _attachment_id = clue_with_photo
    assert db.session.scalar(select(Attachment.clue_id)) == clue_id
    assert timedelta(0) <= utcnow() - db.session.scalar(select(Attachment.created_at))
