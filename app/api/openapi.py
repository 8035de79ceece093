"""The OpenAPI 3.1 document of /api/v1, built from the same reference data.

Tests check that every route is documented and that real responses validate
against these schemas, so the document cannot drift from the code.
"""

from __future__ import annotations

from typing import Any

from app import __version__
from app.api import openapi_hotline
from app.reference import CATEGORIES, DEPARTMENTS, DISTRICTS, EXCLUSIONS

ATTACHMENT_REASONS = ["count", "too_large", "empty", "type", "heic", "legacy_office", "macro",
                      "video", "damaged", "pixels", "encrypted", "not_configured"]
MULTIPART_NOTE = (
    "Send `application/json` as before, or (addition to v1) `multipart/form-data` with the "
    "same JSON object in a part named `payload` and evidence files in parts named `files` "
    "(at most JIDU_MAX_ATTACHMENTS, default 5, each at most JIDU_MAX_ATTACHMENT_MB, default "
    "20 MiB). A file's type is judged from its bytes, not its name: JPEG, PNG, WebP, PDF, "
    ".docx/.xlsx/.pptx and audio (MP3, M4A, AAC, AMR, WAV, OGG, FLAC). Location (GPS), device "
    "and time are removed from pictures, author, revision and software from PDF and Office "
    "files, before the file is encrypted; `attachments` in the answer says what was removed. "
    "Checks run as for JSON, then the files; a refused file stores nothing.")
STATUSES = ["received", "triaging", "accepted", "not_accepted", "assigned", "investigating",
            "concluded", "feedback_given", "closed", "merged"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": _ref("Error")}}}


def _situation_table() -> str:
    lines = ["| category | situation code | 情形 |", "|---|---|---|"]
    for code, _name, _en, items in CATEGORIES:
        lines += [f"| `{code}` | `{s}` | {zh} |" for s, zh, _e in items]
    return "\n".join(lines)


def _schemas() -> dict[str, Any]:
    named = {"type": "object", "required": ["code", "name"],
             "properties": {"code": {"type": "string"}, "name": {"type": "string"},
                            "name_en": {"type": "string"}}}
    return {
        "Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"},
                               "description": "Field errors keyed like `identity.phone`."},
                    "rules": {"type": "array", "items": {"type": "string",
                              "enum": [e[0] for e in EXCLUSIONS]}},
                    "reasons": {"type": "object", "additionalProperties": {
                        "type": "string", "enum": ATTACHMENT_REASONS},
                        "description": "`attachment_refused` only: a code per file "
                        "(`files.0` …) or for the set (`files`)."},
                }}},
        },
        "Attachment": {
            "type": "object", "required": ["kind", "mime", "size", "removed"],
            "properties": {
                "kind": {"type": "string", "enum": ["image", "pdf", "office", "audio"]},
                "mime": {"type": "string", "description": "Judged from the bytes."},
                "size": {"type": "integer", "description": "Bytes stored, after removal."},
                "removed": {"type": "array", "items": {"type": "string", "enum": [
                    "gps", "device", "time", "author", "revision", "software", "other"]},
                    "description": "What was removed before encryption; audio is kept as is."},
            },
        },
        "Named": named,
        "Category": {
            "type": "object", "required": ["code", "name", "situations"],
            "properties": {"code": {"type": "string", "enum": [c[0] for c in CATEGORIES]},
                           "name": {"type": "string"}, "name_en": {"type": "string"},
                           "situations": {"type": "array", "items": _ref("Named")}},
        },
        "Campaign": {
            "type": "object",
            "required": ["slug", "title", "opens_at", "deadline", "open", "categories",
                         "exclusions", "districts"],
            "properties": {
                "slug": {"type": "string"}, "title": {"type": "string"},
                "opens_at": {"type": "string", "format": "date-time"},
                "deadline": {"type": "string", "format": "date-time"},
                "open": {"type": "boolean"},
                "categories": {"type": "array", "items": _ref("Category")},
                "exclusions": {"type": "array", "items": {
                    "type": "object", "required": ["code", "question"],
                    "properties": {"code": {"type": "string"}, "question": {"type": "string"},
                                   "question_en": {"type": "string"}}}},
                "districts": {"type": "array", "items": _ref("Named")},
                "departments": {"type": "array", "items": _ref("Named"),
                                "description": "Addition to v1: departments for `department`."},
            },
        },
        "Identity": {
            "type": "object", "required": ["name", "phone"], "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "maxLength": 50},
                "phone": {"type": "string", "description": "Mainland mobile, 11 digits."},
                "email": {"type": "string", "format": "email"},
                "company": {"type": "string", "maxLength": 200},
                "credit_code": {"type": "string", "minLength": 18, "maxLength": 18,
                                "description": "统一社会信用代码, check digit per GB 32100-2015."},
            },
        },
        "ClueSubmission": {
            "type": "object", "additionalProperties": False,
            "required": ["category", "agency", "district", "description", "real_name",
                         "exclusions", "pledge"],
            "properties": {
                "category": {"type": "string", "enum": [c[0] for c in CATEGORIES]},
                "situations": {"type": "array", "items": {"type": "string"},
                               "description": "Codes of the chosen category's situations "
                               "(the table above; administrators may add codes, so "
                               "`GET /campaigns/current` is the authoritative list)."},
                "agency": {"type": "string", "maxLength": 200, "minLength": 1},
                "department": {"type": "string", "enum": [d[0] for d in DEPARTMENTS],
                               "description": "Addition to v1: normalised department, if known."},
                "district": {"type": "string", "enum": [d[0] for d in DISTRICTS]},
                "occurred_on": {"type": "string", "format": "date",
                                "description": "Not in the future (Asia/Shanghai)."},
                "description": {"type": "string", "maxLength": 4000, "minLength": 1},
                "amount_yuan": {"type": "number", "minimum": 0, "multipleOf": 0.01},
                "real_name": {"type": "boolean"},
                "confidential": {"type": "boolean", "default": True},
                "identity": _ref("Identity"),
                "exclusions": {
                    "type": "object", "additionalProperties": False,
                    "required": [e[0] for e in EXCLUSIONS],
                    "properties": {e[0]: {"type": "boolean", "description": e[1]}
                                   for e in EXCLUSIONS},
                },
                "pledge": {"type": "boolean", "const": True},
                "notify_email": {"type": "string", "format": "email"},
                "source_tag": {"type": "string", "maxLength": 40},
            },
        },
        "ClueCreated": {
            "type": "object", "required": ["tracking_no", "receipt", "status"],
            "properties": {"tracking_no": {"type": "string"},
                           "receipt": {"type": "string",
                                       "description": "The reporter's secret; shown once."},
                           "status": {"type": "string", "const": "received"},
                           "attachments": {"type": "array", "items": _ref("Attachment"),
                                           "description": "Addition to v1: only when files "
                                           "were sent (multipart)."}},
        },
        "ReceiptLookup": {
            "type": "object", "required": ["receipt"],
            "properties": {"receipt": {"type": "string", "maxLength": 100}},
        },
        "ReporterStatus": {
            "type": "object",
            "required": ["tracking_no", "status", "status_label", "submitted_at", "feedback"],
            "properties": {
                "tracking_no": {"type": "string"},
                "status": {"type": "string", "enum": STATUSES},
                "status_label": {"type": "string"},
                "submitted_at": {"type": "string", "format": "date-time"},
                "feedback": {"type": "array", "items": {
                    "type": "object", "required": ["at", "message"],
                    "properties": {"at": {"type": "string", "format": "date-time"},
                                   "message": {"type": "string"}}}},
            },
        },
    }


def document() -> dict[str, Any]:
    bearer: list[dict[str, list[str]]] = [{"bearer": []}]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Jidu 即督 API",
            "version": f"1 ({__version__})",
            "description": (
                "Intake and status of 涉企行政执法 clues. Times are RFC 3339 with an offset "
                "(answers use +08:00). Errors are `{\"error\": {\"code\", \"message\", "
                "\"fields\"}}`.\n\nSituation codes:\n\n" + _situation_table()
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {**_schemas(), **openapi_hotline.schemas()},
        },
        "paths": {
            "/openapi.json": {"get": {
                "summary": "This document", "operationId": "openapi",
                "responses": {"200": {"description": "OpenAPI 3.1 document"}}}},
            "/campaigns/current": {"get": {
                "summary": "The current campaign with categories, situations, exclusions",
                "operationId": "currentCampaign",
                "responses": {
                    "200": {"description": "The open campaign, or the last closed one",
                            "content": {"application/json": {"schema": _ref("Campaign")}}},
                    "404": _error("`no_campaign`: there is no campaign at all"),
                }}},
            "/clues": {"post": {
                "summary": "Submit a clue (partner app or hotline)",
                "operationId": "createClue", "security": bearer,
                "description": MULTIPART_NOTE,
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": _ref("ClueSubmission")},
                    "multipart/form-data": {
                        "schema": {
                            "type": "object", "required": ["payload"],
                            "properties": {
                                "payload": _ref("ClueSubmission"),
                                "files": {"type": "array", "maxItems": 5, "items": {
                                    "type": "string", "contentMediaType":
                                    "application/octet-stream"}},
                            }},
                        "encoding": {"payload": {"contentType": "application/json"}}},
                }},
                "responses": {
                    "201": {"description": "Stored",
                            "content": {"application/json": {"schema": _ref("ClueCreated")}}},
                    "400": _error("`bad_request`: not a JSON object (or no JSON `payload` "
                                  "part)"),
                    "401": _error("`unauthorized`: missing or wrong token"),
                    "403": _error("`forbidden` (token of another channel) or "
                                  "`campaign_closed` (outside the window; nothing stored)"),
                    "413": _error("`too_large`: the request is over the upload limit"),
                    "422": _error("`validation` with `fields`, `excluded` with `rules`, or "
                                  "`attachment_refused` with `fields` and `reasons` per file "
                                  "(nothing stored)"),
                    "429": _error("rate limit of the token, or too many wrong tokens from "
                                  "this address"),
                    "503": _error("`not_configured`: no identity key yet, or "
                                  "`attachment_refused` with reason `not_configured` (no "
                                  "evidence key yet); `unavailable`: the database does not "
                                  "answer for now (retry after `Retry-After` seconds)"),
                }}},
            "/receipts/lookup": {"post": {
                "summary": "A reporter's status and feedback by receipt",
                "operationId": "lookupReceipt",
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": _ref("ReceiptLookup")}}},
                "responses": {
                    "200": {"description": "Found",
                            "content": {"application/json": {
                                "schema": _ref("ReporterStatus")}}},
                    "400": _error("`bad_request`: not a JSON object"),
                    "404": _error("`not_found`: wrong or unknown receipt (same body)"),
                    "422": _error("`validation`: receipt missing"),
                    "429": _error("too many attempts"),
                }}},
            **openapi_hotline.paths(bearer),
        },
    }
