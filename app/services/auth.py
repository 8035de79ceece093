"""Console sign-in: Argon2 passwords, TOTP for everyone, lockout, session ends."""

from __future__ import annotations

from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from app.models import User
from app.services import audit
from app.services.errors import DomainError
from app.services.people import hash_password
from app.services.types import DbSession

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
_hasher = PasswordHasher()
# Verified when the user does not exist, so that a wrong name costs as much
# time as a wrong password and names cannot be probed by timing.
_DUMMY_HASH = _hasher.hash("jidu-dummy-password-for-timing")


class LoginFailed(DomainError):
    code = "login_failed"


class AccountLocked(DomainError):
    code = "account_locked"

    def __init__(self, until: datetime) -> None:
        super().__init__("account locked")
        self.until = until


def _password_ok(user: User | None, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and bool(user)
    except (VerificationError, InvalidHashError):
        return False


def _totp_step(user: User, code: str, now: datetime) -> int | None:
    """The accepted time step for ``code`` (±1 step of clock drift), or None."""
    totp = pyotp.TOTP(user.totp_secret)
    code = code.strip().replace(" ", "")
    for drift in (0, -1, 1):
        moment = now + timedelta(seconds=30 * drift)
        if totp.verify(code, for_time=moment, valid_window=0):
            return int(moment.timestamp()) // 30
    return None


def sign_in(session: DbSession, *, username: str, password: str, otp: str,
            now: datetime) -> User:
    """Check password and TOTP; lock the account after repeated failures.

    Every outcome is audited; the failure message does not say which factor
    was wrong.
    """
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is not None and user.locked_until is not None and user.locked_until > now:
        audit.record(session, actor=f"user:{user.username}", action="auth.locked_out",
                     target=f"user:{user.username}", now=now)
        session.commit()
        raise AccountLocked(user.locked_until)
    password_ok = _password_ok(user, password)
    step = _totp_step(user, otp, now) if user is not None and password_ok else None
    replayed = step is not None and user is not None and user.totp_last_step is not None \
        and step <= user.totp_last_step
    if user is None or not user.active or step is None or replayed:
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILURES:
                user.locked_until = now + LOCK_FOR
                user.failed_logins = 0
        audit.record(session, actor=f"user:{username.strip()[:64]}", action="auth.failed",
                     target=f"user:{user.username}" if user else None, now=now)
        session.commit()
        if user is not None and user.locked_until is not None and user.locked_until > now:
            raise AccountLocked(user.locked_until)
        raise LoginFailed("wrong name, password or code")
    user.failed_logins = 0
    user.locked_until = None
    user.totp_last_step = step
    user.last_login_at = now
    audit.record(session, actor=f"user:{user.username}", action="auth.signed_in",
                 target=f"user:{user.username}", now=now)
    session.commit()
    return user


def load_user(session: DbSession, user_id: str) -> User | None:
    """Flask-Login's loader: the user if active and the session version matches."""
    raw_id, _sep, version = user_id.partition(":")
    if not raw_id.isdigit() or not version.isdigit():
        return None
    user = session.get(User, int(raw_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def sign_out(session: DbSession, *, user_id: int, now: datetime) -> None:
    """Sign-out ends every session of the user, including copies of this one's cookie.

    Why: a console session lives in a signed cookie. Clearing it in this
    browser would leave a copy (a shared computer, a proxy's log) valid until
    it expires; a new session version makes every copy worthless, at the
    price of also signing the user out on their other devices.
    """
    user = session.get(User, user_id)
    if user is None:
        return
    user.session_version += 1
    audit.record(session, actor=f"user:{user.username}", action="auth.signed_out",
                 target=f"user:{user.username}", now=now)
    session.commit()


def end_sessions(session: DbSession, *, user_id: int, actor: str, now: datetime) -> None:
    """End every session of a user at once (admin action, or a disabled account)."""
    user = session.get(User, user_id)
    if user is None:
        from app.services.errors import NotFound

        raise NotFound("no such user")
    user.session_version += 1
    audit.record(session, actor=actor, action="users.end_sessions",
                 target=f"user:{user.username}", now=now)
    session.commit()


def reset_credentials(session: DbSession, *, user_id: int, actor: str, now: datetime,
                      password: str | None = None, new_totp: bool = False) -> str | None:
    """Admin reset of a lost password and/or TOTP; ends the user's sessions.

    Returns the new TOTP secret when one was made.
    """
    from app.services.errors import NotFound, ValidationFailed
    from app.services.people import MIN_PASSWORD

    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    if password is not None:
        if len(password) < MIN_PASSWORD:
            raise ValidationFailed({"password": "too_short"})
        user.password_hash = hash_password(password)
    secret = None
    if new_totp:
        secret = pyotp.random_base32()
        user.totp_secret = secret
        user.totp_last_step = None
    user.session_version += 1
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, actor=actor, action="users.reset_credentials",
                 target=f"user:{user.username}",
                 details={"password": password is not None, "totp": new_totp}, now=now)
    session.commit()
    return secret
