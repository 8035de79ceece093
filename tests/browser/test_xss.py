"""Stored XSS: script in every free-text field, through every door, is only text in Chromium.

Payloads go in through the public form (typed in the browser, with a file
whose name is a payload), the API, the hotline API, an admin's token name
and campaign title, and the console's own notes (colour reason, assignment
reason, progress, 会商, question to the reporter and the reply, conclusion,
feedback, dispute basis, disclosure reason, warning note). Then the pages
that show them are opened: every public page, the queue (and a search for a
payload), each clue, the identity shown after disclosure, the hotline list
and order, a warning, the admin's token list and audit log. On each: no
dialog opened, ``window.__xss`` never set, no inline script, event-handler
attribute or ``javascript:`` link in the DOM, no CSP violation reported, no
page error, and the payload is on the page as text.
"""

from __future__ import annotations

import json
import re
import urllib.request
from datetime import date, datetime, time, timedelta
from typing import Any

import pyotp
import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import Campaign, Clue, DisclosureRequest, HotlineOrder
from app.services import disclosure, disputes, people, warnings, workflow
from app.timeutil import LOCAL, utcnow
from tests.browser.test_console_flow import PASSWORD
from tests.conftest import PASSPHRASE
from tests.evidence_files import jpeg_with_gps
from tests.factories import CREDIT_CODE, NO_EXCLUSIONS
from tests.warning_data import AGENCY, surge_sample

pytestmark = [pytest.mark.browser,
              pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]

SCRIPT = "<script>window.__xss=1</script>"
IMG = '"><img src=x onerror="window.__xss=1;alert(1)">'
JS_URL = "javascript:window.__xss=1"
SVG = '<svg onload="window.__xss=1;alert(1)">'
TEMPLATE = "{{7*7}}${7*7}"
PAYLOAD = " ".join([SCRIPT, IMG, JS_URL, SVG, TEMPLATE])
SHORT = "<img src=x onerror=window.__xss=1>"  # fits a 50-character name


def tagged(field: str) -> str:
    return f"{field}:{PAYLOAD}"


DOM_CHECK = """() => {
  const all = [...document.querySelectorAll('*')];
  const url = e => ['href', 'src', 'action', 'formaction']
      .map(a => e.getAttribute(a) || '').join(' ');
  return {
    xss: window.__xss === undefined ? 0 : 1,
    inline_scripts: [...document.scripts].filter(s => !s.src).length,
    handlers: all.filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
    javascript_urls: all.filter(e => /(^|\\s)javascript:/i.test(url(e))).length,
    svg: document.querySelectorAll('body svg').length,
    iframes: document.querySelectorAll('iframe, object, embed').length,
  };
}"""
CLEAN = {"xss": 0, "inline_scripts": 0, "handlers": 0, "javascript_urls": 0, "svg": 0,
         "iframes": 0}


class Watch:
    """Dialogs, CSP reports and page errors of one browser context."""

    def __init__(self, context: Any) -> None:
        self.dialogs: list[str] = []
        self.csp: list[str] = []
        self.errors: list[str] = []
        self.pages: list[tuple[str, int]] = []
        context.on("page", self.attach)

    def attach(self, page: Any) -> None:
        page.set_default_timeout(10_000)
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("console", lambda m: self.csp.append(m.text)
                if "Content Security Policy" in m.text else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def check(self, page: Any, label: str, *fields: str) -> None:
        page.wait_for_load_state("load")
        found = page.evaluate(DOM_CHECK)
        assert found == CLEAN, (label, found)
        text = page.locator("body").inner_text()
        for field in fields:
            assert f"{field}:{SCRIPT}" in text, (label, field)
        assert "{{7*7}}" in text or not fields, label
        self.pages.append((label, len(fields)))


def api_post(base: str, path: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 (the loopback live server)
        base + path, data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:  # noqa: S310
        assert response.status == 201
        return dict(json.loads(response.read()))


def submit_form(page: Any, base: str) -> str:
    page.goto(f"{base}/report")
    for code in ("discipline", "petition", "reconsideration", "litigation"):
        page.check(f"#ex_{code}-0")
    page.get_by_label("乱罚款").check()
    page.get_by_label("被反映的执法单位").fill(tagged("agency"))
    page.get_by_label("发生地区").select_option("putuo")
    page.get_by_label("发生了什么").fill(tagged("description"))
    page.get_by_label("实名反映（提倡）").check()
    page.get_by_label("姓名").fill(SHORT)
    page.get_by_label("手机号码").fill("13857001234")
    page.get_by_label("企业名称（可不填）").fill(tagged("company"))
    page.locator("input[type=file]").set_input_files(
        [{"name": f"{SHORT}.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_gps((64, 48))}])
    page.locator("#pledge").check()
    page.get_by_role("button", name="提交").click()
    page.wait_for_url(re.compile(r"/report/done$"))
    return str(page.locator("#receipt-code").inner_text().strip())


def sign_in(context: Any, base: str, name: str, secret: str) -> Any:
    page = context.new_page()
    page.goto(f"{base}/review/login")
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("动态验证码（6位）").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state("load")
    return page


def console_notes(clue_id: int, reviewer: Any, supervisor: Any) -> int:
    """Every note a reviewer writes on a clue, each a payload; returns a disclosure request."""
    now = utcnow()
    workflow.start_triage(db.session, clue_id, actor=reviewer, now=now)
    workflow.set_colour(db.session, clue_id, "red", reason=tagged("colour"), actor=reviewer,
                        now=now)
    workflow.accept(db.session, clue_id, actor=reviewer, now=now)
    workflow.assign(db.session, clue_id, department="market", due_at=now + timedelta(days=3),
                    reason=tagged("assign"), actor=reviewer, now=now)
    workflow.start_investigation(db.session, clue_id, actor=reviewer, now=now,
                                 note=tagged("investigate"))
    workflow.add_progress(db.session, clue_id, note=tagged("progress"), actor=reviewer, now=now)
    workflow.add_consultation(db.session, clue_id, participants=tagged("participants"),
                              note=tagged("consultation"), actor=reviewer, now=now)
    workflow.ask_reporter(db.session, clue_id, question=tagged("question"), actor=reviewer,
                          now=now)
    workflow.reporter_reply(db.session, clue_id, text=tagged("reply"), now=now)
    workflow.conclude(db.session, clue_id, outcome="substantiated", summary=tagged("summary"),
                      actor=reviewer, now=now)
    workflow.give_feedback(db.session, clue_id, message=tagged("feedback"), actor=reviewer,
                           now=now)
    asked = disclosure.request(db.session, clue_id, user=reviewer, reason=tagged("reason"),
                               now=now)
    disclosure.decide(db.session, asked.id, supervisor=supervisor, approve=True, now=now)
    return asked.id


def test_payloads_in_every_field_render_inert(browser, live_server, evidence_key, app_token,
                                              hotline_token):
    base = live_server
    db.session.execute(update(Campaign).values(title=tagged("campaign")))
    token_name = people.create_token(db.session, channel="app", name=SHORT, actor="test")
    db.session.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    watch = Watch(context)
    try:
        # The public side, typed in the browser.
        page = context.new_page()
        page.goto(base + "/")
        watch.check(page, "/ (campaign title)", "campaign")
        receipt = submit_form(page, base)
        watch.check(page, "/report/done (file name)")
        assert f"{SHORT}.jpg" in page.locator("body").inner_text()
        form_clue = db.session.scalar(select(Clue).where(Clue.agency == tagged("agency")))

        # The API and the hotline API.
        api = api_post(base, "/api/v1/clues", token_name, {
            "category": "fees", "agency": tagged("api-agency"), "district": "putuo",
            "description": tagged("api-description"), "real_name": True,
            "identity": {"name": SHORT, "phone": "13857001234",
                         "company": tagged("api-company"), "credit_code": CREDIT_CODE},
            "exclusions": NO_EXCLUSIONS, "pledge": True, "source_tag": SHORT})
        api_clue = db.session.scalar(select(Clue).where(Clue.tracking_no == api["tracking_no"]))
        api_post(base, "/api/v1/hotline/orders", hotline_token, {
            "order_no": "12345-20250501-0001", "received_at": "2025-05-01T09:30:00+08:00",
            "content": "市场监管局执法人员多次上门检查并罚款。" + tagged("content"),
            "district": "putuo", "hotline_category": tagged("hotline-category")[:100],
            "caller": {"name": SHORT, "phone": "13857001234"}})
        order = db.session.scalar(select(HotlineOrder))

        # The console's notes, a dispute's basis, a warning's note.
        reviewer, rv_secret = people.create_user(db.session, username="rv", role="reviewer",
                                                 password=PASSWORD, actor="test")
        supervisor, sup_secret = people.create_user(db.session, username="sup",
                                                    role="supervisor", password=PASSWORD,
                                                    actor="test")
        _admin, admin_secret = people.create_user(db.session, username="adm", role="admin",
                                                  password=PASSWORD, actor="test")
        request_id = console_notes(form_clue.id, reviewer, supervisor)
        dispute = disputes.open_for_clue(db.session, api_clue.id, departments=["market", "urban"],
                                         actor="test", now=utcnow())
        disputes.settle(db.session, dispute.id, department="market",
                        legal_basis=tagged("legal-basis"), actor="test", now=utcnow())
        surge_sample(date(2025, 3, 19))
        db.session.execute(update(Clue).where(Clue.agency == AGENCY)
                           .values(agency=tagged("warning-agency")[:200]))
        db.session.commit()
        found = warnings.scan(db.session, now=datetime.combine(date(2025, 3, 20), time(15),
                                                                tzinfo=LOCAL))
        warning = next(w for w in found.new if w.dimension == "agency")
        warnings.acknowledge(db.session, warning.id, user=supervisor, note=tagged("ack"),
                             now=utcnow())

        # The reporter reads the question and the feedback.
        page.goto(f"{base}/status")
        page.get_by_label("回执码").fill(receipt)
        page.get_by_role("button", name="查询").click()
        watch.check(page, "/status (question, feedback)", "question", "feedback")

        sup = sign_in(context, base, "sup", sup_secret)
        watch.check(sup, "/review/ (queue)", "agency", "api-agency")
        sup.goto(f"{base}/review/?q=" + urllib.request.quote(PAYLOAD))
        watch.check(sup, "/review/?q=payload (search)")
        assert sup.locator("input[name=q]").input_value() == PAYLOAD
        sup.goto(f"{base}/review/clues/{form_clue.id}")
        watch.check(sup, "clue (form)", "agency", "description", "colour", "assign",
                    "investigate", "progress", "participants", "consultation", "question",
                    "reply", "summary", "feedback", "reason")
        sup.goto(f"{base}/review/clues/{api_clue.id}")
        watch.check(sup, "clue (API, dispute)", "api-agency", "api-description",
                    "legal-basis")
        assert f"api:{SHORT}" in sup.locator("body").inner_text()
        sup.goto(f"{base}/review/hotline")
        watch.check(sup, "/review/hotline")
        sup.goto(f"{base}/review/hotline/{order.id}")
        watch.check(sup, "hotline order", "content", "hotline-category")
        if order.clue_id:
            sup.goto(f"{base}/review/clues/{order.clue_id}")
            watch.check(sup, "clue (hotline)", "content")
        sup.goto(f"{base}/review/warnings/{warning.id}")
        watch.check(sup, "warning", "ack")
        assert tagged("warning-agency")[:40] in sup.locator("body").inner_text()

        # The requester opens the identity with the passphrase: name and company as text.
        rv = sign_in(context, base, "rv", rv_secret)
        rv.goto(f"{base}/review/clues/{form_clue.id}")
        rv.locator(f"form[action$='/identity/{request_id}/open'] input[type=password]").fill(
            PASSPHRASE)
        rv.get_by_role("button", name="查看身份", exact=True).click()
        rv.wait_for_load_state("load")
        watch.check(rv, "identity disclosed", "company")
        assert SHORT in rv.locator("body").inner_text()

        admin = sign_in(context, base, "adm", admin_secret)
        admin.goto(f"{base}/admin/tokens")
        watch.check(admin, "/admin/tokens (token name)")
        assert SHORT in admin.locator("body").inner_text()
        admin.goto(f"{base}/admin/audit")
        watch.check(admin, "/admin/audit")
    finally:
        context.close()
    assert db.session.scalar(select(DisclosureRequest.used_at)) is not None
    assert watch.dialogs == []
    assert watch.csp == []
    assert watch.errors == []
    print(f"\n[xss] payloads: {PAYLOAD!r} and {SHORT!r}")
    print("[xss] in: form (agency, description, name, company, file name), API (agency, "
          "description, identity name and company, source tag, token name), hotline API "
          "(content, category, caller), campaign title, 12 console notes, dispute basis, "
          "disclosure reason, warning agency and note")
    for label, n in watch.pages:
        print(f"[xss] held: {label}: inert; {n} payload fields shown as text")
    print(f"[xss] held: {len(watch.pages)} pages, 0 dialogs, 0 CSP reports, 0 page errors, "
          f"window.__xss never set")
