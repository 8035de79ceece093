"""Administration: every page for admins only; each change works and is audited."""

import re

import pyotp
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ApiToken, AuditEvent, Campaign, Department, SourceTag, User
from app.services import people
from tests.conftest import bearer
from tests.factories import payload

PASSWORD = "a long enough password"
PAGES = ["/admin/", "/admin/users", "/admin/departments", "/admin/situations", "/admin/tags",
         "/admin/campaigns", "/admin/tokens", "/admin/outbox"]


def signed_in(app, role, name="boss"):
    _user, secret = people.create_user(db.session, username=name, role=role, password=PASSWORD,
                                       department="market" if role == "liaison" else None,
                                       actor="test")
    client = app.test_client()
    client.post("/review/login", data={"username": name, "password": PASSWORD,
                                       "otp": pyotp.TOTP(secret).now()})
    return client


@pytest.fixture
def admin(app):
    app.config["WTF_CSRF_ENABLED"] = False
    yield signed_in(app, "admin")
    app.config["WTF_CSRF_ENABLED"] = True


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_goes_to_login(client, page):
    response = client.get(page)
    assert response.status_code == 302
    assert "/review/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["reviewer", "supervisor", "liaison", "analyst"])
@pytest.mark.parametrize("page", PAGES)
def test_other_roles_get_403(app, role, page):
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        assert signed_in(app, role).get(page).status_code == 403
    finally:
        app.config["WTF_CSRF_ENABLED"] = True


@pytest.mark.parametrize("page", PAGES + ["/admin/audit"])
def test_admin_opens_every_page(admin, page):
    assert admin.get(page).status_code == 200


def test_supervisor_reads_the_audit_log(app):
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        page = signed_in(app, "supervisor").get("/admin/audit")
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    assert page.status_code == 200
    assert "哈希链完整" in page.get_data(as_text=True)


def test_create_user_shows_totp_once(admin):
    page = admin.post("/admin/users", data={"username": "zhang", "role": "liaison",
                                            "department": "tourism", "email": "",
                                            "password": PASSWORD}).get_data(as_text=True)
    user = db.session.scalar(select(User).where(User.username == "zhang"))
    assert user.department_code == "tourism"
    assert user.totp_secret in page
    assert "data:image/svg+xml;base64," in page
    assert user.totp_secret not in admin.get("/admin/users").get_data(as_text=True)


def test_disable_user_ends_their_session(app, admin):
    app.config["WTF_CSRF_ENABLED"] = False
    reviewer = signed_in(app, "reviewer", "rv")
    assert reviewer.get("/review/").status_code == 200
    target = db.session.scalar(select(User).where(User.username == "rv"))
    admin.post(f"/admin/users/{target.id}/active")
    assert reviewer.get("/review/").status_code == 302
    assert "users.disable" in set(db.session.scalars(select(AuditEvent.action)))


def test_reset_gives_a_new_totp(admin):
    people.create_user(db.session, username="lost", role="reviewer", password=PASSWORD,
                       actor="test")
    target = db.session.scalar(select(User).where(User.username == "lost"))
    old = target.totp_secret
    page = admin.post(f"/admin/users/{target.id}/reset",
                      data={"password": "", "new_totp": "y"}).get_data(as_text=True)
    db.session.refresh(target)
    assert target.totp_secret != old
    assert target.totp_secret in page


def test_add_department_and_tag(admin):
    admin.post("/admin/departments", data={"code": "port", "name": "港航和口岸管理局",
                                           "name_en": "Port Authority"})
    assert db.session.get(Department, "port").name == "港航和口岸管理局"
    bad = admin.post("/admin/departments", data={"code": "Bad Code", "name": "x"})
    assert "只能使用小写字母" in bad.get_data(as_text=True)
    admin.post("/admin/tags", data={"tag": "hall-daishan", "label": "岱山县行政服务中心"})
    assert db.session.scalar(select(SourceTag.label).where(SourceTag.tag == "hall-daishan"))


def test_create_and_edit_campaign(admin):
    admin.post("/admin/campaigns", data={"slug": "c2027", "title": "2027年征集", "notice": "",
                                         "opens_at": "2027-01-01T00:00",
                                         "deadline": "2027-10-01T00:00"})
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == "c2027"))
    assert campaign.deadline.isoformat() == "2027-09-30T16:00:00+00:00"
    admin.post(f"/admin/campaigns/{campaign.id}", data={
        "title": "2027年征集（延长）", "notice": "公告", "opens_at": "2027-01-01T00:00",
        "deadline": "2027-12-01T00:00"})
    db.session.refresh(campaign)
    assert campaign.title == "2027年征集（延长）"
    assert campaign.deadline.isoformat() == "2027-11-30T16:00:00+00:00"


def test_token_created_once_and_revoked(admin, client, ready):
    page = admin.post("/admin/tokens", data={"name": "浙企之家", "channel": "app"})
    token = re.search(r"jidu_[A-Za-z0-9_\-]{20,}", page.get_data(as_text=True)).group(0)
    assert client.post("/api/v1/clues", json=payload(), headers=bearer(token)).status_code == 201
    row = db.session.scalar(select(ApiToken))
    admin.post(f"/admin/tokens/{row.id}/revoke")
    assert client.post("/api/v1/clues", json=payload(), headers=bearer(token)).status_code == 401


def test_add_a_situation_and_partners_see_it(admin, client, ready):
    from app.models import Situation
    admin.post("/admin/situations", data={"category": "fees", "code": "fees_deposits",
                                          "name": "违规收取保证金", "name_en": "Unlawful deposits"})
    assert db.session.get(Situation, "fees_deposits").category_code == "fees"
    bad = admin.post("/admin/situations", data={"category": "fees", "code": "fines_x",
                                                "name": "错类别"})
    assert db.session.get(Situation, "fines_x") is None
    assert bad.status_code == 200
    campaign = client.get("/api/v1/campaigns/current").get_json()
    fees = next(c for c in campaign["categories"] if c["code"] == "fees")
    assert "fees_deposits" in [s["code"] for s in fees["situations"]]


def test_admin_sees_failed_mail_and_sends_it_again(admin, ready):
    from datetime import timedelta

    from app.context import intake_keys
    from app.models import Channel, OutboxMessage, OutboxStatus
    from app.services import intake
    from app.timeutil import utcnow

    people.create_user(db.session, username="rev", role="reviewer", password=PASSWORD,
                       email="rev@bureau.example", actor="test")
    intake.submit(db.session, payload(), channel=Channel.WEB, keys=intake_keys(), now=utcnow(),
                  actor="reporter")
    message = db.session.scalars(select(OutboxMessage)).one()
    message.status, message.attempts = OutboxStatus.DEAD, 40
    message.last_error = "ConnectionRefusedError 111"
    db.session.commit()
    page = admin.get("/admin/outbox").get_data(as_text=True)
    assert "ConnectionRefusedError 111" in page
    assert "rev@bureau.example" not in page
    response = admin.post("/admin/outbox/retry", follow_redirects=True)
    assert "已重新排队 1 封邮件" in response.get_data(as_text=True)
    db.session.expire_all()
    message = db.session.scalars(select(OutboxMessage)).one()
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 0)
    assert message.next_attempt_at <= utcnow() + timedelta(seconds=1)
    assert db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action == "outbox.retry_dead")).one()
