"""Accessibility: axe-core on every public page and the console, in Chromium.

axe-core (pinned in tests/browser/package.json, installed by ``npm ci
--prefix tests/browser``) is injected as an inline script, which Jidu's
Content-Security-Policy forbids: the pages are checked in a browser context
that bypasses the CSP, and ``test_the_csp_blocks_an_injected_script`` shows
that without the bypass the same injection does not run. No violation of
impact "serious" or "critical" is allowed; minor and moderate ones are
printed in the summary.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import current_app
from sqlalchemy import select

from app.context import intake_keys
from app.extensions import db
from app.models import Channel, EarlyWarning, HotlineOrder
from app.services import admin, hotline, keys, people, workflow
from app.services import intake as intake_service
from app.services import warnings as warning_service
from app.timeutil import LOCAL, utcnow
from tests.browser.test_console_flow import PASSWORD, sign_in
from tests.browser.test_report_flow import fill_report
from tests.conftest import skip_or_fail
from tests.factories import anonymous_payload, payload
from tests.warning_data import surge_sample

pytestmark = [pytest.mark.browser,
              pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


def axe_path() -> Path:
    if not AXE.exists():
        skip_or_fail("axe-core is not installed (npm ci --prefix tests/browser): "
                     "accessibility not checked")
    return AXE


class Audit:
    """axe-core run on page after page; the findings kept for one table at the end."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, list[dict[str, Any]]]] = []
        self.review: list[str] = []

    def run(self, page: Any, label: str) -> None:
        page.wait_for_load_state("load")
        page.add_script_tag(path=str(axe_path()))
        result = page.evaluate("""async () => {
            const r = await axe.run(document, {resultTypes: ['violations', 'incomplete']});
            return {violations: r.violations.map(v => ({id: v.id, impact: v.impact,
                        help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})),
                    review: r.incomplete.reduce((n, v) => n + v.nodes.length, 0)};
        }""")
        self.rows.append((label, result["violations"]))
        self.review.append(f"{result['review']} · {page.title()[:24]}")

    def report(self) -> list[str]:
        print(f"\n[axe] axe-core {self.version}: {len(self.rows)} pages")
        print(f"[axe] {'page':<30} {'serious+critical':>16}  {'other (rule: impact)':<24} "
              "for a person to check · title")
        blocking = []
        for (label, violations), review in zip(self.rows, self.review, strict=True):
            bad = [v for v in violations if v["impact"] in BLOCKING]
            other = ", ".join(f"{v['id']}: {v['impact']}" for v in violations
                              if v["impact"] not in BLOCKING) or "-"
            print(f"[axe] {label:<30} {len(bad):>16}  {other:<24} {review}")
            blocking += [f"{label}: {v['id']} ({v['impact']}) {v['help']} at {v['nodes']}"
                         for v in bad]
        return blocking

    @property
    def version(self) -> str:
        manifest = AXE.parent / "package.json"
        return str(json.loads(manifest.read_text())["version"]) if manifest.exists() else "?"


def seed() -> dict[str, Any]:
    """A clue in each state the console shows, a hotline order, a warning."""
    now = utcnow()
    reviewer, _ = people.create_user(db.session, username="seed-rv", role="reviewer",
                                     password=PASSWORD, actor="test")
    first = intake_service.submit(db.session, payload(), channel=Channel.WEB, keys=intake_keys(),
                                  now=now, actor="reporter")
    for _ in range(3):
        intake_service.submit(db.session, anonymous_payload(), channel=Channel.WEB,
                              keys=intake_keys(), now=now, actor="reporter")
    workflow.start_triage(db.session, first.clue_id, actor=reviewer, now=now)
    workflow.set_colour(db.session, first.clue_id, "orange", reason="金额较大", actor=reviewer,
                        now=now)
    workflow.accept(db.session, first.clue_id, actor=reviewer, now=now)
    workflow.assign(db.session, first.clue_id, department="market",
                    due_at=now + timedelta(days=3), reason="属地管辖", actor=reviewer, now=now)
    hotline.receive(db.session, {
        "order_no": "12345-20250501-0001", "received_at": "2025-05-01T09:30:00+08:00",
        "content": "市场监管局执法人员多次上门检查并罚款五千元", "district": "putuo",
        "hotline_category": "投诉", "caller": {"name": "林晓梅", "phone": "13857001234"},
        "disputed": True, "dispatched_to": "market"},
        public_key=keys.active_public_key(db.session),
        receipt_key=current_app.config["JIDU_RECEIPT_KEY"], now=now,
        actor="test")
    surge_sample(date(2025, 3, 19))
    warning_service.scan(db.session, now=datetime.combine(date(2025, 3, 20), time(15),
                                                          tzinfo=LOCAL))
    admin.add_source_tag(db.session, tag="putuo-hall", label="普陀区政务服务中心", actor="test",
                         now=now)
    return {"clue": first.clue_id,
            "order": db.session.scalar(select(HotlineOrder.id)),
            "warning": db.session.scalar(select(EarlyWarning.id))}


def test_public_pages_and_console_have_no_serious_violation(browser, live_server,
                                                            evidence_key):
    base = live_server
    # axe itself, on a page made to fail: an unnamed image and an unlabelled field.
    control = browser.new_context(bypass_csp=True)
    try:
        page = control.new_page()
        page.set_content('<html lang="en"><title>t</title><main><img src="a.png">'
                         "<input></main></html>")
        probe = Audit()
        probe.run(page, "control")
        assert {"image-alt", "label"} <= {v["id"] for v in probe.rows[0][1]}
    finally:
        control.close()
    seeded = seed()
    _sup, sup_secret = people.create_user(db.session, username="sup", role="supervisor",
                                          password=PASSWORD, actor="test")
    _adm, adm_secret = people.create_user(db.session, username="adm", role="admin",
                                          password=PASSWORD, actor="test")
    audit = Audit()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                  bypass_csp=True)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                is_mobile=True, has_touch=True, bypass_csp=True)
    try:
        page = phone.new_page()
        page.set_default_timeout(10_000)
        for path, label in (("/", "/"), ("/report", "/report"), ("/q/putuo-hall", "/q/<tag>"),
                            ("/status", "/status"), ("/poster", "/poster"),
                            ("/no-such-page", "404 page"), ("/report?lang=en", "/report (en)")):
            page.goto(base + path)
            audit.run(page, f"{label} (phone)")
        page.goto(base + "/report?lang=zh_CN")
        page.get_by_role("button", name="提交").click()
        audit.run(page, "/report with errors (phone)")
        page.goto(base + "/report")
        fill_report(page, real_name=True)
        page.get_by_role("button", name="提交").click()
        page.wait_for_url(re.compile(r"/report/done$"))
        receipt = page.locator("#receipt-code").inner_text().strip()
        audit.run(page, "/report/done (phone)")
        page.goto(base + "/status")
        page.get_by_label("回执码").fill(receipt)
        page.get_by_role("button", name="查询").click()
        audit.run(page, "/status result (phone)")

        desk = context.new_page()
        desk.set_default_timeout(20_000)
        desk.goto(base + "/review/login")
        audit.run(desk, "/review/login")
        sign_in(desk, base, "sup", sup_secret)
        desk.wait_for_url(re.compile(r"/review/$"))
        for path in ("/review/", f"/review/clues/{seeded['clue']}", "/review/dashboard",
                     "/review/figures", "/review/reports", "/review/warnings",
                     f"/review/warnings/{seeded['warning']}", "/review/cases",
                     "/review/scenarios", "/review/hotline", f"/review/hotline/{seeded['order']}",
                     "/review/hotline/import", "/review/exports", "/review/clues/new"):
            desk.goto(base + path)
            audit.run(desk, path)
        desk.goto(base + "/review/?lang=en")
        audit.run(desk, "/review/ (en)")
        desk.goto(base + "/review/?lang=zh_CN")
        admin_context = browser.new_context(viewport={"width": 1280, "height": 900},
                                            locale="zh-CN", bypass_csp=True)
        console = admin_context.new_page()
        console.set_default_timeout(10_000)
        sign_in(console, base, "adm", adm_secret)
        console.wait_for_load_state("load")
        for path in ("/admin/", "/admin/users", "/admin/departments", "/admin/situations",
                     "/admin/tags", "/admin/campaigns", "/admin/tokens", "/admin/audit",
                     "/admin/outbox"):
            console.goto(base + path)
            audit.run(console, path)
        admin_context.close()
    finally:
        context.close()
        phone.close()
    blocking = audit.report()
    assert blocking == [], "\n".join(blocking)


def test_the_csp_blocks_an_injected_script(browser, live_server):
    """Without the bypass, Jidu's CSP stops the very injection the audit above relies on."""
    normal = browser.new_context(locale="zh-CN")
    bypass = browser.new_context(locale="zh-CN", bypass_csp=True)
    reports: list[str] = []
    try:
        page = normal.new_page()
        page.on("console", lambda m: reports.append(m.text)
                if "Content Security Policy" in m.text else None)
        response = page.goto(live_server + "/report")
        assert "script-src 'self'" in response.headers["content-security-policy"]
        from playwright.sync_api import Error as PlaywrightError

        for script in ({"content": "window.__injected = 1"}, {"path": str(axe_path())}):
            with pytest.raises(PlaywrightError, match="violates the following Content Security"):
                page.add_script_tag(**script)
        blocked = page.evaluate("[window.__injected, typeof window.axe]")
        assert blocked == [None, "undefined"]
        assert len(reports) >= 2, reports

        control = bypass.new_page()
        control.goto(live_server + "/report")
        control.add_script_tag(content="window.__injected = 1")
        control.add_script_tag(path=str(axe_path()))
        assert control.evaluate("[window.__injected, typeof window.axe]") == [1, "object"]
    finally:
        normal.close()
        bypass.close()
    print(f"\n[csp] held: an inline script and axe-core injected into /report did not run "
          f"({len(reports)} CSP reports: {reports[0][:90]}…); with bypass_csp both ran")
