"""Dump analysis (issue 8, Tests): after a realistic session, a full dump holds no secret.

One session through the real doors — the public form and the partner API
with real-name identities, notify-me addresses and evidence files, a hotline
order with its caller, receipt look-ups, the reviewers' whole workflow in the
console, a reporter's reply with another file, an identity disclosure,
evidence downloads, the mail worker, a daily report, an export and a backup —
then everything an attacker with the disks would get: the database (SQLite's
files and ``iterdump``, or ``pg_dump``), every file under JIDU_DATA_DIR and
the instance folder, the backup archive and what it decrypts to, and the
logs. None may hold a name, phone, e-mail, company, credit code, caller,
receipt or attachment plaintext, in UTF-8 or any other obvious encoding.
Each haystack is shown to hold what is stored in the clear (the clue text),
so an empty or unreadable haystack cannot pass by accident.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import re
import sqlite3
import subprocess
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, quote_plus

from PIL import Image
from sqlalchemy import select

from app.extensions import db
from app.models import Attachment, Clue, DisclosureRequest
from app.security import archive
from app.services import backup, pg_tools, restore
from app.timeutil import local_today, utcnow
from tests.api.test_attachments_api import multipart
from tests.conftest import EVIDENCE_PASSPHRASE, PASSPHRASE, bearer, skip_or_fail
from tests.evidence_files import docx_with_author, pdf_with_author
from tests.factories import CREDIT_CODE, payload
from tests.test_keys_lifecycle import ENFORCEMENT_CALL
from tests.web.test_attachments_web import form_with
from tests.web.test_console import make_user, sign_in
from tests.web.test_public import receipt_on

WEB = {"name": "司马秋月", "phone": "13905807788", "email": "sima.qiuyue@example.net",
       "company": "舟山蓝湾冷链物流有限公司", "credit_code": "91350100M000100Y43"}
WEB_NOTIFY = "sima.notify@example.org"
API = {"name": "欧阳建国", "phone": "13736559021", "email": "ouyang.jg@example.com",
       "company": "岱山县东沙渔具加工厂", "credit_code": CREDIT_CODE}
API_NOTIFY = "jianguo.news@example.org"
CALLER = {"name": "诸葛明远", "phone": "13857009911"}
PDF_MARKER = "EVIDENCE-PLAINTEXT-K7Q2Z9"
DOCX_MARKER = "证据原文标记甲乙丙丁"
FILE_NAME = f"{WEB['name']}的处罚决定书.pdf"
DESCRIPTION = "执法队员以检查为名多次要求停业，并当场开具罚单但未告知陈述申辩权利。"
BACKUP_KEY = "dump-analysis backup key, long enough 0123456789"


def noise_png() -> bytes:
    """A photo-like file whose bytes are unique: any slice of it found anywhere is a leak."""
    image = Image.frombytes("RGB", (48, 48), os.urandom(48 * 48 * 3))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def encodings(needle: str) -> set[bytes]:
    """The needle as stored by anything obvious: text encodings, escapes, hex, base64."""
    raw = needle.encode()
    forms = {raw, needle.encode("utf-16-le"), needle.encode("utf-16-be"),
             needle.encode("gb18030"), raw.hex().encode(), raw.hex().upper().encode(),
             json.dumps(needle)[1:-1].encode(), quote(needle).encode(),
             quote_plus(needle).encode(), needle.lower().encode()}
    # Inside a longer base64 text, the needle's bytes start at any offset mod 3.
    for shift in range(3):
        core = raw[shift:shift + 3 * ((len(raw) - shift) // 3)]
        if len(core) >= 6:
            forms.add(base64.b64encode(core))
            forms.add(base64.urlsafe_b64encode(core))
    return {form for form in forms if len(form) >= 6}


def test_encodings_find_a_needle_wherever_it_sits():
    for prefix in (b"", b"x", b"xy", b"xyz"):
        hidden = base64.b64encode(prefix + "司马秋月".encode() + b"tail")
        assert any(form in hidden for form in encodings("司马秋月"))
    assert any(f in "前缀司马秋月".encode("utf-16-le") for f in encodings("司马秋月"))


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    return found.group(1) if found else ""


def console(client, clue_id: int, steps: list[tuple[str, dict]]) -> None:
    for action, data in steps:
        response = client.post(f"/review/clues/{clue_id}/{action}", data=data,
                               follow_redirects=True)
        assert response.status_code == 200, action
        assert "已保存" in response.get_data(as_text=True), action


def database_dump(backend: str, app) -> dict[str, bytes]:
    db.session.remove()
    if backend == "sqlite":
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(FULL)")
        path = Path(db.engine.url.database)
        files = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        with sqlite3.connect(path) as conn:
            dump = "\n".join(conn.iterdump()).encode()
        return {"sqlite files": files, "sqlite iterdump": dump}
    try:
        pg_dump = pg_tools.pg_tool("pg_dump", None)
    except Exception:  # noqa: BLE001
        skip_or_fail("pg_dump is not installed")
    uri, env = pg_tools.libpq(db.engine.url)
    plain = subprocess.run([pg_dump, "--format=plain", "--no-owner", f"--dbname={uri}"],  # noqa: S603
                           env=env, capture_output=True, check=True).stdout
    return {"pg_dump": plain}


def files_under(*folders: Path) -> dict[str, bytes]:
    found = {}
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                found[str(path)] = path.read_bytes()
    return found


def test_a_full_dump_after_a_realistic_session_holds_no_secret(
        app, ready, evidence_key, app_token, hotline_token, smtp, backend, runner, tmp_path,
        caplog):
    caplog.set_level(logging.DEBUG)
    reporter, partner, reviewer_client, supervisor_client = (app.test_client()
                                                             for _ in range(4))
    photo, reply_photo = noise_png(), noise_png()

    # The public form: real name, notify-me address, a PDF named after the reporter, a photo.
    response = form_with(reporter, [(pdf_with_author(PDF_MARKER), FILE_NAME),
                                    (photo, "现场照片.png")],
                         description=DESCRIPTION, phone="139 0580 7788", notify="y",
                         notify_email=WEB_NOTIFY,
                         **{k: v for k, v in WEB.items() if k != "phone"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    web_receipt = receipt_on(reporter.get(response.headers["Location"]).get_data(as_text=True))
    web_clue = db.session.scalar(select(Clue).order_by(Clue.id.desc()))

    # The partner app: JSON identity and a Word document, as multipart.
    response = multipart(partner, app_token,
                         payload(identity=API, notify_email=API_NOTIFY, description=DESCRIPTION),
                         [(docx_with_author(DOCX_MARKER), f"{API['company']}情况说明.docx")])
    assert response.status_code == 201, response.get_json()
    api_receipt = response.get_json()["receipt"]

    # The hotline: an enforcement complaint with its caller.
    order = {"order_no": "12345-20261201-0042", "received_at": utcnow().isoformat(),
             "content": ENFORCEMENT_CALL, "district": "putuo", "hotline_category": "投诉举报",
             "caller": CALLER}
    response = partner.post("/api/v1/hotline/orders", json=order, headers=bearer(hotline_token))
    assert response.status_code == 201
    hotline_clue_id = db.session.scalar(select(Clue.id).where(Clue.channel == "hotline"))

    # Receipt look-ups, by the API and by the status page.
    assert partner.post("/api/v1/receipts/lookup",
                        json={"receipt": api_receipt}).status_code == 200
    status = reporter.get("/status").get_data(as_text=True)
    assert web_clue.tracking_no in reporter.post("/status", data={
        "csrf_token": csrf_of(status), "receipt": web_receipt.lower()}).get_data(as_text=True)

    # The console: the whole workflow, a question, identity disclosure, downloads.
    _rv, rv_secret = make_user("rv", "reviewer")
    _sup, sup_secret = make_user("sup", "supervisor")
    sign_in(reviewer_client, "rv", rv_secret)
    sign_in(supervisor_client, "sup", sup_secret)
    try:
        due = (local_today() + timedelta(days=5)).isoformat()
        console(reviewer_client, web_clue.id, [
            ("triage", {}), ("colour", {"colour": "orange", "reason": "多次检查"}),
            ("accept", {}),
            ("assign", {"department": "market", "due_on": due, "reason": ""}),
            ("investigate", {}), ("question", {"question": "请补充罚单照片。"})])
        console(reviewer_client, hotline_clue_id, [("triage", {}), ("accept", {})])
        shown = reporter.post("/status", data={"csrf_token": csrf_of(status),
                                               "receipt": web_receipt}).get_data(as_text=True)
        replied = reporter.post("/status/reply", content_type="multipart/form-data", data={
            "csrf_token": csrf_of(shown), "reply": "罚单照片见附件。",
            "attachments": [(io.BytesIO(reply_photo), "罚单照片.png")]})
        assert "补充内容已提交" in replied.get_data(as_text=True)

        reviewer_client.post(f"/review/clues/{web_clue.id}/identity/request",
                             data={"reason": "需电话回访核实情况"})
        request_id = db.session.scalar(select(DisclosureRequest.id))
        supervisor_client.post(f"/review/clues/{web_clue.id}/identity/{request_id}/decide",
                               data={"decision": "approve"})
        disclosed = reviewer_client.post(
            f"/review/clues/{web_clue.id}/identity/{request_id}/open",
            data={"passphrase": PASSPHRASE}).get_data(as_text=True)
        assert WEB["name"] in disclosed  # the reviewer did read it: it existed in plaintext

        plaintexts = []
        for row in db.session.scalars(select(Attachment).order_by(Attachment.id)):
            got = reviewer_client.post(f"/review/clues/{row.clue_id}/attachments/{row.id}",
                                       data={"passphrase": EVIDENCE_PASSPHRASE})
            assert got.status_code == 200
            plaintexts.append(got.get_data())
        assert len(plaintexts) == 4
        assert any(PDF_MARKER.encode() in body for body in plaintexts)
        console(reviewer_client, web_clue.id, [
            ("conclude", {"outcome": "substantiated", "summary": "属实，已责令整改",
                          "recovered_yuan": "800"}),
            ("feedback", {"message": "经核查属实，已责令整改。"}), ("close", {})])
        export = reviewer_client.get("/review/export.csv").get_data(as_text=True)
        assert DESCRIPTION in export
        assert WEB["name"] not in export
    finally:
        app.config["WTF_CSRF_ENABLED"] = True

    # The mail worker, the daily report and a backup, as their timers run them.
    for args in (["outbox", "run", "--once"],
                 ["reports", "daily", "--date", local_today().isoformat()]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, (args, result.output)
    assert smtp.inbox.to(WEB_NOTIFY), "the reporter's news was mailed (and not to a folder)"
    app.config["JIDU_BACKUP_KEY"] = BACKUP_KEY
    try:
        result = runner.invoke(args=["backup", "create", "--to", str(tmp_path / "backups")])
    finally:
        app.config["JIDU_BACKUP_KEY"] = None
    assert result.exit_code == 0, result.output
    unpacked = tmp_path / "unpacked"
    restore.read(Path(result.output.strip().splitlines()[-1]),
                 archive.derive_key(BACKUP_KEY), unpacked)

    # What the attacker gets.
    haystacks = {
        **database_dump(backend, app),
        **files_under(Path(app.config["JIDU_DATA_DIR"]), Path(app.instance_path),
                      tmp_path / "backups", unpacked),
        # Jidu's own log lines; the test's SMTP server (aiosmtpd's "mail.log")
        # stands for the mail relay, which is given the address to deliver to.
        "logs": "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records
                          if not r.name.startswith("mail.log")).encode(),
    }
    database_parts = [k for k in haystacks if k.startswith(("sqlite", "pg_dump"))]
    everything = b"\n".join(haystacks.values())
    # Sanity: the clue text, stored in the clear on purpose, is found in every
    # database dump and in the backup's decrypted database: the search works.
    for name in database_parts:
        assert DESCRIPTION.encode() in haystacks[name], name
    copy = unpacked / backup.DATABASE_PART[backend]
    assert copy.exists()
    if backend == "sqlite":
        assert DESCRIPTION.encode() in copy.read_bytes()

    secrets = [*WEB.values(), "139 0580 7788", WEB_NOTIFY, *API.values(), API_NOTIFY,
               *CALLER.values(), web_receipt, web_receipt.replace("-", ""), api_receipt,
               api_receipt.replace("-", ""), PDF_MARKER, DOCX_MARKER, FILE_NAME,
               f"{API['company']}情况说明"]
    leaks = [(secret, where) for secret in secrets for form in encodings(secret)
             for where, haystack in haystacks.items() if form in haystack]
    assert leaks == []
    # The attachments' plaintext, byte for byte: slices of each file as downloaded.
    for body in plaintexts:
        for start in range(len(body) // 5, len(body) - 32, max(1, len(body) // 5)):
            assert body[start:start + 32] not in everything
