"""Evidence files through the service: real files in, metadata out, ciphertext on disk."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from app.context import attachment_policy, intake_keys
from app.extensions import db
from app.models import Attachment, AuditEvent, Channel, ClueEvent
from app.security.keystore import PassphraseError
from app.services import attachments, intake, workflow
from app.services.attachments import AttachmentsRefused, Upload
from app.services.errors import ValidationFailed
from app.timeutil import utcnow
from tests.conftest import EVIDENCE_PASSPHRASE
from tests.evidence_files import (
    GPS_IFD,
    docx_with_author,
    elf,
    jpeg_with_gps,
    pdf_with_author,
    png_bomb,
    windows_exe,
)
from tests.factories import anonymous_payload


def upload(data: bytes, name: str) -> Upload:
    return Upload(name, io.BytesIO(data))


def submit(*files: Upload, **payload_changes):
    return intake.submit(db.session, anonymous_payload(**payload_changes), channel=Channel.WEB,
                         keys=intake_keys(), now=utcnow(), actor="reporter",
                         uploads=list(files), policy=attachment_policy())


def stored_files(app) -> list[Path]:
    folder = Path(app.config["JIDU_DATA_DIR"]) / attachments.FOLDER
    return sorted(p for p in folder.glob("*") if p.is_file()) if folder.exists() else []


def download(app, row: Attachment, passphrase: str = EVIDENCE_PASSPHRASE):
    got = attachments.open_for_download(
        db.session, row.id, clue_id=row.clue_id, actor="user:reviewer", passphrase=passphrase,
        folder=Path(app.config["JIDU_DATA_DIR"]) / attachments.FOLDER, now=utcnow())
    return got, b"".join(got.chunks)


def test_phone_photo_loses_gps_device_and_time_but_keeps_its_orientation(app, ready,
                                                                          evidence_key):
    photo = jpeg_with_gps()
    assert Image.open(io.BytesIO(photo)).getexif().get_ifd(GPS_IFD)  # the test has GPS
    submitted = submit(upload(photo, "IMG_2041.JPG"))
    (row,) = attachments.for_clue(db.session, submitted.clue_id)
    assert (row.kind, row.mime, row.extension) == ("image", "image/jpeg", "jpg")
    assert {"gps", "device", "time"} <= set(row.removed)
    got, body = download(app, row)
    assert got.filename == "IMG_2041.JPG"
    assert got.size == len(body) == row.size_bytes
    picture = Image.open(io.BytesIO(body))
    picture.load()
    exif = picture.getexif()
    assert not exif.get_ifd(GPS_IFD)
    assert GPS_IFD not in exif
    assert dict(exif) == {0x0112: 6}  # orientation only: the photo is not turned
    assert b"iPhone" not in body
    assert b"Apple" not in body
    assert picture.size == (640, 480)


@pytest.mark.parametrize(("data", "name"), [(elf(), "photo.jpg"), (windows_exe(), "现场.jpg"),
                                            (b"<html><script>", "scan.pdf")])
def test_a_program_named_like_a_photo_is_refused_and_nothing_is_stored(app, ready,
                                                                        evidence_key, data,
                                                                        name):
    before = db.session.scalar(select(ClueEvent.id).limit(1))
    with pytest.raises(AttachmentsRefused) as refused:
        submit(upload(jpeg_with_gps(), "ok.jpg"), upload(data, name))
    assert [(p.index, p.filename, p.code) for p in refused.value.problems] == [(1, name, "type")]
    db.session.rollback()
    assert db.session.scalar(select(ClueEvent.id).limit(1)) == before
    assert stored_files(app) == []


def test_only_ciphertext_on_disk(app, ready, evidence_key):
    marker = "EVIDENCE-MARKER-7Q"
    plain = pdf_with_author(marker)
    submitted = submit(upload(plain, "处罚决定书.pdf"))
    (row,) = attachments.for_clue(db.session, submitted.clue_id)
    (path,) = stored_files(app)
    assert path.name == row.storage_name
    stored = path.read_bytes()
    _got, body = download(app, row)
    assert marker.encode() in body  # the plaintext does hold the marker ...
    for needle in (marker.encode(), b"%PDF", "处罚决定书".encode(), body[:64], body[-64:]):
        assert needle not in stored  # ... the stored bytes do not
    assert "处罚决定书" not in row.key_sealed  # the file name is sealed too


def test_pdf_loses_author_producer_and_dates(app, ready, evidence_key):
    submitted = submit(upload(pdf_with_author(), "scan.pdf"))
    (row,) = attachments.for_clue(db.session, submitted.clue_id)
    assert {"author", "software", "time"} <= set(row.removed)
    _got, body = download(app, row)
    reader = PdfReader(io.BytesIO(body))
    assert not reader.metadata
    assert b"Lin Xiaomei" not in body
    assert b"WPS" not in body
    assert len(reader.pages) == 1


def test_office_file_loses_author_revision_and_company(app, ready, evidence_key):
    submitted = submit(upload(docx_with_author(), "情况说明.docx"))
    (row,) = attachments.for_clue(db.session, submitted.clue_id)
    assert row.extension == "docx"
    assert {"author", "revision"} <= set(row.removed)
    _got, body = download(app, row)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        core = archive.read("docProps/core.xml").decode()
        app_xml = archive.read("docProps/app.xml").decode()
        assert "罚款决定书内容" in archive.read("word/document.xml").decode()
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert "林晓梅" not in core
    assert "revision" not in core
    assert "舟山海韵民宿" not in app_xml
    assert "TotalTime" not in app_xml


@pytest.mark.parametrize(("data", "code"), [
    (png_bomb(), "pixels"), (b"", "empty"),
    (bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 600, "legacy_office"),
    (b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64, "heic"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 40, "damaged"),
])
def test_bombs_and_unusable_files_are_refused_with_a_reason(app, ready, evidence_key, data,
                                                            code):
    with pytest.raises(AttachmentsRefused) as refused:
        submit(upload(data, "x.png"))
    assert [p.code for p in refused.value.problems] == [code]
    assert stored_files(app) == []


def test_count_and_size_limits_come_from_configuration(app, ready, evidence_key):
    photo = jpeg_with_gps((32, 32))
    app.config.update(JIDU_MAX_ATTACHMENTS=2, JIDU_MAX_ATTACHMENT_MB=1)
    try:
        with pytest.raises(AttachmentsRefused) as refused:
            submit(*[upload(photo, f"{i}.jpg") for i in range(3)])
        assert [p.code for p in refused.value.problems] == ["count"]
        with pytest.raises(AttachmentsRefused) as refused:
            submit(upload(photo, "a.jpg"), upload(b"\xff" * (1024 * 1024 + 1), "big.jpg"))
        assert [(p.index, p.code) for p in refused.value.problems] == [(1, "too_large")]
    finally:
        app.config.update(JIDU_MAX_ATTACHMENTS=5, JIDU_MAX_ATTACHMENT_MB=20)


def test_without_an_evidence_key_files_are_refused_not_kept_in_clear(app, ready):
    with pytest.raises(AttachmentsRefused) as refused:
        submit(upload(jpeg_with_gps(), "a.jpg"))
    assert [p.code for p in refused.value.problems] == ["not_configured"]


def test_validation_comes_before_any_file_is_processed(app, ready, evidence_key):
    with pytest.raises(ValidationFailed):
        submit(upload(elf(), "a.jpg"), district="nowhere")
    assert stored_files(app) == []


def test_each_download_and_each_wrong_passphrase_is_audited(app, ready, evidence_key):
    submitted = submit(upload(jpeg_with_gps(), "a.jpg"))
    (row,) = attachments.for_clue(db.session, submitted.clue_id)
    with pytest.raises(PassphraseError):
        download(app, row, "not the passphrase")
    download(app, row)
    actions = list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action.like("attachment.%")).order_by(AuditEvent.id)))
    assert actions == ["attachment.wrong_passphrase", "attachment.download"]
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "attachment.download"))
    assert event.actor == "user:reviewer"
    assert event.target == f"clue:{submitted.tracking_no}"
    assert event.details["attachment"] == row.id


def test_a_key_envelope_does_not_open_for_another_clue(app, ready, evidence_key):
    first = submit(upload(jpeg_with_gps(), "a.jpg"))
    second = submit(upload(jpeg_with_gps(), "b.jpg"))
    (row,) = attachments.for_clue(db.session, first.clue_id)
    with pytest.raises(attachments.NotFound):
        attachments.open_for_download(
            db.session, row.id, clue_id=second.clue_id, actor="user:x",
            passphrase=EVIDENCE_PASSPHRASE, folder=Path(app.config["JIDU_DATA_DIR"]),
            now=utcnow())


def test_reporter_reply_carries_attachments(app, ready, evidence_key, reviewer_user):
    submitted = submit()
    workflow.ask_reporter(db.session, submitted.clue_id, question="请补充罚款决定书照片。",
                          actor=reviewer_user, now=utcnow())
    workflow.reporter_reply(db.session, submitted.clue_id, text="已补充。", now=utcnow(),
                            uploads=[upload(jpeg_with_gps(), "决定书.jpg")],
                            policy=attachment_policy())
    (row,) = attachments.for_clue(db.session, submitted.clue_id)
    reply = db.session.get(ClueEvent, row.event_id)
    assert reply.kind == "reporter_reply"
    assert reply.data["attachments"] == 1
    assert row.uploaded_by == "reporter"


def test_a_refused_reply_file_stores_neither_reply_nor_file(app, ready, evidence_key,
                                                          reviewer_user):
    submitted = submit()
    workflow.ask_reporter(db.session, submitted.clue_id, question="请补充。",
                          actor=reviewer_user, now=utcnow())
    with pytest.raises(AttachmentsRefused):
        workflow.reporter_reply(db.session, submitted.clue_id, text="见附件", now=utcnow(),
                                uploads=[upload(elf(), "a.jpg")], policy=attachment_policy())
    db.session.rollback()
    kinds = db.session.scalars(select(ClueEvent.kind).where(
        ClueEvent.clue_id == submitted.clue_id))
    assert "reporter_reply" not in list(kinds)
    assert stored_files(app) == []


@pytest.fixture
def reviewer_user(app):
    from app.services import people

    user, _secret = people.create_user(db.session, username="rev-att", role="reviewer",
                                       password="a long enough password", actor="test")
    return user


def test_keys_init_evidence_creates_the_keypair_once(runner, tmp_path):
    secret = tmp_path / "evidence.txt"
    secret.write_text(EVIDENCE_PASSPHRASE + "\n", encoding="utf-8")
    first = runner.invoke(args=["keys", "init", "--evidence", "--passphrase-file", str(secret)])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("evidence key created: ")
    second = runner.invoke(args=["keys", "init", "--evidence", "--passphrase-file",
                                 str(secret)])
    assert second.exit_code == 1
    assert "already exists" in second.output
    assert attachment_policy().public_key is not None
