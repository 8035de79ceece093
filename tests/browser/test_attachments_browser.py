"""A phone attaches a photo with GPS to the form; the reporter is told what was removed."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

from app.extensions import db
from app.models import Clue
from app.services import attachments
from tests.browser.test_report_flow import ARTIFACTS, fill_report, off_host
from tests.evidence_files import jpeg_with_gps

pytestmark = [pytest.mark.browser,
              pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]


def test_phone_attaches_a_photo_and_learns_its_gps_was_removed(phone, live_server,
                                                                evidence_key, tmp_path):
    photo = tmp_path / "IMG_0001.JPG"
    photo.write_bytes(jpeg_with_gps())
    page = phone
    page.goto(f"{live_server}/report")
    fill_report(page, real_name=False)
    field = page.get_by_label("证据材料（可不传）")
    assert field.get_attribute("accept").startswith("image/*")
    field.set_input_files(str(photo))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-attachment.png"), full_page=True)
    page.get_by_role("button", name="提交").click()
    page.wait_for_url(re.compile(r"/report/done$"))
    stored = page.locator("#attachments-stored").inner_text()
    assert "IMG_0001.JPG" in stored
    assert "已移除：位置信息（GPS）" in stored
    assert off_host(page.requests, live_server) == []
    clue = db.session.scalar(select(Clue))
    (row,) = attachments.for_clue(db.session, clue.id)
    assert "gps" in row.removed


def test_too_many_files_are_named_before_upload(phone, live_server, evidence_key, tmp_path):
    files = []
    for n in range(6):
        path = tmp_path / f"p{n}.jpg"
        buffer = io.BytesIO()
        Image.new("RGB", (8, 8)).save(buffer, "JPEG")
        path.write_bytes(buffer.getvalue())
        files.append(str(path))
    page = phone
    page.goto(f"{live_server}/report")
    fill_report(page, real_name=False)
    page.get_by_label("证据材料（可不传）").set_input_files(files)
    page.get_by_role("button", name="提交").click()
    assert page.locator("#attachments-check").inner_text() == "最多上传5个附件。"
    assert page.url.endswith("/report")
    assert db.session.scalar(select(Clue)) is None
