"""Abuse: receipt guessing, sign-in brute force, oversized and malformed requests.

Each test prints what it tried and what held. Guessing runs through the test
client (no network): JIDU_ABUSE_GUESSES sets their number (10,000, a tenth of
them through the form, which renders a whole page per answer).
"""

from __future__ import annotations

import io
import os
import secrets
import time
from collections import Counter
from datetime import timedelta

import pyotp
from freezegun import freeze_time
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Clue
from app.security import receipts
from app.services import auth, people
from app.timeutil import utcnow
from tests.conftest import bearer
from tests.factories import payload

GUESSES = int(os.environ.get("JIDU_ABUSE_GUESSES", "10000"))
FORM_GUESSES = GUESSES // 10  # the form renders a whole page per answer: 4x the API's time
PASSWORD = "a long enough password"


def _guess() -> str:
    return receipts.format_receipt("".join(secrets.choice(receipts.ALPHABET)
                                           for _ in range(receipts.RECEIPT_CHARS)))


def _guesses(client, url: str, count: int, body) -> tuple[list[int], list[float]]:
    statuses, times = [], []
    for _ in range(count):
        statuses.append(client.post(url, **body(_guess())).status_code)
        times.append(time.monotonic())
    return statuses, times


def _throttled(statuses: list[int], times: list[float], per_window: int) -> int:
    """How many were answered before the first 429; checks 429 ever after.

    A limit's window (a minute) starts at its first request; a slow machine
    may outlast it, and then the next window lets ``per_window`` more through,
    which is the limit working, not failing: only those are allowed.
    """
    first = statuses.index(429)
    assert first <= per_window
    later = [t for status, t in zip(statuses[first:], times[first:], strict=True)
             if status != 429]
    assert all(t - times[0] >= 59 for t in later), "answered inside a spent window"
    windows = 1 + int((times[-1] - times[0]) // 60)
    assert len(statuses) - statuses.count(429) <= per_window * windows
    return first


def test_ten_thousand_receipt_guesses_are_throttled(app, ready, app_token):
    real = app.test_client().post("/api/v1/clues", json=payload(),
                                  headers=bearer(app_token)).get_json()["receipt"]
    per_window = int(app.config["JIDU_LIMIT_LOOKUP_SESSION"].split()[0])
    # An attacker who drops cookies: every limit falls back to the address.
    attacker = app.test_client(use_cookies=False)
    api, api_times = _guesses(attacker, "/api/v1/receipts/lookup", GUESSES - FORM_GUESSES,
                              lambda guess: {"json": {"receipt": guess}})
    through = _throttled(api, api_times, per_window)
    assert set(api[:through]) == {404}
    form, form_times = _guesses(attacker, "/status", FORM_GUESSES,
                                lambda guess: {"data": {"receipt": guess}})
    form_through = _throttled(form, form_times, per_window)
    # The reporter's own look-up, from their own address, still works.
    own = app.test_client().post("/api/v1/receipts/lookup", json={"receipt": real},
                                 environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert own.status_code == 200
    print(f"\n[abuse] {GUESSES} receipt guesses from one address; {len(api)} at the API: "
          f"{through} answered (404) before the first 429, {api.count(429)} refused 429 "
          f"({api_times[-1] - api_times[0]:.1f} s); {len(form)} at /status: {form_through} "
          f"answered, {form.count(429)} refused 429 ({form_times[-1] - form_times[0]:.1f} s); "
          f"limit {app.config['JIDU_LIMIT_LOOKUP_SESSION']} per session (or address); "
          "chance that a guess hits one of N receipts: N/2^100")


def test_sign_in_brute_force_locks_the_account_and_is_audited(app, client):
    user, secret = people.create_user(db.session, username="wang", role="reviewer",
                                      password=PASSWORD, actor="test")
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        wrong = [client.post("/review/login", data={"username": "wang", "password": f"guess{i}",
                                                    "otp": "000000"}).status_code
                 for i in range(auth.MAX_FAILURES)]
        assert wrong[:-1] == [200] * (auth.MAX_FAILURES - 1)
        assert wrong[-1] == 429
        right = client.post("/review/login", data={"username": "wang", "password": PASSWORD,
                                                   "otp": pyotp.TOTP(secret).now()})
        assert right.status_code == 429
        assert "锁定" in right.get_data(as_text=True)
        assert client.get("/review/").status_code == 302, "still signed out"
        with freeze_time(utcnow() + auth.LOCK_FOR + timedelta(minutes=1)):
            later = client.post("/review/login", data={"username": "wang", "password": PASSWORD,
                                                       "otp": pyotp.TOTP(secret).now()})
        assert later.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    actions = Counter(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.target == "user:wang")))
    assert actions["auth.failed"] == auth.MAX_FAILURES
    assert actions["auth.locked_out"] == 1
    assert actions["auth.signed_in"] == 1
    print(f"\n[abuse] {auth.MAX_FAILURES} wrong passwords: locked for {auth.LOCK_FOR}; the right "
          f"password and code then: 429 (locked); after the lock: signed in; audited "
          f"{dict(actions)}")


def test_oversized_requests_are_413_never_500(app, client, ready, hotline_token, monkeypatch):
    big = {"description": "长" * 100_000}  # 300 kB of UTF-8 in JSON
    answers = {
        "JSON clue": client.post("/api/v1/clues", json=payload(**big),
                                 headers=bearer(hotline_token)),
        "JSON hotline order": client.post("/api/v1/hotline/orders",
                                          json={"content": "x" * 300_000},
                                          headers=bearer(hotline_token)),
        "receipt look-up": client.post("/api/v1/receipts/lookup",
                                       json={"receipt": "x" * 300_000}),
    }
    monkeypatch.setitem(app.config, "JIDU_UPLOAD_REQUEST_BYTES", 64 * 1024)
    answers["multipart clue over the upload limit"] = client.post(
        "/api/v1/clues", headers=bearer(hotline_token), content_type="multipart/form-data",
        data={"payload": "{}", "files": (io.BytesIO(b"\xff\xd8" + b"\0" * 100_000), "a.jpg")})
    statuses = {label: response.status_code for label, response in answers.items()}
    assert set(statuses.values()) == {413}, statuses
    for label, response in answers.items():
        assert response.get_json()["error"]["code"] == "too_large", label
    assert db.session.scalar(select(db.func.count(Clue.id))) == 0
    print(f"\n[abuse] oversized bodies: {statuses}; nothing stored")


def test_malformed_or_mistyped_bodies_are_400_json(app, client, ready, hotline_token):
    headers = bearer(hotline_token)
    tried = {
        "broken JSON": dict(data=b'{"category": ', content_type="application/json"),
        "JSON array": dict(json=[1, 2]),
        "JSON string": dict(json="clue"),
        "not UTF-8": dict(data=b"\xff\xfe{}", content_type="application/json"),
        "text/plain": dict(data=b'{"category": "fines"}', content_type="text/plain"),
        "form-urlencoded": dict(data={"category": "fines"}),
        "XML": dict(data=b"<clue/>", content_type="application/xml"),
        "empty": dict(data=b"", content_type="application/json"),
    }
    statuses: dict[str, dict[str, int]] = {}
    for url in ("/api/v1/clues", "/api/v1/hotline/orders", "/api/v1/receipts/lookup",
                "/api/v1/hotline/orders/A1/callback"):
        for label, kwargs in tried.items():
            response = client.post(url, headers=headers, **kwargs)
            statuses.setdefault(url, {})[label] = response.status_code
            assert response.status_code in (400, 415), (url, label, response.status_code)
            assert response.get_json()["error"]["code"] in ("bad_request",
                                                            "unsupported_media_type")
    print(f"\n[abuse] malformed or mistyped bodies → 400 JSON: {statuses}")


def test_nul_and_out_of_range_input_is_4xx_on_every_door(app, client, ready, hotline_token):
    """What PostgreSQL or UTC cannot hold is refused before it gets there."""
    headers = bearer(hotline_token)
    tried = {
        "NUL in a clue's text": ("POST", "/api/v1/clues",
                                 {"json": payload(description="a\x00b")}, 422),
        "NUL in an order's text": ("POST", "/api/v1/hotline/orders", {"json": {
            "order_no": "A1", "received_at": "2025-05-01T09:30:00+08:00", "content": "\x00",
            "district": "putuo"}}, 422),
        "year 1 at +08:00": ("POST", "/api/v1/hotline/orders", {"json": {
            "order_no": "A2", "received_at": "0001-01-01T00:00:00+08:00", "content": "x",
            "district": "putuo"}}, 422),
        "NUL in an order number": ("GET", "/api/v1/hotline/orders/A%00B", {}, 404),
        "NUL in a call-back's number": ("POST", "/api/v1/hotline/orders/A%00/callback",
                                        {"json": {"satisfaction": "satisfied"}}, 404),
        "NUL in Open311 ids": ("GET", "/open311/v2/requests.json?service_request_id=%00", {},
                               200),
        "NUL in Open311 codes": ("GET", "/open311/v2/requests.json?service_code=%00", {}, 200),
        "NUL in an Open311 request": ("GET", "/open311/v2/requests/%00.json", {}, 404),
        "NUL in an Open311 service": ("GET", "/open311/v2/services/%00.json", {}, 404),
        "Open311 date out of range": (
            "GET", "/open311/v2/requests.json?start_date=0001-01-01T00:00:00%2B08:00", {}, 400),
        "NUL in a receipt": ("POST", "/api/v1/receipts/lookup", {"json": {"receipt": "\x00"}},
                             404),
        "NUL in a QR tag (an unknown tag: the form)": ("GET", "/q/%00", {}, 200),
        "NUL in a page's query": ("GET", "/poster?tag=a%00", {}, 400),
        "NUL in a reporter's reply": ("POST", "/status/reply", {"data": {"reply": "a\x00"}},
                                      400),
        "newline after a QR tag": ("GET", "/poster?tag=hall%0A", {}, 404),
    }
    got = {}
    for label, (method, url, kwargs, expected) in tried.items():
        got[label] = client.open(url, method=method, headers=headers, **kwargs).status_code
        assert got[label] == expected, (label, got[label])
    print(f"\n[abuse] NUL bytes and impossible times: {got}")


def test_a_huge_form_field_gets_a_chinese_message_never_a_500(app, client, ready):
    page = client.get("/report").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    over_limit = client.post("/report", data={"csrf_token": token, "agency": "长" * 300},
                             content_type="multipart/form-data")
    kept = over_limit.get_data(as_text=True)
    assert over_limit.status_code == 200
    assert "最多填写200个字" in kept
    assert "长" * 300 in kept
    huge = client.post("/report", data={"csrf_token": token, "description": "长" * 100_000},
                       content_type="multipart/form-data")
    text = huge.get_data(as_text=True)
    assert huge.status_code == 413
    assert "提交的内容过大，请精简后再试" in text
    assert "精简过长的文字" in text
    assert "附件" not in text
    huge_urlencoded = client.post("/report", data={"description": "长" * 100_000})
    assert huge_urlencoded.status_code == 413
    assert "提交的内容过大" in huge_urlencoded.get_data(as_text=True)
    print("\n[abuse] a field over its length: the form again, typed text kept, 最多填写200个字 "
          "at the field (200, as every form error); a 300 kB field: 413 with "
          "提交的内容过大，请精简后再试 and no word of attachments (multipart and urlencoded)")


def test_nul_in_any_console_query_or_form_is_400(app, ready):
    """Every console page, every filter it reads: a NUL is a 400, never PostgreSQL's 500."""
    names = ("after", "before", "campaign", "category", "channel", "colour", "department",
             "district", "from", "group", "month", "open", "overdue", "q", "sort", "source_tag",
             "status", "tag", "theme", "to", "view")
    statuses: Counter[int] = Counter()
    for role in ("supervisor", "admin"):
        client = app.test_client()
        _user, secret = people.create_user(db.session, username=f"n-{role}", role=role,
                                           password=PASSWORD, actor="test")
        app.config["WTF_CSRF_ENABLED"] = False
        try:
            client.post("/review/login", data={"username": f"n-{role}", "password": PASSWORD,
                                               "otp": pyotp.TOTP(secret).now()})
            for rule in app.url_map.iter_rules():
                if not rule.rule.startswith(("/review/", "/admin/")) or "GET" not in rule.methods:
                    continue
                url = rule.build({arg: 1 for arg in rule.arguments})[1]
                for name in names:
                    status = client.get(url, query_string={name: "a\x00"}).status_code
                    assert status == 400, (role, url, name, status)
                    statuses[status] += 1
            posted = client.post("/review/clues/new", data={"agency": "a\x00"}).status_code
            assert posted == 400
            token = client.get("/review/exports/a%00").status_code
            assert token in (403, 404)
        finally:
            app.config["WTF_CSRF_ENABLED"] = True
    print(f"\n[abuse] a NUL in each of {len(names)} filters on every console page, as "
          f"supervisor and admin: {dict(statuses)}; in a console form: 400; in an export "
          "token: 404")
