"""sqlmap against the public form, the receipt look-up and the API: nothing injectable.

Each scan is bounded (level 2, risk 1, techniques B, E, U and T, two threads,
a time limit) and is given what a real reporter or partner has, so that its
payloads reach the code behind the door instead of bouncing off it: a session
cookie with its CSRF token and a fresh form nonce for the form, a bearer
token for the API. The server counts what reached it; no payload may cause a
500, and sqlmap must report no injectable parameter.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app.context import intake_keys
from app.extensions import db
from app.models import Channel, Clue, HotlineOrder
from app.services import intake
from app.timeutil import utcnow
from tests.conftest import skip_or_fail
from tests.factories import anonymous_payload
from tests.security.conftest import Counted

# One database: the doors sqlmap reaches build their SQL through the same ORM
# statements on both (the dialect-specific raw SQL is the console's search,
# which is not public), and a run takes three minutes on SQLite, seven on
# PostgreSQL.
pytestmark = [pytest.mark.slow, pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]
SQLMAP = Path(sys.executable).parent / "sqlmap"
TIME_LIMIT = 600
BOUNDS = ["--level", "2", "--risk", "1", "--technique", "BEUT", "--threads", "2",
          "--time-sec", "2", "--batch", "--flush-session", "--disable-coloring",
          "--time-limit", str(TIME_LIMIT), "--answers", "follow=N"]
CLEAN = re.compile(r"all tested parameters do not appear to be injectable")
FOUND = re.compile(r"identified the following injection point|is vulnerable", re.I)


def form_session(base: str) -> tuple[str, str, str]:
    """What a reporter's browser holds after opening the form: cookie, CSRF token, nonce."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{base}/report") as response:  # noqa: S310 (loopback)
        page = response.read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    nonce = re.search(r'name="nonce" value="([^"]*)"', page)
    assert token
    assert nonce
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return cookie, token.group(1), nonce.group(1)


def sqlmap(tmp: Path, name: str, url: str, *args: str) -> str:
    if not SQLMAP.exists():
        skip_or_fail("sqlmap is not installed (requirements-dev.txt): injection scan not run")
    out = tmp / name
    command = [str(SQLMAP), "-u", url, *BOUNDS, "--output-dir", str(out), *args]
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, timeout=TIME_LIMIT + 60,
                            check=False, env={"HOME": str(tmp), "PATH": "/usr/bin:/bin"},
                            cwd=tmp)
    output = result.stdout + result.stderr
    (tmp / f"{name}.txt").write_text(output)
    assert result.returncode == 0, output[-3000:]
    assert not FOUND.search(output), output[-3000:]
    assert CLEAN.search(output), output[-3000:]
    logs = [p for p in out.glob("*/log") if p.read_text().strip()]
    assert logs == [], "sqlmap logged injection points"
    tested = sorted(set(re.findall(r"parameter '([^']+)' does not seem to be injectable",
                                   output)))
    print(f"[sqlmap] {name}: {time.monotonic() - started:.0f} s, tested {tested}: "
          f"none injectable")
    return output


def reached(counted: Counted, method: str, path: str) -> int:
    return counted.calls[(method, path)]


def test_the_public_form_is_not_injectable(counted_server, tmp_path):
    base, counted = counted_server
    cookie, token, nonce = form_session(base)
    fields: dict[str, Any] = {
        "csrf_token": token, "nonce": nonce, "ex_discipline": "no", "ex_petition": "no",
        "ex_reconsideration": "no", "ex_litigation": "no", "category": "fines",
        "situations": "fines_discretion", "agency": "普陀区某某局执法大队",
        "department": "market", "district": "putuo", "occurred_on": "2025-05-01",
        "description": "首次轻微违法已当场改正，仍被按最高档罚款五千元。",
        "amount_yuan": "5000", "real_name": "no", "pledge": "y", "website": "",
    }
    counted.reset()
    # The session cookie is kept as given (--drop-set-cookie): a stored
    # submission never marks the nonce used, so every payload reaches intake.
    sqlmap(tmp_path, "form", f"{base}/report", "--data", urllib.parse.urlencode(fields),
           "--cookie", cookie, "--drop-set-cookie",
           # occurred_on is left out: WTForms parses it as a date before anything else.
           "-p", "agency,description,district,category,situations,department,amount_yuan")
    stored = db.session.scalar(select(func.count()).select_from(Clue))
    posts = reached(counted, "POST", "/report")
    assert counted.statuses[500] == 0
    assert stored > 0, "no payload reached intake"
    print(f"[sqlmap] form: {posts} POST /report, statuses {dict(counted.statuses)}, "
          f"{stored} clues stored by valid requests; no 500")


def test_the_receipt_lookup_is_not_injectable(counted_server, tmp_path):
    base, counted = counted_server
    # A real receipt: the page sqlmap compares its payloads' answers with is a found clue.
    receipt = intake.submit(db.session, anonymous_payload(), channel=Channel.WEB,
                            keys=intake_keys(), now=utcnow(), actor="reporter").receipt
    cookie, token, _nonce = form_session(base)
    counted.reset()
    sqlmap(tmp_path, "status", f"{base}/status",
           "--data", urllib.parse.urlencode({"csrf_token": token, "receipt": receipt}),
           "--cookie", cookie, "--drop-set-cookie", "-p", "receipt")
    sqlmap(tmp_path, "lookup", f"{base}/api/v1/receipts/lookup",
           "--data", json.dumps({"receipt": receipt}),
           "--headers", "Content-Type: application/json", "-p", "receipt")
    assert counted.statuses[500] == 0
    print(f"[sqlmap] look-up: {reached(counted, 'POST', '/status')} POST /status, "
          f"{reached(counted, 'POST', '/api/v1/receipts/lookup')} POST "
          f"/api/v1/receipts/lookup, statuses {dict(counted.statuses)}; no 500")


def test_the_api_is_not_injectable(counted_server, app_token, hotline_token, tmp_path):
    base, counted = counted_server
    counted.reset()
    body = anonymous_payload(department="market")
    sqlmap(tmp_path, "api-clues", f"{base}/api/v1/clues", "--data", json.dumps(body),
           "--headers", f"Authorization: Bearer {app_token}\nContent-Type: application/json",
           "-p", "category,agency,district,description,department,occurred_on")
    stored = db.session.scalar(select(func.count()).select_from(Clue))
    order = {"order_no": "12345-20250501-0001", "received_at": "2025-05-01T09:30:00+08:00",
             "content": "执法人员多次上门检查，要求缴纳费用", "district": "putuo",
             "hotline_category": "投诉", "dispatched_to": "market", "disputed": False}
    sqlmap(tmp_path, "api-hotline", f"{base}/api/v1/hotline/orders", "--data",
           json.dumps(order), "--headers",
           f"Authorization: Bearer {hotline_token}\nContent-Type: application/json",
           # A new order number each time (as digits for digits): every payload reaches
           # the insert, not the "same number, other content" conflict.
           "--randomize", "order_no",
           "-p", "content,district,hotline_category,dispatched_to")
    created = urllib.request.Request(  # noqa: S310 (loopback)
        f"{base}/api/v1/hotline/orders", data=json.dumps(order).encode(), method="POST",
        headers={"Authorization": f"Bearer {hotline_token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(created) as response:  # noqa: S310
        assert response.status in (200, 201)
    sqlmap(tmp_path, "api-hotline-get", f"{base}/api/v1/hotline/orders/12345-20250501-0001*",
           "--headers", f"Authorization: Bearer {hotline_token}")
    orders = db.session.scalar(select(func.count()).select_from(HotlineOrder))
    assert counted.statuses[500] == 0
    assert stored > 0, "no payload reached intake"
    assert orders > 1, "no payload reached the hotline's insert"
    print(f"[sqlmap] API: {reached(counted, 'POST', '/api/v1/clues')} POST /api/v1/clues "
          f"({stored} clues stored), {reached(counted, 'POST', '/api/v1/hotline/orders')} "
          f"POST /api/v1/hotline/orders ({orders} orders stored), statuses "
          f"{dict(counted.statuses)}; no 500")
