"""Receipts: enough entropy, readable aloud, forgiving on input, hashed with a named key."""

import math

from hypothesis import given
from hypothesis import strategies as st

from app.security import receipts


def test_receipt_has_at_least_80_bits_and_no_lookalikes():
    receipt = receipts.new_receipt()
    raw = receipt.replace("-", "")
    assert len(raw) * math.log2(len(receipts.ALPHABET)) >= 80
    assert not set(raw) & set("ILOU")
    assert all(len(group) == 4 for group in receipt.split("-"))


def test_receipts_differ():
    assert len({receipts.new_receipt() for _ in range(500)}) == 500


def test_typed_variants_normalise_to_the_same():
    receipt = receipts.new_receipt()
    canonical = receipts.normalise(receipt)
    assert canonical is not None
    spaced = " ".join(receipt.replace("-", "").lower())
    assert receipts.normalise(spaced) == canonical
    assert receipts.normalise(receipt.replace("0", "O").replace("1", "l")) == canonical


def test_wrong_length_or_characters_do_not_normalise():
    assert receipts.normalise("ABCD") is None
    assert receipts.normalise("!" * 20) is None


def test_hash_is_keyed_and_names_its_key():
    digest = receipts.receipt_hash("A" * 20, "key-one")
    assert digest.startswith(f"h1${receipts.key_id('key-one')}$")
    assert digest != receipts.receipt_hash("A" * 20, "key-two")
    assert "A" * 20 not in digest


@given(st.text(max_size=60))
def test_normalise_never_crashes(text):
    result = receipts.normalise(text)
    assert result is None or len(result) == receipts.RECEIPT_CHARS


def test_tracking_numbers_are_short():
    assert len(receipts.new_tracking_no()) == len("JD-XXXX-XXXX")
