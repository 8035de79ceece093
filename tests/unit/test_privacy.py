"""Nothing secret at rest: no identity, receipt or address in the database, files or logs."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import text

from app.extensions import Base, db
from tests.conftest import bearer
from tests.factories import payload

NAME = "欧阳素芬"
PHONE = "13905801234"
EMAIL = "ouyang.sufen@example.org"
ADDRESS = "203.0.113.77"


def database_text(backend: str) -> bytes:
    """Every byte the database holds: the files for SQLite, every row for PostgreSQL."""
    if backend == "sqlite":
        path = Path(db.engine.url.database)
        chunks = [p.read_bytes() for p in path.parent.glob(path.name + "*")]
        return b"".join(chunks)
    rows = []
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            result = conn.execute(text(f'SELECT * FROM "{table.name}"'))  # noqa: S608
            rows.extend(repr(tuple(row)) for row in result)
    return "\n".join(rows).encode()


def files_text(app) -> bytes:
    chunks = []
    for folder in (Path(app.config["JIDU_DATA_DIR"]), Path(app.instance_path)):
        chunks += [p.read_bytes() for p in folder.rglob("*") if p.is_file()]
    return b"".join(chunks)


def test_identity_receipt_and_address_never_at_rest(app, client, ready, app_token, backend,
                                                     caplog):
    caplog.set_level(logging.DEBUG)
    identity = {"name": NAME, "phone": PHONE, "email": EMAIL, "company": "舟山某某渔业公司"}
    response = client.post("/api/v1/clues", json=payload(identity=identity,
                                                          notify_email=EMAIL),
                           headers=bearer(app_token), environ_base={"REMOTE_ADDR": ADDRESS})
    assert response.status_code == 201
    receipt = response.get_json()["receipt"]
    client.post("/api/v1/receipts/lookup", json={"receipt": receipt},
                environ_base={"REMOTE_ADDR": ADDRESS})
    db.session.remove()
    if backend == "sqlite":
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(FULL)")
    haystacks = {"database": database_text(backend), "files": files_text(app),
                 "logs": caplog.text.encode()}
    needles = [NAME, PHONE, EMAIL, "ouyang", receipt, receipt.replace("-", ""), ADDRESS,
               "舟山某某渔业公司"]
    for where, haystack in haystacks.items():
        for needle in needles:
            for encoding in ("utf-8", "utf-16-le"):
                assert needle.encode(encoding) not in haystack, f"{needle!r} found in {where}"
    # The test would notice a leak: the description is stored in the clear.
    assert "首次轻微违法".encode() in haystacks["database"]


def test_form_submission_leaves_no_identity_at_rest(app, client, ready, backend, caplog):
    from tests.web.test_public import FORM, csrf, nonce

    caplog.set_level(logging.DEBUG)
    page = client.get("/report", environ_base={"REMOTE_ADDR": ADDRESS}).get_data(as_text=True)
    data = {**FORM, "name": NAME, "phone": PHONE, "email": EMAIL, "notify": "y",
            "notify_email": EMAIL, "csrf_token": csrf(page), "nonce": nonce(page)}
    response = client.post("/report", data=data, environ_base={"REMOTE_ADDR": ADDRESS})
    assert response.status_code == 302
    db.session.remove()
    if backend == "sqlite":
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(FULL)")
    for where, haystack in {"database": database_text(backend), "files": files_text(app),
                            "logs": caplog.text.encode()}.items():
        for needle in (NAME, PHONE, EMAIL, ADDRESS):
            assert needle.encode() not in haystack, f"{needle!r} found in {where}"


def test_development_server_log_lines_carry_no_address():
    from app import _RedactAddress

    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1,
                               f'{ADDRESS} - - [23/Nov/2026 08:00:00] "POST /report '
                               'HTTP/1.1" 302 -', None, None)
    _RedactAddress().filter(record)
    assert ADDRESS not in record.getMessage()
    assert '"POST /report HTTP/1.1" 302' in record.getMessage()
