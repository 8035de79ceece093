"""Console sign-in: both factors, no replay, lockout, sessions that end at once."""

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent
from app.services import auth, people
from app.timeutil import utcnow

PASSWORD = "a long enough password"


@pytest.fixture
def user(app):
    user, secret = people.create_user(db.session, username="wang", role="reviewer",
                                      password=PASSWORD, actor="test")
    return user, secret


def code(secret, now):
    return pyotp.TOTP(secret).at(now)


def test_both_factors_sign_in(user):
    account, secret = user
    now = utcnow()
    assert auth.sign_in(db.session, username="wang", password=PASSWORD,
                        otp=code(secret, now), now=now).id == account.id


@pytest.mark.parametrize("which", ["password", "otp", "name"])
def test_any_wrong_factor_fails_the_same_way(user, which):
    _account, secret = user
    now = utcnow()
    args = {"username": "wang", "password": PASSWORD, "otp": code(secret, now)}
    args[{"password": "password", "otp": "otp", "name": "username"}[which]] = (
        "000000" if which == "otp" else "wrong-value-here")
    if which == "otp" and args["otp"] == code(secret, now):
        args["otp"] = "111111"
    with pytest.raises(auth.LoginFailed):
        auth.sign_in(db.session, now=now, **args)


def test_a_code_cannot_be_replayed(user):
    _account, secret = user
    now = utcnow()
    auth.sign_in(db.session, username="wang", password=PASSWORD, otp=code(secret, now), now=now)
    with pytest.raises(auth.LoginFailed):
        auth.sign_in(db.session, username="wang", password=PASSWORD, otp=code(secret, now),
                     now=now + timedelta(seconds=5))


def test_lockout_after_repeated_failures_then_unlocks(user):
    _account, secret = user
    now = utcnow()
    for _ in range(auth.MAX_FAILURES - 1):
        with pytest.raises(auth.LoginFailed):
            auth.sign_in(db.session, username="wang", password="wrong", otp="000000", now=now)
    with pytest.raises(auth.AccountLocked):
        auth.sign_in(db.session, username="wang", password="wrong", otp="000000", now=now)
    with pytest.raises(auth.AccountLocked):
        auth.sign_in(db.session, username="wang", password=PASSWORD, otp=code(secret, now),
                     now=now + timedelta(minutes=1))
    later = now + auth.LOCK_FOR + timedelta(seconds=31)
    auth.sign_in(db.session, username="wang", password=PASSWORD, otp=code(secret, later),
                 now=later)


def test_session_version_ends_sessions(user):
    account, _secret = user
    old_id = account.get_id()
    assert auth.load_user(db.session, old_id).id == account.id
    auth.end_sessions(db.session, user_id=account.id, actor="user:admin", now=utcnow())
    assert auth.load_user(db.session, old_id) is None
    assert auth.load_user(db.session, account.get_id()).id == account.id


def test_disabled_user_is_out(user):
    account, _secret = user
    session_id = account.get_id()
    account.active = False
    db.session.commit()
    assert auth.load_user(db.session, session_id) is None


def test_admin_reset_gives_new_totp_and_is_audited(user):
    account, secret = user
    new_secret = auth.reset_credentials(db.session, user_id=account.id, actor="user:admin",
                                        now=utcnow(), password="another long password",
                                        new_totp=True)
    assert new_secret
    assert new_secret != secret
    now = utcnow()
    with pytest.raises(auth.LoginFailed):
        auth.sign_in(db.session, username="wang", password=PASSWORD, otp=code(new_secret, now),
                     now=now)
    auth.sign_in(db.session, username="wang", password="another long password",
                 otp=code(new_secret, now), now=now)
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"users.reset_credentials", "auth.failed", "auth.signed_in"} <= actions


@pytest.mark.parametrize("user_id", ["", "x:1", "1", "1:x", "999:1"])
def test_malformed_session_ids_load_nobody(app, user_id):
    assert auth.load_user(db.session, user_id) is None
