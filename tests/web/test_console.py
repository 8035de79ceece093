"""The console door: sign-in, role boundaries on every route, the workflow by form."""

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from app.context import intake_keys
from app.extensions import db
from app.models import AuditEvent, Channel, Clue, User
from app.services import intake, people
from app.timeutil import local_today, utcnow
from tests.factories import anonymous_payload

PASSWORD = "a long enough password"


def make_user(name, role, department=None):
    user, secret = people.create_user(db.session, username=name, role=role, password=PASSWORD,
                                      department=department, actor="test")
    return user, secret


def sign_in(client, name, secret):
    client.application.config["WTF_CSRF_ENABLED"] = False
    return client.post("/review/login", data={"username": name, "password": PASSWORD,
                                              "otp": pyotp.TOTP(secret).now()})


@pytest.fixture
def csrf_off(app):
    app.config["WTF_CSRF_ENABLED"] = False
    yield
    app.config["WTF_CSRF_ENABLED"] = True


@pytest.fixture
def clue_id(ready):
    return intake.submit(db.session, anonymous_payload(), channel=Channel.WEB,
                         keys=intake_keys(), now=utcnow(), actor="reporter").clue_id


def test_anonymous_visitor_is_sent_to_login(client, app):
    response = client.get("/review/")
    assert response.status_code == 302
    assert "/review/login" in response.headers["Location"]


def test_login_with_csrf_and_totp(client, app):
    _user, secret = make_user("wang", "reviewer")
    page = client.get("/review/login")
    token = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1]
    token = token.split('"')[0]
    response = client.post("/review/login", data={
        "csrf_token": token, "username": "wang", "password": PASSWORD,
        "otp": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    assert client.get("/review/").status_code == 200


def test_wrong_code_and_lockout_message(client, app, csrf_off):
    make_user("wang", "reviewer")
    for _ in range(4):
        response = client.post("/review/login", data={"username": "wang", "password": PASSWORD,
                                                      "otp": "000000"})
        assert "不正确" in response.get_data(as_text=True)
    locked = client.post("/review/login", data={"username": "wang", "password": PASSWORD,
                                                "otp": "000000"})
    assert locked.status_code == 429
    assert "锁定" in locked.get_data(as_text=True)


@pytest.mark.parametrize(("role", "status"), [("reviewer", 200), ("supervisor", 200),
                                              ("liaison", 200), ("admin", 403), ("analyst", 403)])
def test_queue_role_boundaries(client, app, role, status):
    _user, secret = make_user("u1", role, "market" if role == "liaison" else None)
    sign_in(client, "u1", secret)
    assert client.get("/review/").status_code == status


def test_liaison_sees_only_their_department(client, clue_id, csrf_off):
    clue = db.session.get(Clue, clue_id)
    clue.handling_department_code = "tourism"
    db.session.commit()
    _user, secret = make_user("li", "liaison", "market")
    sign_in(client, "li", secret)
    assert client.get(f"/review/clues/{clue_id}").status_code == 404
    assert clue.tracking_no not in client.get("/review/").get_data(as_text=True)
    assert client.post(f"/review/clues/{clue_id}/conclude").status_code == 404
    clue.handling_department_code = "market"
    db.session.commit()
    assert client.get(f"/review/clues/{clue_id}").status_code == 200


@pytest.mark.parametrize("action", ["triage", "colour", "accept", "not-accept", "assign",
                                    "feedback", "close", "merge", "reopen"])
def test_liaison_cannot_triage(client, clue_id, action):
    clue = db.session.get(Clue, clue_id)
    clue.handling_department_code = "market"
    db.session.commit()
    _user, secret = make_user("li", "liaison", "market")
    sign_in(client, "li", secret)
    assert client.post(f"/review/clues/{clue_id}/{action}").status_code == 403


def test_reviewer_cannot_reopen(client, clue_id):
    _user, secret = make_user("rv", "reviewer")
    sign_in(client, "rv", secret)
    assert client.post(f"/review/clues/{clue_id}/reopen").status_code == 403


def test_unknown_clue_is_404(client, app):
    _user, secret = make_user("rv", "reviewer")
    sign_in(client, "rv", secret)
    assert client.get("/review/clues/999999").status_code == 404


def test_whole_workflow_through_the_console(client, clue_id, csrf_off):
    _user, secret = make_user("rv", "reviewer")
    sign_in(client, "rv", secret)
    due = (local_today() + timedelta(days=3)).isoformat()
    steps = [("triage", {}), ("colour", {"colour": "red", "reason": "涉旅高峰"}),
             ("accept", {}), ("assign", {"department": "tourism", "due_on": due, "reason": ""}),
             ("investigate", {}),
             ("conclude", {"outcome": "substantiated", "summary": "属实，已责令整改",
                           "recovered_yuan": "1200.50"}),
             ("feedback", {"message": "经核查属实，已责令整改。"}), ("close", {})]
    for action, data in steps:
        response = client.post(f"/review/clues/{clue_id}/{action}", data=data,
                               follow_redirects=True)
        assert response.status_code == 200
        assert "已保存" in response.get_data(as_text=True), action
    clue = db.session.get(Clue, clue_id)
    db.session.refresh(clue)
    assert (clue.status, clue.colour, clue.handling_department_code, clue.recovered_fen) == (
        "closed", "red", "tourism", 120050)
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"clue.triage_started", "clue.colour_set", "clue.closed", "auth.signed_in"} <= actions


def test_illegal_action_is_refused_with_a_message(client, clue_id, csrf_off):
    _user, secret = make_user("rv", "reviewer")
    sign_in(client, "rv", secret)
    response = client.post(f"/review/clues/{clue_id}/close", follow_redirects=True)
    assert "不能进行此操作" in response.get_data(as_text=True)
    assert db.session.get(Clue, clue_id).status == "received"


def test_disabled_user_is_out_at_once(client, app):
    user, secret = make_user("rv", "reviewer")
    sign_in(client, "rv", secret)
    assert client.get("/review/").status_code == 200
    db.session.get(User, user.id).active = False
    db.session.commit()
    assert client.get("/review/").status_code == 302


def test_idle_session_ends(client, app):
    _user, secret = make_user("rv", "reviewer")
    sign_in(client, "rv", secret)
    with client.session_transaction() as session:
        session["seen"] = int((utcnow() - timedelta(hours=2)).timestamp())
    assert client.get("/review/").status_code == 302


def test_colour_sets_the_deadline_and_page_shows_the_suggestion(client, clue_id, csrf_off):
    _user, secret = make_user("rv", "reviewer")
    sign_in(client, "rv", secret)
    page = client.get(f"/review/clues/{clue_id}").get_data(as_text=True)
    assert "系统建议" in page
    before = utcnow()
    client.post(f"/review/clues/{clue_id}/colour", data={"colour": "red", "reason": "紧急"})
    clue = db.session.get(Clue, clue_id)
    db.session.refresh(clue)
    assert timedelta(hours=23, minutes=59) < clue.due_at - before <= timedelta(hours=24,
                                                                               seconds=5)


def test_dispute_opened_and_settled_from_the_clue_page(client, clue_id, csrf_off):
    _user, secret = make_user("rv", "reviewer")
    sign_in(client, "rv", secret)
    client.post(f"/review/clues/{clue_id}/dispute", data={"departments": ["market", "tourism"]})
    page = client.get(f"/review/clues/{clue_id}").get_data(as_text=True)
    assert "应于" in page
    from app.models import Dispute
    dispute = db.session.scalar(select(Dispute))
    response = client.post(f"/review/clues/{clue_id}/disputes/{dispute.id}/settle",
                           data={"department": "tourism", "legal_basis": "文旅部门负责民宿监管"},
                           follow_redirects=True)
    assert "按时" in response.get_data(as_text=True)


def test_identity_disclosure_through_the_console(client, app, ready, csrf_off):
    from tests.conftest import PASSPHRASE
    from tests.factories import payload
    clue = intake.submit(db.session, payload(), channel=Channel.WEB, keys=intake_keys(),
                         now=utcnow(), actor="reporter")
    _rv, rv_secret = make_user("rv", "reviewer")
    _sup, sup_secret = make_user("sup", "supervisor")
    reviewer, supervisor = app.test_client(), app.test_client()
    sign_in(reviewer, "rv", rv_secret)
    sign_in(supervisor, "sup", sup_secret)
    page = reviewer.get(f"/review/clues/{clue.clue_id}").get_data(as_text=True)
    assert "林晓梅" not in page
    reviewer.post(f"/review/clues/{clue.clue_id}/identity/request",
                  data={"reason": "需电话回访核实情况"})
    from app.models import DisclosureRequest
    request_id = db.session.scalar(select(DisclosureRequest.id))
    refused = reviewer.post(f"/review/clues/{clue.clue_id}/identity/{request_id}/open",
                            data={"passphrase": PASSPHRASE}, follow_redirects=True)
    assert "林晓梅" not in refused.get_data(as_text=True)
    assert reviewer.post(f"/review/clues/{clue.clue_id}/identity/{request_id}/decide",
                         data={"decision": "approve"}).status_code == 403
    supervisor.post(f"/review/clues/{clue.clue_id}/identity/{request_id}/decide",
                    data={"decision": "approve"})
    shown = reviewer.post(f"/review/clues/{clue.clue_id}/identity/{request_id}/open",
                          data={"passphrase": PASSPHRASE})
    assert "林晓梅" in shown.get_data(as_text=True)
    assert shown.headers["Cache-Control"] == "no-store"
    again = reviewer.post(f"/review/clues/{clue.clue_id}/identity/{request_id}/open",
                          data={"passphrase": PASSPHRASE}, follow_redirects=True)
    assert "林晓梅" not in again.get_data(as_text=True)


def test_liaison_records_progress_on_own_clue(client, clue_id, csrf_off):
    clue = db.session.get(Clue, clue_id)
    clue.handling_department_code, clue.status = "market", "assigned"
    db.session.commit()
    _user, secret = make_user("li", "liaison", "market")
    sign_in(client, "li", secret)
    response = client.post(f"/review/clues/{clue_id}/progress", data={"note": "已约谈执法队员"},
                           follow_redirects=True)
    assert "已约谈执法队员" in response.get_data(as_text=True)
    assert client.post(f"/review/clues/{clue_id}/question",
                       data={"question": "x"}).status_code == 403


def test_csv_export_has_no_identity_and_defuses_formulas(client, ready, csrf_off):
    from tests.factories import payload
    intake.submit(db.session, payload(agency="=HYPERLINK(\"http://x\")"), channel=Channel.WEB,
                  keys=intake_keys(), now=utcnow(), actor="reporter")
    intake.submit(db.session, anonymous_payload(district="dinghai"), channel=Channel.WEB,
                  keys=intake_keys(), now=utcnow(), actor="reporter")
    _user, secret = make_user("rv", "reviewer")
    sign_in(client, "rv", secret)
    response = client.get("/review/export.csv?district=putuo")
    text = response.get_data(as_text=True)
    assert response.headers["Content-Disposition"].startswith("attachment;")
    lines = text.strip().splitlines()
    assert lines[0].lstrip("\ufeff").startswith("tracking_no,submitted_at")
    assert len(lines) == 2
    assert "林晓梅" not in text
    assert "13857001234" not in text
    assert "'=HYPERLINK" in text
    assert "queue.export" in set(db.session.scalars(select(AuditEvent.action)))


def test_manual_entry_of_a_letter(client, ready, csrf_off):
    from tests.web.test_public import FORM
    _user, secret = make_user("rv", "reviewer")
    sign_in(client, "rv", secret)
    assert client.get("/review/clues/new").status_code == 200
    data = {k: v for k, v in FORM.items() if k not in ("pledge", "website")}
    response = client.post("/review/clues/new", data={**data, "channel": "letter"})
    page = response.get_data(as_text=True)
    clue = db.session.scalar(select(Clue))
    assert clue.tracking_no in page
    assert re.search(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){4}", page)
    assert response.headers["Cache-Control"] == "no-store"
    assert (clue.channel, clue.campaign_id is not None) == ("letter", True)
    assert "林晓梅" not in clue.identity_sealed
    bad = client.post("/review/clues/new", data={**data, "channel": "phone", "phone": "110"})
    assert "请填写11位中国大陆手机号码" in bad.get_data(as_text=True)


def test_liaison_cannot_enter_clues(client, app, csrf_off):
    _user, secret = make_user("li", "liaison", "market")
    sign_in(client, "li", secret)
    assert client.get("/review/clues/new").status_code == 403


def test_reading_a_clue_is_audited(client, clue_id, csrf_off):
    _user, secret = make_user("rv", "reviewer")
    sign_in(client, "rv", secret)
    client.get(f"/review/clues/{clue_id}")
    clue = db.session.get(Clue, clue_id)
    viewed = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "clue.viewed"))
    assert (viewed.actor, viewed.target) == ("user:rv", f"clue:{clue.tracking_no}")
