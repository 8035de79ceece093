"""Administration: departments, QR tags, campaigns, users and tokens — all audited."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select

from app.models import ApiToken, Campaign, Category, Department, Situation, SourceTag, User
from app.services import audit
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.services.types import DbSession

CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
TAG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


def add_department(session: DbSession, *, code: str, name: str, name_en: str, actor: str,
                   now: datetime) -> Department:
    errors = {}
    if not CODE.match(code):
        errors["code"] = "slug"
    if not name.strip() or len(name) > 64:
        errors["name"] = "required" if not name.strip() else "too_long"
    if len(name_en) > 128:
        errors["name_en"] = "too_long"
    if errors:
        raise ValidationFailed(errors)
    if session.get(Department, code) is not None:
        raise Conflict(f"department {code} exists")
    position = (session.scalar(select(func.max(Department.position))) or 0) + 1
    department = Department(code=code, name=name.strip(), name_en=name_en.strip() or code,
                            position=position, active=True)
    session.add(department)
    audit.record(session, actor=actor, action="departments.add", target=f"department:{code}",
                 details={"name": name.strip()}, now=now)
    session.commit()
    return department


def add_situation(session: DbSession, *, category: str, code: str, name: str, name_en: str,
                  actor: str, now: datetime) -> Situation:
    """A new situation under a category; codes are permanent (partners use them)."""
    errors = {}
    if session.get(Category, category) is None:
        errors["category"] = "choice"
    if not CODE.match(code) or not code.startswith(f"{category}_"):
        errors["code"] = "slug"
    if not name.strip() or len(name) > 128:
        errors["name"] = "required" if not name.strip() else "too_long"
    if len(name_en) > 200:
        errors["name_en"] = "too_long"
    if errors:
        raise ValidationFailed(errors)
    if session.get(Situation, code) is not None:
        raise Conflict(f"situation {code} exists")
    position = (session.scalar(select(func.max(Situation.position))
                               .where(Situation.category_code == category)) or 0) + 1
    situation = Situation(code=code, category_code=category, name=name.strip(),
                          name_en=name_en.strip() or name.strip(), position=position)
    session.add(situation)
    audit.record(session, actor=actor, action="situations.add", target=f"situation:{code}",
                 details={"category": category, "name": name.strip()}, now=now)
    session.commit()
    return situation


def add_source_tag(session: DbSession, *, tag: str, label: str, actor: str,
                   now: datetime) -> SourceTag:
    errors = {}
    if not TAG.fullmatch(tag):
        errors["tag"] = "slug"
    if not label.strip() or len(label) > 120:
        errors["label"] = "required" if not label.strip() else "too_long"
    if errors:
        raise ValidationFailed(errors)
    if session.scalar(select(SourceTag.id).where(SourceTag.tag == tag)) is not None:
        raise Conflict(f"tag {tag} exists")
    row = SourceTag(tag=tag, label=label.strip(), created_at=now)
    session.add(row)
    audit.record(session, actor=actor, action="tags.add", target=f"tag:{tag}", now=now)
    session.commit()
    return row


def update_campaign(session: DbSession, campaign_id: int, *, title: str, notice: str,
                    opens_at: datetime, deadline: datetime, actor: str,
                    now: datetime) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("no such campaign")
    errors = {}
    if not title.strip() or len(title) > 200:
        errors["title"] = "required" if not title.strip() else "too_long"
    if len(notice) > 50_000:
        errors["notice"] = "too_long"
    if deadline <= opens_at:
        errors["deadline"] = "before_opens"
    if errors:
        raise ValidationFailed(errors)
    changed = {k: True for k, old, new in (("title", campaign.title, title.strip()),
                                           ("notice", campaign.notice, notice),
                                           ("opens_at", campaign.opens_at, opens_at),
                                           ("deadline", campaign.deadline, deadline))
               if old != new}
    campaign.title, campaign.notice = title.strip(), notice
    campaign.opens_at, campaign.deadline = opens_at, deadline
    audit.record(session, actor=actor, action="campaigns.update",
                 target=f"campaign:{campaign.slug}",
                 details={"changed": sorted(changed), "opens_at": opens_at.isoformat(),
                          "deadline": deadline.isoformat()}, now=now)
    session.commit()
    return campaign


def set_user_active(session: DbSession, user_id: int, *, active: bool, actor: str,
                    now: datetime) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    user.active = active
    # Disabling ends every session at once (the id carries the version).
    user.session_version += 1
    audit.record(session, actor=actor, action="users.enable" if active else "users.disable",
                 target=f"user:{user.username}", now=now)
    session.commit()
    return user


def revoke_token(session: DbSession, token_id: int, *, actor: str, now: datetime) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("no such token")
    if token.revoked_at is None:
        token.revoked_at = now
        audit.record(session, actor=actor, action="tokens.revoke", target=f"token:{token.id}",
                     details={"name": token.name}, now=now)
        session.commit()
    return token
