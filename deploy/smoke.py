#!/usr/bin/env python3
"""Smoke test of a running Jidu, from outside, through nginx. Standard library only.

    python3 deploy/smoke.py --url https://jidu.example.gov.cn
    python3 deploy/smoke.py --url https://localhost:8443 --cacert stage/tls/cert.pem \
        --token TOKEN --http-url http://localhost:8080 --mail-dir stage/data/mail

Without --token it only reads (health, form, static file, campaign): safe on
production. With a partner token of channel ``app`` it also submits an
anonymous test clue and looks it up with its receipt, and sends uploads
(2 MiB; with --upload-limit, just over the app's limit) to check that nginx
buffers them and leaves the refusal to the app; with --mail-dir it waits
for the mail worker to write the reviewers' notification. Prints one
line per check; exit status 1 at the first failure.
"""

from __future__ import annotations

import argparse
import json
import ssl
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

CLUE = {
    "category": "other",
    "situations": ["other_uncivil"],
    "agency": "部署冒烟测试（可忽略）",
    "district": "city",
    "description": "部署后的冒烟测试线索，不是真实反映，可直接不予受理。",
    "real_name": False,
    "exclusions": {"discipline": False, "petition": False, "reconsideration": False,
                   "litigation": False},
    "pledge": True,
    "source_tag": "smoke-test",
}


class Failed(Exception):
    pass


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


class Client:
    def __init__(self, cacert: str | None) -> None:
        context = ssl.create_default_context(cafile=cacert)
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context), NoRedirect())

    def request(self, method: str, url: str, body: dict[str, Any] | None = None,
                headers: dict[str, str] | None = None,
                data: Iterable[bytes] | bytes | None = None) -> tuple[int, Any, bytes]:
        headers = dict(headers or {})
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, method=method,  # noqa: S310 (our URL)
                                     headers=headers)
        try:
            with self.opener.open(req, timeout=30) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()


def upload(client: Client, url: str, size: int) -> tuple[int, Any]:
    """POST the form with one file of ``size`` zero bytes, streamed (never held whole)."""
    boundary = "jidu-smoke-boundary"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="agency"\r\n\r\n冒烟测试\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; '
            f'filename="smoke.jpg"\r\nContent-Type: image/jpeg\r\n\r\n').encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def chunks() -> Iterator[bytes]:
        yield head
        block = bytes(1024 * 1024)
        for start in range(0, size, len(block)):
            yield block[:min(len(block), size - start)]
        yield tail

    status, headers, _body = client.request(
        "POST", url, data=chunks(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                 "Content-Length": str(len(head) + size + len(tail))})
    return status, headers


def check(label: str, condition: bool, detail: str = "") -> None:
    if not condition:
        raise Failed(f"FAIL {label}{': ' + detail if detail else ''}")
    print(f"ok   {label}")


def run(args: argparse.Namespace) -> None:
    client = Client(args.cacert)
    base = args.url.rstrip("/")

    status, _headers, body = client.request("GET", f"{base}/healthz")
    check("GET /healthz is 200 {\"status\": \"ok\"}",
          status == 200 and json.loads(body) == {"status": "ok"}, f"{status} {body[:200]!r}")

    status, headers, body = client.request("GET", f"{base}/report")
    check("GET /report is the form", status == 200 and b"<form" in body, str(status))
    check("security headers sent once, by the app",
          len(headers.get_all("Content-Security-Policy") or []) == 1
          and len(headers.get_all("X-Content-Type-Options") or []) == 1,
          str(headers.get_all("Content-Security-Policy")))
    if base.startswith("https:"):
        check("the app sees https behind the proxy (HSTS sent)",
              "max-age=" in (headers.get("Strict-Transport-Security") or ""))
    check("no server version disclosed", "/" not in (headers.get("Server") or ""),
          headers.get("Server") or "")

    status, headers, _body = client.request("GET", f"{base}/static/css/jidu.css")
    check("GET /static/css/jidu.css is served", status == 200, str(status))

    if args.http_url:
        status, headers, _body = client.request("GET", f"{args.http_url.rstrip('/')}/report")
        check("plain http is redirected to https",
              status == 301 and (headers.get("Location") or "").startswith("https://"),
              f"{status} {headers.get('Location')}")

    status, _headers, body = client.request("GET", f"{base}/api/v1/campaigns/current")
    check("GET /api/v1/campaigns/current answers", status in (200, 404), str(status))
    if not args.token:
        return
    check("a campaign is open", status == 200 and json.loads(body)["open"] is True,
          body[:200].decode(errors="replace"))

    started = time.time()
    status, _headers, body = client.request("POST", f"{base}/api/v1/clues", CLUE,
                                            {"Authorization": f"Bearer {args.token}"})
    check("POST /api/v1/clues is 201", status == 201, f"{status} {body[:300]!r}")
    created = json.loads(body)
    status, _headers, body = client.request("POST", f"{base}/api/v1/receipts/lookup",
                                            {"receipt": created["receipt"].lower()})
    found = json.loads(body) if status == 200 else {}
    check("the receipt finds the clue",
          found.get("tracking_no") == created["tracking_no"]
          and found.get("status") == "received", f"{status} {body[:200]!r}")
    status, _headers, body = client.request("POST", f"{base}/api/v1/receipts/lookup",
                                            {"receipt": "0000-0000-0000-0000-0000"})
    check("a wrong receipt is 404", status == 404, str(status))

    # The app's pages carry its CSP; nginx's own error pages do not.
    status, headers = upload(client, f"{base}/report", 2 * 1024 * 1024)
    check("a 2 MiB upload passes nginx to the app (which stores nothing without a CSRF token)",
          status in (200, 400) and bool(headers.get("Content-Security-Policy")), str(status))
    if args.upload_limit:
        status, headers = upload(client, f"{base}/report", args.upload_limit + 4 * 1024 * 1024)
        check("an upload over the app's limit is refused by the app, not nginx",
              status == 413 and bool(headers.get("Content-Security-Policy")), str(status))

    if args.mail_dir:
        folder = Path(args.mail_dir)
        deadline = time.time() + args.mail_wait
        while time.time() < deadline:
            fresh = [p for p in folder.glob("**/*.eml") if p.stat().st_mtime >= started - 1]
            if fresh:
                break
            time.sleep(0.5)
        else:
            fresh = []
        check(f"the mail worker wrote the new-clue notification ({len(fresh)} in {folder})",
              bool(fresh))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="public base URL, e.g. https://host")
    parser.add_argument("--cacert", help="CA file for a self-signed certificate")
    parser.add_argument("--token", help="partner API token (channel app): submit a test clue")
    parser.add_argument("--http-url", help="the plain-http address, to check its redirect")
    parser.add_argument("--mail-dir", help="JIDU_DATA_DIR/mail, when MAIL_SERVER is unset")
    parser.add_argument("--mail-wait", type=float, default=30.0)
    parser.add_argument("--upload-limit", type=int, default=0,
                        help="JIDU_UPLOAD_REQUEST_BYTES: send a little more, expect the app's 413")
    args = parser.parse_args()
    try:
        run(args)
    except Failed as failure:
        print(failure, file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError) as exc:
        print(f"FAIL {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
