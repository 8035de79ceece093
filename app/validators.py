"""Pure checks of reporter input, shared by the web form and the API."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from email_validator import EmailNotValidError, validate_email

# [0-9], not \d: \d also matches Arabic-Indic and other Unicode digits.
MOBILE = re.compile(r"1[3-9][0-9]{9}")

# GB 32100-2015 统一社会信用代码: 18 characters from this alphabet (no I, O,
# S, V, Z); the last is a check character, weighted modulo 31.
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def normalise_mobile(text: str) -> str:
    digits = re.sub(r"[\s\-()（）]", "", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits


def is_mainland_mobile(text: str) -> bool:
    return bool(MOBILE.fullmatch(normalise_mobile(text)))


def credit_code_check_char(first17: str) -> str:
    pairs = zip(first17, CREDIT_WEIGHTS, strict=True)
    total = sum(CREDIT_ALPHABET.index(ch) * weight for ch, weight in pairs)
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def is_credit_code(text: str) -> bool:
    code = text.strip().upper()
    if len(code) != 18 or any(ch not in CREDIT_ALPHABET for ch in code):
        return False
    return credit_code_check_char(code[:17]) == code[17]


def normalise_email(text: str) -> str | None:
    """The normalised address, or None if it is not a valid e-mail address."""
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def parse_amount_fen(value: object) -> int | None:
    """Yuan (≥ 0, at most two decimals) to integer fen; None if invalid."""
    if isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", "").replace("，", ""))
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
        return None
    if amount != amount.quantize(Decimal("0.01")):
        return None
    return int(amount * 100)
