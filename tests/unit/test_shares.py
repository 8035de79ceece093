"""M-of-N shares of a key's passphrase (security/shares.py) and the keystore that takes them."""

from itertools import combinations, permutations

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from shamir_mnemonic.wordlist import WORDLIST

from app.security import envelope, keystore, shares

sizes = st.integers(min_value=2, max_value=6).flatmap(
    lambda n: st.tuples(st.integers(min_value=2, max_value=n), st.just(n)))


@settings(max_examples=25, deadline=None)
@given(sizes)
def test_any_threshold_of_the_shares_recovers_and_fewer_never_do(size):
    threshold, count = size
    dealt = shares.split(threshold, count)
    assert len(dealt.shares) == count
    assert len(set(dealt.shares)) == count
    for chosen in combinations(dealt.shares, threshold):
        assert shares.combine(chosen) == dealt.passphrase
    for chosen in combinations(dealt.shares, threshold - 1):
        with pytest.raises(shares.SharesError, match=f"{threshold} different shares"):
            shares.combine(chosen)
        # A repeated share is still one custodian.
        with pytest.raises(shares.SharesError, match="needed"):
            shares.combine([*chosen, chosen[0]])


def test_order_and_extra_shares_do_not_matter():
    dealt = shares.split(3, 5)
    for chosen in permutations(dealt.shares, 4):
        assert shares.combine(chosen) == dealt.passphrase
    shouted = [s.upper().replace(" ", "  ") for s in dealt.shares[:3]]
    assert shares.combine(shouted) == dealt.passphrase


def test_every_split_is_a_fresh_random_secret():
    first, second = shares.split(2, 3), shares.split(2, 3)
    assert first.passphrase != second.passphrase
    assert len(first.passphrase) >= keystore.MIN_PASSPHRASE
    assert all(len(s.split()) == shares.SHARE_WORDS for s in first.shares)


def test_shares_of_different_splits_are_refused_together():
    first, second = shares.split(2, 3), shares.split(2, 3)
    if first.identifier == second.identifier:  # 1 in 32,768: deal again
        second = shares.split(2, 3)
    with pytest.raises(shares.SharesError, match="different splits"):
        shares.combine([first.shares[0], second.shares[1]])
    with pytest.raises(shares.SharesError, match="but the key was split as"):
        shares.combine(first.shares[:2], identifier=second.identifier)


def test_a_mistyped_share_is_named_not_silently_wrong():
    dealt = shares.split(2, 3)
    words = dealt.shares[0].split()
    # RS1024 detects any error in up to three words; here one word is another valid one.
    other = WORDLIST[(WORDLIST.index(words[5]) + 1) % len(WORDLIST)]
    mistyped = " ".join([*words[:5], other, *words[6:]])
    with pytest.raises(shares.SharesError, match="checksum"):
        shares.combine([mistyped, dealt.shares[1]])
    with pytest.raises(shares.SharesError, match="not a share word"):
        shares.combine([dealt.shares[0].replace(words[3], "xyzzy", 1), dealt.shares[1]])
    with pytest.raises(shares.SharesError, match="20 words"):
        shares.combine([" ".join(words[:19]), dealt.shares[1]])


@pytest.mark.parametrize(("threshold", "count"), [(1, 3), (4, 3), (2, 17)])
def test_impossible_splits_are_refused(threshold, count):
    with pytest.raises(shares.SharesError):
        shares.split(threshold, count)


def test_shares_are_read_from_files_and_fields():
    dealt = shares.split(2, 3)
    written = f"# Jidu key 1234: share 1 of 3\n{dealt.shares[0]}\n\n{dealt.shares[1]}\n"
    assert shares.from_text(written) == list(dealt.shares[:2])
    assert shares.from_text(" ".join(dealt.shares[1:])) == list(dealt.shares[1:])
    assert shares.from_text("correct horse battery staple") is None
    assert shares.from_text(dealt.shares[0] + " academic") is None
    assert shares.from_text("") is None


def test_a_split_key_opens_with_its_shares_only():
    private = X25519PrivateKey.generate()
    protected, info, dealt = keystore.protect_split(private, 2, 3, log2n=10)
    assert keystore.split_of(protected) == info
    assert (info.threshold, info.count) == (2, 3)
    opened = keystore.unlock(protected, keystore.Shares(dealt[1:]))
    assert envelope.key_id(opened.public_key()) == envelope.key_id(private.public_key())
    # Typed into a passphrase field, one after another.
    assert keystore.unlock(protected, f"{dealt[2]} {dealt[0]}") is not None
    with pytest.raises(keystore.PassphraseError, match="needed"):
        keystore.unlock(protected, keystore.Shares(dealt[:1]))
    with pytest.raises(keystore.PassphraseError, match="wrong shares"):
        keystore.unlock(protected, "a guessed passphrase")
    other = keystore.protect_split(private, 2, 3, log2n=10)[2]
    with pytest.raises(keystore.PassphraseError):
        keystore.unlock(protected, keystore.Shares(other[:2]))


def test_a_passphrase_key_refuses_shares_and_a_destroyed_key_refuses_everything():
    public, protected = keystore.generate("a long passphrase", log2n=10)
    assert keystore.split_of(protected) is None
    dealt = shares.split(2, 2)
    with pytest.raises(keystore.PassphraseError, match="not split"):
        keystore.unlock(protected, keystore.Shares(dealt.shares))
    assert keystore.is_destroyed(keystore.DESTROYED)
    with pytest.raises(keystore.PassphraseError, match="destroyed"):
        keystore.unlock(keystore.DESTROYED, "a long passphrase")
