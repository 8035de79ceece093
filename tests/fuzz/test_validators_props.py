"""Property tests for every validator of reporter and hotline input.

Each property says what must hold for any input: the checks never raise
anything but the domain's refusal (``ValidationFailed``, ``None``, or a
``ValueError`` where that is the contract), valid input comes back as typed,
and normalisation is idempotent. Pure except ``submission.validate``, which
reads the reference tables (so it runs on SQLite and PostgreSQL).
"""

from __future__ import annotations

import string
from datetime import UTC, date, datetime, timedelta, timezone

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.extensions import db
from app.reference import CATEGORIES, DEPARTMENTS, DISTRICTS, EXCLUSIONS
from app.security import receipts
from app.services import hotline, submission
from app.services.errors import ValidationFailed
from app.timeutil import local_today
from app.validators import (
    CREDIT_ALPHABET,
    credit_code_check_char,
    is_credit_code,
    is_mainland_mobile,
    normalise_email,
    normalise_mobile,
    parse_amount_fen,
)
from tests.fuzz import refusal

SHARED = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)

# Anything a JSON body can hold (Python's parser accepts NaN and Infinity too).
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=4),
    max_leaves=12)
# Text a person could type: no surrogates, no control characters.
TYPED = st.characters(blacklist_categories=("Cs", "Cc"))
SEPARATORS = st.sampled_from(["", " ", "-", "  ", "\t", "（", "）", "(", ")"])
CATEGORY_CODES = [c[0] for c in CATEGORIES]
SITUATIONS = {c[0]: [s[0] for s in c[3]] for c in CATEGORIES}
DISTRICT_CODES = [d[0] for d in DISTRICTS]
DEPARTMENT_CODES = [d[0] for d in DEPARTMENTS]


def typed_text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(TYPED, min_size=1, max_size=max_size).filter(lambda s: s.strip() != "")


@st.composite
def mobiles(draw: st.DrawFn) -> tuple[str, str]:
    """(as typed, the eleven digits): spaces, hyphens, brackets, +86 or 0086."""
    digits = "1" + draw(st.sampled_from("3456789")) + draw(
        st.text(string.digits, min_size=9, max_size=9))
    prefix = draw(st.sampled_from(["", "+86", "0086", "+86 "]))
    cuts = sorted(draw(st.lists(st.integers(1, 10), max_size=3)))
    typed, start = prefix, 0
    for cut in cuts:
        typed += digits[start:cut] + draw(SEPARATORS)
        start = cut
    return typed + digits[start:], digits


@st.composite
def credit_codes(draw: st.DrawFn) -> str:
    first17 = draw(st.text(CREDIT_ALPHABET, min_size=17, max_size=17))
    return first17 + credit_code_check_char(first17)


# --- app/validators.py -------------------------------------------------------

@SHARED
@given(text=st.one_of(st.text(max_size=40), mobiles().map(lambda pair: pair[0]),
                     st.from_regex(r"\A(\+86)?1[3-9]\d{9}\s?\Z")))
def test_mobile_check_never_raises_and_accepts_only_eleven_ascii_digits(text, tally):
    tally["tried"] += 1
    normal = normalise_mobile(text)
    if is_mainland_mobile(text):
        tally["accepted"] += 1
        assert normal.isascii()
        assert normal.isdigit()
        assert len(normal) == 11
        assert normalise_mobile(normal) == normal
    else:
        tally["refused"] += 1


@SHARED
@given(typed_digits=mobiles())
def test_a_mobile_as_people_write_it_is_accepted_and_normalised(typed_digits, tally):
    typed, digits = typed_digits
    tally["tried"] += 1
    assert is_mainland_mobile(typed), typed
    assert normalise_mobile(typed) == digits
    tally["round-tripped"] += 1


@SHARED
@given(code=credit_codes(), case=st.sampled_from([str.upper, str.lower]),
       pad=st.sampled_from(["", " ", "\t"]), wrong=st.sampled_from(CREDIT_ALPHABET))
def test_credit_codes_with_their_check_char_and_only_those(code, case, pad, wrong, tally):
    tally["tried"] += 1
    assert is_credit_code(pad + case(code) + pad)
    if wrong != code[-1]:
        assert not is_credit_code(code[:-1] + wrong)
        tally["wrong check char refused"] += 1


@SHARED
@given(text=st.one_of(st.text(max_size=30), credit_codes().map(lambda c: c[:-1] + "Z"),
                     credit_codes(), st.text(CREDIT_ALPHABET + "iosvz ", max_size=20)))
def test_credit_code_check_never_raises(text, tally):
    tally["tried"] += 1
    tally["accepted" if is_credit_code(text) else "refused"] += 1


@SHARED
@given(text=st.one_of(st.emails(), st.text(max_size=60)))
def test_email_normalisation_never_raises_and_is_idempotent(text, tally):
    tally["tried"] += 1
    normal = normalise_email(text)
    if normal is None:
        tally["refused"] += 1
        return
    tally["accepted"] += 1
    assert normalise_email(normal) == normal


@SHARED
@given(value=st.one_of(st.text(max_size=30), st.integers(-(10**30), 10**30),
                 st.floats(allow_nan=True, allow_infinity=True), st.decimals(),
                 st.none(), st.booleans(), st.lists(st.integers(), max_size=2)))
def test_amount_parser_returns_fen_in_range_or_none(value, tally):
    tally["tried"] += 1
    fen = parse_amount_fen(value)
    tally["refused" if fen is None else "accepted"] += 1
    assert fen is None or 0 <= fen < 10**14


@SHARED
@given(fen=st.integers(0, 10**14 - 1), commas=st.booleans(), wide=st.booleans())
def test_amounts_round_trip_through_their_written_form(fen, commas, wide, tally):
    tally["tried"] += 1
    tally["round-tripped"] += 1
    yuan, cents = divmod(fen, 100)
    written = f"{yuan:,}" if commas else str(yuan)
    if wide:
        written = written.replace(",", "，")
    assert parse_amount_fen(f"{written}.{cents:02d}") == fen
    if cents == 0:
        assert parse_amount_fen(yuan) == fen
    assert parse_amount_fen(f"-{yuan}.{cents:02d}") in (None, 0)


# --- app/security/receipts.py ----------------------------------------------------

@SHARED
@given(text=st.one_of(st.text(max_size=60),
                     st.text(receipts.ALPHABET + "ilou -\u3000", min_size=18, max_size=30),
                     st.text(receipts.ALPHABET, min_size=20, max_size=20).map(
                         receipts.format_receipt)))
def test_receipt_normalisation_never_raises_and_is_idempotent(text, tally):
    tally["tried"] += 1
    normal = receipts.normalise(text)
    if normal is None:
        tally["not a receipt"] += 1
        return
    tally["receipt"] += 1
    assert len(normal) == receipts.RECEIPT_CHARS
    assert receipts.normalise(normal) == normal
    assert receipts.normalise(receipts.format_receipt(normal)) == normal


@SHARED
@given(raw=st.text(receipts.ALPHABET, min_size=20, max_size=20), data=st.data())
def test_a_receipt_read_aloud_or_retyped_finds_the_same_hash(raw, data, tally):
    tally["tried"] += 1
    typed = ""
    for ch in receipts.format_receipt(raw):
        ch = {"0": data.draw(st.sampled_from("0Oo")),
              "1": data.draw(st.sampled_from("1IiLl"))}.get(ch, ch)
        typed += data.draw(st.sampled_from([ch, ch.lower()])) + data.draw(
            st.sampled_from(["", "", " ", "-", "\u3000"]))
    assert receipts.normalise(typed) == raw
    assert receipts.receipt_hash(receipts.normalise(typed) or "", "k") == \
        receipts.receipt_hash(raw, "k")
    tally["same hash"] += 1


# --- app/services/submission.py ----------------------------------------------------

@st.composite
def valid_payloads(draw: st.DrawFn) -> dict:
    category = draw(st.sampled_from(CATEGORY_CODES))
    payload = {
        "category": category,
        "situations": draw(st.lists(st.sampled_from(SITUATIONS[category]), max_size=3)),
        "agency": draw(typed_text(submission.AGENCY_MAX)),
        "district": draw(st.sampled_from(DISTRICT_CODES)),
        "description": draw(typed_text(600) | st.just("长" * submission.DESCRIPTION_MAX)),
        "real_name": draw(st.booleans()),
        "exclusions": {e[0]: False for e in EXCLUSIONS},
        "pledge": True,
    }
    if draw(st.booleans()):
        payload["occurred_on"] = draw(st.dates(date(1990, 1, 1), local_today())).isoformat()
    if draw(st.booleans()):
        fen = draw(st.integers(0, 10**14 - 1))
        payload["amount_yuan"] = f"{fen // 100}.{fen % 100:02d}"
    if draw(st.booleans()):
        payload["department"] = draw(st.sampled_from(DEPARTMENT_CODES))
    if draw(st.booleans()):
        payload["confidential"] = draw(st.booleans())
    if payload["real_name"]:
        payload["identity"] = {"name": draw(typed_text(submission.NAME_MAX)),
                               "phone": draw(mobiles())[0]}
        if draw(st.booleans()):
            payload["identity"]["credit_code"] = draw(credit_codes())
        if draw(st.booleans()):
            payload["identity"]["email"] = "lin.xm@example.com"
    return payload


def _validate(payload: dict) -> submission.Draft:
    return submission.validate(db.session, payload, today=local_today())


@SHARED
@given(payload=valid_payloads())
def test_valid_submissions_come_back_as_typed(app, payload, tally):
    tally["tried"] += 1
    draft = _validate(payload)
    assert draft.category == payload["category"]
    assert draft.situations == list(dict.fromkeys(payload["situations"]))
    assert draft.agency == payload["agency"].strip()
    assert draft.description == payload["description"].strip()
    assert draft.district == payload["district"]
    assert draft.real_name is payload["real_name"]
    assert draft.confidential is payload.get("confidential", True)
    if "amount_yuan" in payload:
        assert draft.amount_fen == parse_amount_fen(payload["amount_yuan"])
    if payload["real_name"]:
        assert draft.identity is not None
        assert draft.identity.phone == normalise_mobile(payload["identity"]["phone"])
        assert draft.identity.name == payload["identity"]["name"].strip()
    else:
        assert draft.identity is None
    tally["accepted as typed"] += 1


@SHARED
@given(base=valid_payloads(), data=st.data())
def test_any_payload_is_a_draft_or_field_errors_never_a_crash(app, base, data, tally):
    """Valid payloads with fields replaced by any JSON, removed, or added."""
    tally["tried"] += 1
    payload = dict(base)
    for key in data.draw(st.lists(st.sampled_from(sorted(submission.TOP_LEVEL_FIELDS)),
                                  max_size=4)):
        if data.draw(st.booleans()):
            payload[key] = data.draw(JSON)
        else:
            payload.pop(key, None)
    payload.update(data.draw(st.dictionaries(st.text(max_size=8), JSON, max_size=2)))
    if isinstance(payload.get("identity"), dict) and data.draw(st.booleans()):
        payload["identity"] = {**payload["identity"], "phone": data.draw(JSON)}
    refused = refusal(lambda: _validate(payload), ValidationFailed)
    if refused is None:
        tally["accepted"] += 1
    else:
        assert isinstance(refused, ValidationFailed)
        assert refused.fields, "a refusal names the fields"
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in refused.fields.items())
        tally["refused"] += 1


@SHARED
@given(base=valid_payloads(), field=st.sampled_from(["agency", "description"]),
       bad=st.sampled_from(["\x00", "a\x00b", "x" * 5000]))
def test_text_that_cannot_be_stored_is_refused_by_field(app, base, field, bad, tally):
    """NUL (PostgreSQL refuses it in text) and over-long text are field errors."""
    tally["tried"] += 1
    refused = refusal(lambda: _validate({**base, field: bad}), ValidationFailed)
    assert isinstance(refused, ValidationFailed), f"{field}={bad[:10]!r} accepted"
    assert field in refused.fields
    tally["refused"] += 1


# --- app/services/hotline.py validate ----------------------------------------------------

OFFSETS = st.integers(-23 * 60, 23 * 60).map(lambda m: timezone(timedelta(minutes=m)))


@st.composite
def valid_orders(draw: st.DrawFn) -> dict:
    moment = draw(st.datetimes(datetime(1990, 1, 1), datetime(2100, 1, 1), timezones=OFFSETS))
    order = {
        "order_no": draw(st.from_regex(hotline.ORDER_NO, fullmatch=True)),
        "received_at": moment.isoformat(),
        "content": draw(typed_text(400)),
        "district": draw(st.sampled_from(DISTRICT_CODES)),
    }
    if draw(st.booleans()):
        order["hotline_category"] = draw(typed_text(100))
    if draw(st.booleans()):
        order["dispatched_to"] = draw(st.sampled_from(DEPARTMENT_CODES))
    if draw(st.booleans()):
        order["disputed"] = draw(st.booleans())
    if draw(st.booleans()):
        order["caller"] = {"name": draw(typed_text(50)), "phone": "0580-2281234"}
    return order


def _order(raw: dict) -> hotline.OrderInput:
    return hotline.validate(None, raw, districts=set(DISTRICT_CODES),
                            departments=set(DEPARTMENT_CODES))


@SHARED
@given(raw=valid_orders())
def test_valid_orders_come_back_as_sent_with_a_stable_fingerprint(raw, tally):
    tally["tried"] += 1
    order = _order(raw)
    assert order.order_no == raw["order_no"]
    assert order.received_at == datetime.fromisoformat(raw["received_at"]).astimezone(UTC)
    assert order.content == raw["content"].strip()
    assert order.disputed is raw.get("disputed", False)
    again = _order(dict(raw))
    assert hotline.fingerprint(order, "k") == hotline.fingerprint(again, "k")
    tally["accepted as sent"] += 1


@SHARED
@given(base=valid_orders(), data=st.data())
def test_any_order_is_valid_or_field_errors_never_a_crash(base, data, tally):
    tally["tried"] += 1
    raw = dict(base)
    for key in data.draw(st.lists(st.sampled_from(hotline.FIELDS), max_size=3)):
        raw[key] = data.draw(JSON | st.datetimes(timezones=OFFSETS).map(datetime.isoformat))
    raw.update(data.draw(st.dictionaries(st.text(max_size=8), JSON, max_size=2)))
    refused = refusal(lambda: _order(raw), ValidationFailed)
    if refused is None:
        tally["accepted"] += 1
    else:
        assert isinstance(refused, ValidationFailed)
        assert refused.fields
        tally["refused"] += 1


@SHARED
@given(moment=st.datetimes(timezones=OFFSETS))
@example(moment=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=8))))
@example(moment=datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))))
def test_any_time_with_an_offset_is_accepted_or_refused_never_a_crash(moment, tally):
    """Year 1 at +14:00 or year 9999 at -12:00 lie outside what UTC can hold."""
    tally["tried"] += 1
    raw = {"order_no": "A1", "received_at": moment.isoformat(), "content": "x",
           "district": "putuo"}
    refused = refusal(lambda: _order(raw), ValidationFailed)
    if refused is None:
        tally["accepted"] += 1
    else:
        assert isinstance(refused, ValidationFailed)
        assert set(refused.fields) == {"received_at"}
        tally["refused"] += 1

