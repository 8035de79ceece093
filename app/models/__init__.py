"""All tables, imported here so that Alembic and the app see every one."""

from app.models.attachment import Attachment, EvidenceKey
from app.models.audit import AuditEvent
from app.models.campaign import Campaign, SourceTag
from app.models.cases import CaseType, EnforcementCase
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
from app.models.hotline import HardDispatchType, HotlineOrder
from app.models.keys import IdentityKey
from app.models.outbox import OutboxMessage, OutboxStatus
from app.models.people import ApiToken, Role, TokenChannel, User
from app.models.reference import (
    Category,
    Department,
    District,
    Exclusion,
    ReferenceVersion,
    Situation,
)
from app.models.review import DisclosureRequest, Dispute
from app.models.stats import DailyStat, DirtyDay
from app.models.warning import Dimension, EarlyWarning

__all__ = [
    "Attachment", "EvidenceKey", "CaseType", "EnforcementCase",
    "ApiToken", "AuditEvent", "Campaign", "Category", "Channel", "Clue", "ClueEvent",
    "DailyStat", "DirtyDay",
    "ClueStatus", "Colour", "Department", "Dimension", "DisclosureRequest", "Dispute", "District",
    "EarlyWarning",
    "Exclusion", "ExportJob", "ExportStatus", "HardDispatchType", "HotlineOrder",
    "IdentityKey", "OutboxMessage", "OutboxStatus", "ReferenceVersion",
    "Role", "Situation", "SourceTag", "StatusCount", "TokenChannel", "User",
    "clue_situations",
]
