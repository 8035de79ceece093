"""All tables, imported here so that Alembic and the app see every one."""

from app.models.audit import AuditEvent
from app.models.campaign import Campaign, SourceTag
from app.models.clue import (
    Channel,
    Clue,
    ClueEvent,
    ClueStatus,
    Colour,
    StatusCount,
    clue_situations,
)
from app.models.export import ExportJob, ExportStatus
from app.models.keys import IdentityKey
from app.models.outbox import OutboxMessage, OutboxStatus
from app.models.people import ApiToken, Role, TokenChannel, User
from app.models.reference import Category, Department, District, Exclusion, Situation
from app.models.review import DisclosureRequest, Dispute

__all__ = [
    "ApiToken", "AuditEvent", "Campaign", "Category", "Channel", "Clue", "ClueEvent",
    "ClueStatus", "Colour", "Department", "DisclosureRequest", "Dispute", "District",
    "Exclusion", "ExportJob", "ExportStatus", "IdentityKey", "OutboxMessage", "OutboxStatus",
    "Role", "Situation", "SourceTag", "StatusCount", "TokenChannel", "User",
    "clue_situations",
]
