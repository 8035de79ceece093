"""Campaigns: which one is current, and creating them."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select

from app.models import Campaign
from app.services import audit, reference_cache
from app.services.errors import Conflict, ValidationFailed
from app.services.types import DbSession

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def open_campaign(session: DbSession, now: datetime) -> Campaign | None:
    """The campaign accepting clues now (the latest-opened if several)."""
    window = reference_cache.current(session).open_campaign(now)
    return None if window is None else session.get(Campaign, window.id)


def current_campaign(session: DbSession, now: datetime) -> Campaign | None:
    """The open campaign; else the most recently closed; else the next to open."""
    window = reference_cache.current(session).current_campaign(now)
    return None if window is None else session.get(Campaign, window.id)


def create_campaign(session: DbSession, *, slug: str, title: str, opens_at: datetime,
                    deadline: datetime, actor: str, notice: str = "") -> Campaign:
    errors = {}
    if not SLUG.match(slug):
        errors["slug"] = "slug"
    if not title.strip() or len(title) > 200:
        errors["title"] = "required" if not title.strip() else "too_long"
    if deadline <= opens_at:
        errors["deadline"] = "before_opens"
    if errors:
        raise ValidationFailed(errors)
    if session.scalar(select(Campaign.id).where(Campaign.slug == slug)) is not None:
        raise Conflict(f"a campaign with slug {slug!r} already exists")
    campaign = Campaign(slug=slug, title=title.strip(), opens_at=opens_at, deadline=deadline,
                        notice=notice)
    session.add(campaign)
    session.flush()
    audit.record(session, actor=actor, action="campaigns.create", target=f"campaign:{slug}",
                 details={"opens_at": opens_at.isoformat(), "deadline": deadline.isoformat()})
    session.commit()
    return campaign
