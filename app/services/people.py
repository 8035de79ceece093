"""Console users and partner tokens."""

from __future__ import annotations

import re
from datetime import datetime

import pyotp
from argon2 import PasswordHasher
from sqlalchemy import select

from app.models import ApiToken, Department, Role, TokenChannel, User
from app.security import receipts
from app.services import audit, reference_cache
from app.services.errors import Conflict, ValidationFailed
from app.services.types import DbSession

USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")
MIN_PASSWORD = 12
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(session: DbSession, *, username: str, role: str, password: str, actor: str,
                department: str | None = None, email: str | None = None) -> tuple[User, str]:
    """Create a console user; returns the user and their new TOTP secret."""
    errors = {}
    if not USERNAME.match(username):
        errors["username"] = "username"
    if role not in {r.value for r in Role}:
        errors["role"] = "choice"
    if role == Role.LIAISON and not department:
        errors["department"] = "required"
    if department and session.get(Department, department) is None:
        errors["department"] = "choice"
    if len(password) < MIN_PASSWORD:
        errors["password"] = "too_short"  # noqa: S105 (an error code)
    if errors:
        raise ValidationFailed(errors)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists")
    secret = pyotp.random_base32()
    user = User(username=username, role=Role(role), department_code=department, email=email,
                password_hash=hash_password(password), totp_secret=secret)
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="users.create", target=f"user:{username}",
                 details={"role": role, "department": department})
    session.commit()
    return user, secret


def create_token(session: DbSession, *, channel: str, name: str, actor: str) -> str:
    """A partner token, shown once; only its hash is kept."""
    errors = {}
    if channel not in {c.value for c in TokenChannel}:
        errors["channel"] = "choice"
    if not name.strip() or len(name) > 120:
        errors["name"] = "required"
    if errors:
        raise ValidationFailed(errors)
    token = receipts.new_api_token()
    row = ApiToken(name=name.strip(), channel=TokenChannel(channel),
                   token_hash=receipts.token_hash(token))
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="tokens.create", target=f"token:{row.id}",
                 details={"channel": channel, "name": row.name})
    session.commit()
    return token


def authenticate_token(session: DbSession, token: str,
                       now: datetime) -> reference_cache.Token | None:
    row = reference_cache.current(session).tokens.get(receipts.token_hash(token))
    if row is None or (row.revoked_at is not None and row.revoked_at <= now):
        return None
    return row
