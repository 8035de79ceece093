"""Every console and admin route, for every role: the right answer, never a 500.

Anonymous visitors are sent to the sign-in page; a role that may not open a
route gets 403; a clue out of scope is 404. The expected roles per route are
written here by hand, so a route added without thinking about access fails.
"""

from __future__ import annotations

import pyotp
import pytest

from app.context import intake_keys
from app.extensions import db
from app.models import Channel
from app.services import intake, people
from app.timeutil import utcnow
from tests.factories import anonymous_payload

ALL = {"admin", "reviewer", "supervisor", "liaison", "analyst"}
CLUE = {"reviewer", "supervisor", "liaison"}
TRIAGE = {"reviewer", "supervisor"}
ALLOWED = {
    "review.queue_page": CLUE, "review.export_csv": CLUE, "review.clue_page": CLUE,
    "review.export_xlsx": CLUE, "review.exports_page": CLUE, "review.download_export": CLUE,
    "review.manual_entry": TRIAGE, "review.triage": TRIAGE, "review.colour": TRIAGE,
    "review.accept": TRIAGE, "review.not_accept": TRIAGE, "review.assign": TRIAGE,
    "review.investigate": CLUE, "review.conclude": CLUE, "review.progress": CLUE,
    "review.feedback": TRIAGE, "review.close": TRIAGE, "review.reopen": {"supervisor"},
    "review.merge": TRIAGE, "review.consultation": TRIAGE, "review.question": TRIAGE,
    "review.open_dispute": TRIAGE, "review.settle_dispute": TRIAGE,
    "review.request_identity": TRIAGE, "review.decide_identity": {"supervisor"},
    "review.open_identity": TRIAGE, "review.download_attachment": CLUE,
    "review.cases_page": {"reviewer", "supervisor", "analyst"},
    "review.figures_page": {"supervisor", "analyst"},
    "review.scenarios_page": {"supervisor", "analyst"},
    "review.scenario_page": {"supervisor", "analyst"},
    "review.dashboard_page": {"supervisor", "analyst"},
    "review.dashboard_chart": {"supervisor", "analyst"},
    "review.reports_page": {"supervisor", "analyst"},
    "review.report_file": {"supervisor", "analyst"},
    "review.hotline_orders": TRIAGE, "review.hotline_order_page": TRIAGE,
    "review.hotline_screening": TRIAGE, "review.hotline_mark_disputed": TRIAGE,
    "review.hotline_settle": TRIAGE, "review.hotline_import_page": TRIAGE,
    "review.hotline_hard_types": TRIAGE,
    "review.warnings_page": {"reviewer", "supervisor", "analyst"},
    "review.warning_chart": {"reviewer", "supervisor", "analyst"},
    "review.warning_page": {"reviewer", "supervisor", "analyst"},
    "review.acknowledge_warning": TRIAGE,
    "admin.index": {"admin"}, "admin.users": {"admin"}, "admin.toggle_user": {"admin"},
    "admin.end_sessions": {"admin"}, "admin.reset_user": {"admin"},
    "admin.departments": {"admin"}, "admin.situations": {"admin"}, "admin.tags": {"admin"},
    "admin.campaigns_page": {"admin"},
    "admin.campaign_edit": {"admin"}, "admin.tokens": {"admin"}, "admin.revoke": {"admin"},
    "admin.audit_log": {"admin", "supervisor"},
    "admin.outbox_page": {"admin"}, "admin.outbox_retry": {"admin"},
}
OPEN = {"review.login", "review.logout"}


def console_rules(app):
    return [rule for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith(("review.", "admin."))]


def test_every_console_route_has_a_stated_rule(app):
    endpoints = {rule.endpoint for rule in console_rules(app)}
    assert endpoints == set(ALLOWED) | OPEN


def url_for_rule(rule, clue_id):
    values = {arg: clue_id if arg == "clue_id" else 1 for arg in rule.arguments}
    return rule.build(values)[1]


@pytest.mark.parametrize("role", sorted(ALL | {"anonymous"}))
def test_access_matrix(app, ready, role):
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        clue_id = intake.submit(db.session, anonymous_payload(), channel=Channel.WEB,
                                keys=intake_keys(), now=utcnow(), actor="reporter").clue_id
        client = app.test_client()
        if role != "anonymous":
            _user, secret = people.create_user(
                db.session, username=f"u-{role}", role=role, password="a long enough password",
                department="market" if role == "liaison" else None, actor="test")
            client.post("/review/login", data={"username": f"u-{role}",
                                               "password": "a long enough password",
                                               "otp": pyotp.TOTP(secret).now()})
        for rule in console_rules(app):
            if rule.endpoint in OPEN:
                continue
            url = url_for_rule(rule, clue_id)
            method = "GET" if "GET" in rule.methods else "POST"
            response = client.open(url, method=method)
            allowed = role in ALLOWED[rule.endpoint]
            where = f"{method} {url} as {role}"
            assert response.status_code < 500, where
            if role == "anonymous":
                assert response.status_code == 302, where
                assert "/review/login" in response.headers["Location"], where
            elif not allowed:
                assert response.status_code == 403, where
            elif role == "liaison" and "clue_id" in rule.arguments:
                # The clue is not assigned to the liaison's department.
                assert response.status_code == 404, where
            else:
                assert response.status_code in (200, 302, 404), where
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
