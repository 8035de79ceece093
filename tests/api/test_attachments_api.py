"""POST /api/v1/clues as multipart: the same JSON in a ``payload`` part, plus ``files``."""

from __future__ import annotations

import io
import json

from sqlalchemy import func, select

from app.extensions import db
from app.models import Attachment, Clue
from tests.api.test_openapi_conformance import check
from tests.conftest import bearer
from tests.evidence_files import elf, jpeg_with_gps, pdf_with_author
from tests.factories import payload


def multipart(client, token, body, files):
    return client.post("/api/v1/clues", headers=bearer(token), content_type="multipart/form-data",
                       data={"payload": json.dumps(body, ensure_ascii=False),
                             "files": [(io.BytesIO(data), name) for data, name in files]})


def test_clue_with_files_says_what_was_removed(client, ready, evidence_key, app_token):
    response = multipart(client, app_token, payload(),
                         [(jpeg_with_gps(), "a.jpg"), (pdf_with_author(), "b.pdf")])
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "received"
    assert body["receipt"]
    photo, document = body["attachments"]
    assert photo["kind"] == "image"
    assert photo["mime"] == "image/jpeg"
    assert {"gps", "device", "time"} <= set(photo["removed"])
    assert document["kind"] == "pdf"
    assert "author" in document["removed"]
    check(response, "/clues")


def test_refused_file_is_named_and_nothing_is_stored(client, ready, evidence_key, app_token):
    response = multipart(client, app_token, payload(),
                         [(jpeg_with_gps(), "a.jpg"), (elf(), "b.jpg")])
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "attachment_refused"
    assert error["reasons"] == {"files.1": "type"}
    assert "文件类型不支持" in error["fields"]["files.1"]
    assert db.session.scalar(select(func.count(Clue.id))) == 0
    check(response, "/clues")


def test_multipart_without_a_json_payload_is_a_bad_request(client, ready, evidence_key,
                                                            app_token):
    response = client.post("/api/v1/clues", headers=bearer(app_token),
                           content_type="multipart/form-data",
                           data={"payload": "{not json", "files": [(io.BytesIO(b"x"), "a")]})
    assert response.status_code == 400
    check(response, "/clues")


def test_multipart_validation_and_exclusions_come_before_files(client, ready, evidence_key,
                                                               app_token):
    response = multipart(client, app_token, payload(district="nowhere"), [(elf(), "b.jpg")])
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation"


def test_json_clues_are_answered_exactly_as_before(client, ready, evidence_key, app_token):
    response = client.post("/api/v1/clues", json=payload(), headers=bearer(app_token))
    assert response.status_code == 201
    assert set(response.get_json()) == {"tracking_no", "receipt", "status"}
    assert db.session.scalar(select(func.count(Attachment.id))) == 0


def test_too_large_api_request_is_json_413(app, client, ready, evidence_key, app_token):
    app.config["JIDU_UPLOAD_REQUEST_BYTES"] = 32 * 1024
    try:
        response = multipart(client, app_token, payload(), [(b"\xff" * 100_000, "a.jpg")])
    finally:
        app.config["JIDU_UPLOAD_REQUEST_BYTES"] = (5 * 20 + 1) * 1024 * 1024
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    check(response, "/clues")
    # A JSON body keeps the small limit whatever the upload limit is.
    big = client.post("/api/v1/clues", headers=bearer(app_token),
                      json=payload(description="x" * 300_000))
    assert big.status_code == 413


def test_without_evidence_key_files_get_503(client, ready, app_token):
    response = multipart(client, app_token, payload(), [(jpeg_with_gps(), "a.jpg")])
    assert response.status_code == 503
    assert response.get_json()["error"]["reasons"] == {"files": "not_configured"}
    check(response, "/clues")
