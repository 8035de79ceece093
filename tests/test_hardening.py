"""Web hardening, route by route: headers, no inline code, cookies, sessions, limits, errors.

Walks every public route and every console GET route (signed in with each
role that opens some), and prints what it tried and what held.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pyotp
import pytest
from flask_limiter.util import get_qualified_name

from app import create_app, schema
from app.context import intake_keys
from app.extensions import db, limiter
from app.models import AuditEvent, Channel
from app.services import intake, people
from app.timeutil import utcnow
from config import BASE_DIR, ProductionConfig
from tests.factories import anonymous_payload

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'; object-src 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
           "Permissions-Policy": "camera=(), microphone=(), geolocation=()"}
# Matplotlib's SVG charts style their shapes inline; as images they run nothing.
OWN_CSP = {"review.dashboard_chart": "default-src 'none'; style-src 'unsafe-inline'"}
HSTS = "max-age=31536000; includeSubDomains"
PASSWORD = "a long enough password"
ROLES = ("admin", "reviewer", "supervisor", "analyst", "liaison")
PUBLIC_GETS = ["/", "/report", "/q/hall-putuo", "/q/unknown-tag", "/status", "/report/done",
               "/poster", "/poster?tag=hall-putuo", "/qr.png", "/qr.svg?tag=x", "/healthz",
               "/review/login", "/report?lang=en", "/api/v1/openapi.json",
               "/api/v1/campaigns/current", "/static/css/jidu.css", "/static/js/report.js"]
# Leaks an error page must never show: traces, paths, versions, the fault.
LEAKS = re.compile(r"Traceback|File \"|/work/|site-packages|\.py\b|Werkzeug|werkzeug|Flask|"
                   r"Python|SQLAlchemy|psycopg|Jinja|0\.1\.0|deliberate fault", re.IGNORECASE)


class InlineCode(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and "src" not in names:
            self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("<style> element")
        if "style" in names:
            self.problems.append(f"style= on <{tag}>")
        self.problems += [f"{name}= on <{tag}>" for name in names if name.startswith("on")]
        self.problems += [f"javascript: URL on <{tag}>" for value in names.values()
                          if (value or "").strip().lower().startswith("javascript:")]


def check_response(response, where: str, endpoint: str | None = None) -> None:
    expected = dict(HEADERS)
    if endpoint in OWN_CSP and response.status_code == 200:
        expected["Content-Security-Policy"] = OWN_CSP[endpoint]
    for name, value in expected.items():
        assert response.headers.get(name) == value, f"{where}: {name}"
    assert "Strict-Transport-Security" not in response.headers, f"{where}: HSTS over http"
    if response.mimetype == "text/html":
        parser = InlineCode()
        parser.feed(response.get_data(as_text=True))
        assert parser.problems == [], f"{where}: {parser.problems}"


def sign_in(app, client, role: str):
    _user, secret = people.create_user(db.session, username=f"h-{role}", role=role,
                                       password=PASSWORD, actor="test",
                                       department="market" if role == "liaison" else None)
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        response = client.post("/review/login", data={"username": f"h-{role}",
                                                      "password": PASSWORD,
                                                      "otp": pyotp.TOTP(secret).now()})
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    assert response.status_code == 302, role
    return secret


def test_every_page_sends_the_exact_headers_and_no_inline_code(app, ready):
    clue_id = intake.submit(db.session, anonymous_payload(), channel=Channel.WEB,
                            keys=intake_keys(), now=utcnow(), actor="reporter").clue_id
    checked = 0
    for url in PUBLIC_GETS:
        check_response(app.test_client().get(url), f"GET {url}")
        checked += 1
    console = [rule for rule in app.url_map.iter_rules()
               if rule.rule.startswith(("/review/", "/admin/")) and "GET" in rule.methods]
    statuses: dict[int, int] = {}
    for role in ROLES:
        client = app.test_client()
        sign_in(app, client, role)
        for rule in console:
            values = {arg: clue_id if arg == "clue_id" else
                      ("daily" if arg == "name" else 1) for arg in rule.arguments}
            url = rule.build(values)[1]
            response = client.get(url)
            assert response.status_code < 500, f"GET {url} as {role}"
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            check_response(response, f"GET {url} as {role}", rule.endpoint)
            checked += 1
    print(f"\n[hardening] {checked} responses ({len(PUBLIC_GETS)} public, "
          f"{len(console)} console routes × {len(ROLES)} roles, statuses {statuses}): "
          "headers exact, no inline script or style, no HSTS over http")


def test_hsts_only_over_https(client, app):
    secure = client.get("/", base_url="https://jidu.example.gov.cn")
    assert secure.headers["Strict-Transport-Security"] == HSTS
    assert "Strict-Transport-Security" not in client.get("/").headers
    print("\n[hardening] HSTS sent over https only:", HSTS)


def test_no_template_holds_inline_script_style_or_handlers():
    """The source as well as the pages: templates no test renders are caught too."""
    pattern = re.compile(r"<style|\sstyle\s*=|<script(?![^>]*\ssrc=)|\son[a-z]+\s*=|javascript:",
                         re.IGNORECASE)
    # A report is a file that is downloaded and printed offline: its style travels
    # inside it. It is served as an attachment, never rendered as a page of the site.
    standalone = {"reports/report.html"}
    templates = BASE_DIR / "templates"
    found, scanned = [], 0
    for path in sorted(templates.rglob("*.html")):
        name = path.relative_to(templates).as_posix()
        if name in standalone:
            continue
        scanned += 1
        found += [f"{name}: {m.group(0)!r}" for m in pattern.finditer(path.read_text("utf-8"))]
    assert found == []
    print(f"\n[hardening] {scanned} templates grepped (except {sorted(standalone)}): clean")


@pytest.fixture
def production_app(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "p" * 40)
    monkeypatch.setenv("JIDU_RECEIPT_KEY", "r" * 40)
    monkeypatch.setenv("JIDU_BASE_URL", "https://jidu.example.gov.cn")

    class Production(ProductionConfig):
        SECRET_KEY = "p" * 40
        JIDU_RECEIPT_KEY = "r" * 40
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'prod.sqlite3'}"
        SQLALCHEMY_ENGINE_OPTIONS: dict[str, object] = {}
        INSTANCE_DIR = tmp_path / "instance"
        JIDU_DATA_DIR = tmp_path / "data"
        RATELIMIT_STORAGE_URI = "memory://"

    app = create_app(Production)
    with app.app_context():
        schema.rebuild(db.engine)
    yield app
    with app.app_context():
        db.engine.dispose()


def test_production_cookies_are_secure_httponly_samesite(production_app):
    assert not production_app.debug
    assert not production_app.testing
    client = production_app.test_client()
    response = client.get("/status?lang=en", base_url="https://jidu.example.gov.cn")
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    assert {"session", "lang"} <= set(cookies)
    for name, cookie in cookies.items():
        flags = {part.strip().split("=")[0].lower(): part for part in cookie.split(";")[1:]}
        assert {"secure", "httponly", "samesite"} <= set(flags), name
        assert flags["samesite"].strip() == "SameSite=Lax", name
    print("\n[hardening] production cookies:", "; ".join(sorted(cookies)),
          "— Secure, HttpOnly, SameSite=Lax")


def _session(app, client) -> dict:
    cookie = client.get_cookie("session")
    return app.session_interface.get_signing_serializer(app).loads(cookie.value)


def test_login_renews_the_session_and_logout_ends_every_copy(app, ready):
    client = app.test_client()
    client.get("/status")  # a visitor's session before signing in
    before = client.get_cookie("session").value
    assert "rl" in _session(app, client)
    sign_in(app, client, "reviewer")
    after = client.get_cookie("session").value
    assert after != before
    assert "rl" not in _session(app, client), "nothing from before sign-in carries over"
    thief = app.test_client()
    thief.set_cookie("session", after)
    assert thief.get("/review/").status_code == 200
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        client.post("/review/logout")
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    replay = thief.get("/review/")
    assert replay.status_code == 302
    assert "/review/login" in replay.headers["Location"]
    assert db.session.query(AuditEvent).filter_by(action="auth.signed_out").count() == 1
    print("\n[hardening] session cookie changed at sign-in, pre-login data dropped; "
          "a copied cookie is refused after sign-out")


def test_every_public_post_and_every_token_route_is_rate_limited(app):
    """Structural: a public POST or token route added without a limit fails here."""
    limited = limiter._marked_for_limiting
    routes = [rule for rule in app.url_map.iter_rules()
              if ("POST" in rule.methods and not rule.rule.startswith(("/review/", "/admin/")))
              or rule.rule.startswith("/open311/") or rule.endpoint.startswith("api.hotline")
              or rule.rule == "/review/login"]
    missing = [rule.rule for rule in routes
               if get_qualified_name(app.view_functions[rule.endpoint]) not in limited]
    assert missing == []
    print(f"\n[hardening] {len(routes)} public POST and token routes, each with a limit:",
          ", ".join(sorted(rule.rule for rule in routes)))


def test_request_size_limits(app, client):
    assert app.config["MAX_CONTENT_LENGTH"] == 256 * 1024
    assert app.config["MAX_FORM_MEMORY_SIZE"] == 256 * 1024
    big = "x" * (300 * 1024)
    api = client.post("/api/v1/receipts/lookup", json={"receipt": big})
    assert api.status_code == 413
    assert api.get_json()["error"]["code"] == "too_large"
    page = client.post("/status", data={"receipt": big})
    assert page.status_code == 413
    assert "过大" in page.get_data(as_text=True)
    login = client.post("/review/login", data={"username": big})
    assert login.status_code == 413
    for response in (api, page, login):
        check_response(response, "413")
    print("\n[hardening] 300 KiB to the API, the status page and sign-in: 413 each "
          "(limit 256 KiB; uploads have their own)")


def test_error_pages_reveal_nothing(app, client, monkeypatch):
    from app.services import campaigns

    def fault(*_args, **_kwargs):
        raise RuntimeError(f"deliberate fault in {Path(__file__)}")

    answers = {
        "404 page": client.get("/no-such-page"),
        "404 api": client.get("/api/v1/no-such-thing"),
        "405 page": client.put("/report"),
        "405 api": client.get("/api/v1/clues"),
        "413 api": client.post("/api/v1/receipts/lookup", data=b"x" * (300 * 1024),
                               content_type="application/json"),
        "400 csrf": client.post("/review/login", data={"username": "x"}),
    }
    monkeypatch.setattr(campaigns, "current_campaign", fault)
    answers["500 page"] = client.get("/")
    answers["500 api"] = client.get("/api/v1/campaigns/current")
    for label, response in answers.items():
        assert response.status_code == int(label[:3]), label
        body = response.get_data(as_text=True)
        assert not LEAKS.search(body), f"{label}: {LEAKS.search(body).group(0)!r}"
        check_response(response, label)
    assert answers["500 api"].get_json() == {"error": {"code": "internal",
                                                       "message": "internal error"}}
    print("\n[hardening] error answers without trace, path, version or fault text:",
          ", ".join(answers))


LIMITED = [  # (method, url, the setting that limits it, what is sent)
    ("POST", "/report", "JIDU_LIMIT_SUBMIT_SESSION", {"data": {"agency": "x"}}),
    ("POST", "/q/hall-putuo", "JIDU_LIMIT_SUBMIT_ADDRESS", {"data": {"agency": "x"}}),
    ("POST", "/status", "JIDU_LIMIT_LOOKUP_SESSION", {"data": {"receipt": "A"}}),
    ("POST", "/status/reply", "JIDU_LIMIT_SUBMIT_SESSION", {"data": {"reply": "x"}}),
    ("POST", "/status/rate", "JIDU_LIMIT_SUBMIT_SESSION", {"data": {"rating": "satisfied"}}),
    ("POST", "/api/v1/receipts/lookup", "JIDU_LIMIT_LOOKUP_ADDRESS", {"json": {"receipt": "A"}}),
    ("POST", "/api/v1/clues", "JIDU_LIMIT_API_TOKEN", {"json": {}, "token": True}),
    ("POST", "/api/v1/hotline/orders", "JIDU_LIMIT_API_TOKEN", {"json": {}, "token": True}),
    ("GET", "/api/v1/hotline/orders/A1", "JIDU_LIMIT_API_TOKEN", {"token": True}),
    ("POST", "/api/v1/hotline/orders/A1/callback", "JIDU_LIMIT_API_TOKEN",
     {"json": {}, "token": True}),
    ("GET", "/open311/v2/services.json", "JIDU_LIMIT_API_TOKEN", {"token": True}),
    ("GET", "/open311/v2/requests.json", "JIDU_LIMIT_API_TOKEN", {"token": True}),
    ("GET", "/api/v1/hotline/orders/A1", "JIDU_LIMIT_API_TOKEN_FAILURES", {"wrong": True}),
    ("GET", "/open311/v2/services.json", "JIDU_LIMIT_API_TOKEN_FAILURES", {"wrong": True}),
]


@pytest.mark.parametrize(("method", "url", "setting", "sent"), LIMITED,
                         ids=[f"{m} {u} {s}" for m, u, s, _x in LIMITED])
def test_a_429_after_the_limit(app, ready, hotline_token, monkeypatch, method, url, setting,
                               sent):
    monkeypatch.setitem(app.config, setting, "3 per minute")
    # Without CSRF checks: a POST without a token is refused before any limit counts.
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    client = app.test_client()
    client.get("/status")  # a session, as a browser has
    headers = {}
    if sent.get("token"):
        headers["Authorization"] = f"Bearer {hotline_token}"
    elif sent.get("wrong"):
        headers["Authorization"] = "Bearer jidu_wrong"
    kwargs = {k: v for k, v in sent.items() if k in ("data", "json")}
    statuses = [client.open(url, method=method, headers=headers, **kwargs).status_code
                for _ in range(4)]
    assert 429 not in statuses[:3], statuses
    assert statuses[3] == 429, statuses
    print(f"\n[hardening] {method} {url} at {setting}=3 per minute: {statuses}")


def test_sign_in_is_limited_per_address(app):
    client = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        statuses = [client.post("/review/login", data={
            "username": f"nobody{i}", "password": "x" * 12, "otp": "000000"}).status_code
            for i in range(21)]
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    assert statuses[:20] == [200] * 20
    assert statuses[20] == 429
    print("\n[hardening] 21 sign-ins with different names from one address: 20 answered, "
          "the 21st 429")
