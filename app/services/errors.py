"""Domain errors, translated into responses by each door (web, API, CLI)."""

from __future__ import annotations

from datetime import datetime


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.code)
        self.message = message or self.code


class ValidationFailed(DomainError):
    """Field errors keyed like the API (``identity.phone``), valued by error code."""

    code = "validation"

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("validation failed: " + ", ".join(sorted(fields)))
        self.fields = fields


class Excluded(DomainError):
    """The clue falls under an exclusion of the notice; nothing is stored."""

    code = "excluded"

    def __init__(self, rules: list[str]) -> None:
        super().__init__("excluded: " + ", ".join(rules))
        self.rules = rules


class CampaignClosed(DomainError):
    code = "campaign_closed"

    def __init__(self, opens_at: datetime | None = None, deadline: datetime | None = None):
        super().__init__("the campaign is not accepting clues")
        self.opens_at = opens_at
        self.deadline = deadline


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class NotConfigured(DomainError):
    """A deployment step is missing (e.g. ``keys init`` was never run)."""

    code = "not_configured"
