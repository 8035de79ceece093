"""Validation of a submission, the same for the web form, the API and the console.

Input is the API's JSON shape (a mapping); errors are error codes keyed by the
API's field names (``identity.phone``). Each door turns codes into words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.services import reference_cache
from app.services.types import DbSession
from app.validators import (
    is_credit_code,
    is_mainland_mobile,
    normalise_email,
    normalise_mobile,
    parse_amount_fen,
)

AGENCY_MAX = 200
DESCRIPTION_MAX = 4000
NAME_MAX = 50
COMPANY_MAX = 200
IDENTITY_FIELDS = ("name", "phone", "email", "company", "credit_code")
TOP_LEVEL_FIELDS = {
    "category", "situations", "agency", "department", "district", "occurred_on",
    "description", "amount_yuan", "real_name", "confidential", "identity", "exclusions",
    "pledge", "notify_email", "source_tag",
}


@dataclass
class Identity:
    name: str
    phone: str
    email: str | None = None
    company: str | None = None
    credit_code: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {k: getattr(self, k) for k in IDENTITY_FIELDS}


@dataclass
class Draft:
    category: str
    agency: str
    district: str
    description: str
    real_name: bool
    situations: list[str] = field(default_factory=list)
    department: str | None = None
    occurred_on: date | None = None
    amount_fen: int | None = None
    confidential: bool = True
    identity: Identity | None = None
    notify_email: str | None = None
    source_tag: str | None = None


def exclusion_codes(session: DbSession) -> list[str]:
    return list(reference_cache.current(session).exclusions)


def applicable_exclusions(session: DbSession, answers: object) -> list[str]:
    """Exclusions answered "yes", judged only when the answers are well formed."""
    codes = exclusion_codes(session)
    if not isinstance(answers, Mapping) or set(answers) != set(codes):
        return []
    if not all(isinstance(answers[c], bool) for c in codes):
        return []
    return [c for c in codes if answers[c]]


def _text(payload: Mapping[str, Any], key: str, errors: dict[str, str], *, limit: int,
          required: bool, prefix: str = "") -> str | None:
    value = payload.get(key)
    name = prefix + key
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors[name] = "required"
        return None
    if not isinstance(value, str) or "\x00" in value:
        # NUL: no person types it, and PostgreSQL cannot store it in text.
        errors[name] = "type"
        return None
    value = value.strip()
    if len(value) > limit:
        errors[name] = "too_long"
        return None
    return value


def _identity(raw: object, errors: dict[str, str]) -> Identity | None:
    if not isinstance(raw, Mapping):
        errors["identity"] = "type"
        return None
    unknown = set(raw) - set(IDENTITY_FIELDS)
    for key in unknown:
        errors[f"identity.{key}"] = "unknown"
    name = _text(raw, "name", errors, limit=NAME_MAX, required=True, prefix="identity.")
    phone = _text(raw, "phone", errors, limit=32, required=True, prefix="identity.")
    if phone is not None and not is_mainland_mobile(phone):
        errors["identity.phone"] = "mobile"
        phone = None
    email = _text(raw, "email", errors, limit=254, required=False, prefix="identity.")
    if email is not None:
        email = normalise_email(email)
        if email is None:
            errors["identity.email"] = "email"
    company = _text(raw, "company", errors, limit=COMPANY_MAX, required=False, prefix="identity.")
    credit = _text(raw, "credit_code", errors, limit=18, required=False, prefix="identity.")
    if credit is not None:
        credit = credit.upper()
        if not is_credit_code(credit):
            errors["identity.credit_code"] = "credit_code"
    if name is None or phone is None:
        return None
    return Identity(name, normalise_mobile(phone), email, company, credit)


def validate(session: DbSession, payload: Mapping[str, Any], *, today: date) -> Draft:
    """Check everything but the campaign window and exclusions; raise on error."""
    from app.services.errors import ValidationFailed

    reference = reference_cache.current(session)
    errors: dict[str, str] = {}
    for key in set(payload) - TOP_LEVEL_FIELDS:
        errors[key] = "unknown"

    category = _text(payload, "category", errors, limit=32, required=True)
    if category is not None and category not in reference.categories:
        errors["category"] = "choice"
        category = None

    situations: list[str] = []
    raw_situations = payload.get("situations")
    if raw_situations is not None:
        if not isinstance(raw_situations, list) or not all(
            isinstance(s, str) for s in raw_situations
        ):
            errors["situations"] = "type"
        elif category is not None:
            allowed = reference.situations.get(category, frozenset())
            if any(s not in allowed for s in raw_situations):
                errors["situations"] = "choice"
            situations = list(dict.fromkeys(raw_situations))

    agency = _text(payload, "agency", errors, limit=AGENCY_MAX, required=True)
    department = _text(payload, "department", errors, limit=32, required=False)
    if department is not None and department not in reference.departments:
        errors["department"] = "choice"
    district = _text(payload, "district", errors, limit=32, required=True)
    if district is not None and district not in reference.districts:
        errors["district"] = "choice"
    description = _text(payload, "description", errors, limit=DESCRIPTION_MAX, required=True)

    occurred_on = None
    raw_date = payload.get("occurred_on")
    if raw_date not in (None, ""):
        try:
            if not isinstance(raw_date, str):
                raise TypeError
            occurred_on = date.fromisoformat(raw_date)
        except (TypeError, ValueError):
            errors["occurred_on"] = "date"
        else:
            if occurred_on > today:
                errors["occurred_on"] = "future"

    amount_fen = None
    raw_amount = payload.get("amount_yuan")
    if raw_amount not in (None, ""):
        amount_fen = parse_amount_fen(raw_amount)
        if amount_fen is None:
            errors["amount_yuan"] = "amount"

    real_name = payload.get("real_name")
    if not isinstance(real_name, bool):
        errors["real_name"] = "required" if real_name is None else "type"
    confidential = payload.get("confidential", True)
    if not isinstance(confidential, bool):
        errors["confidential"] = "type"

    identity = None
    raw_identity = payload.get("identity")
    if real_name is True:
        if raw_identity is None:
            errors["identity"] = "required"
        else:
            identity = _identity(raw_identity, errors)
    elif real_name is False and raw_identity not in (None, {}):
        errors["identity"] = "anonymous"

    exclusions = payload.get("exclusions")
    codes = list(reference.exclusions)
    if exclusions is None:
        errors["exclusions"] = "required"
    elif not isinstance(exclusions, Mapping):
        errors["exclusions"] = "type"
    else:
        for code in codes:
            if not isinstance(exclusions.get(code), bool):
                errors[f"exclusions.{code}"] = "required"
        for key in set(exclusions) - set(codes):
            errors[f"exclusions.{key}"] = "unknown"

    if payload.get("pledge") is not True:
        errors["pledge"] = "pledge"

    notify_email = _text(payload, "notify_email", errors, limit=254, required=False)
    if notify_email is not None:
        notify_email = normalise_email(notify_email)
        if notify_email is None:
            errors["notify_email"] = "email"

    source_tag = _text(payload, "source_tag", errors, limit=40, required=False)

    if errors or category is None or agency is None or district is None or description is None:
        raise ValidationFailed(errors)
    return Draft(
        category=category, agency=agency, district=district, description=description,
        real_name=bool(real_name), situations=situations, department=department,
        occurred_on=occurred_on, amount_fen=amount_fen, confidential=bool(confidential),
        identity=identity, notify_email=notify_email, source_tag=source_tag,
    )
