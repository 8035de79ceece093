"""Mobile numbers, credit codes (GB 32100-2015), amounts."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.validators import (
    CREDIT_ALPHABET,
    credit_code_check_char,
    is_credit_code,
    is_mainland_mobile,
    parse_amount_fen,
)


@pytest.mark.parametrize("number", ["13857001234", "+86 138 5700 1234", "199-1234-5678"])
def test_mainland_mobiles_accepted(number):
    assert is_mainland_mobile(number)


@pytest.mark.parametrize("number", ["12857001234", "1385700123", "0580-12345", "abc"])
def test_other_numbers_refused(number):
    assert not is_mainland_mobile(number)


def test_published_credit_code_validates():
    # A code as printed on a real business licence (check digit 3).
    assert is_credit_code("91350100M000100Y43")
    assert is_credit_code("91350100m000100y43")


def test_wrong_check_digit_refused():
    assert not is_credit_code("91350100M000100Y44")
    assert not is_credit_code("91350100M000100Y4")
    assert not is_credit_code("91350100M000100YI3")  # I is not in the alphabet


@given(st.text(alphabet=CREDIT_ALPHABET, min_size=17, max_size=17))
def test_any_code_with_its_check_char_validates(first17):
    assert is_credit_code(first17 + credit_code_check_char(first17))


@pytest.mark.parametrize(("text", "fen"), [("0", 0), ("5000", 500000), ("12.5", 1250),
                                           ("0.01", 1), ("1,234.56", 123456)])
def test_amounts(text, fen):
    assert parse_amount_fen(text) == fen


@pytest.mark.parametrize("text", ["-1", "1.234", "abc", "NaN", "Infinity", "1e30", True])
def test_bad_amounts(text):
    assert parse_amount_fen(text) is None


@given(st.one_of(st.text(max_size=30), st.floats(allow_nan=True), st.integers()))
def test_amount_parser_never_crashes(value):
    result = parse_amount_fen(value)
    assert result is None or result >= 0
