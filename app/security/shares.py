"""Splitting a key's unlocking secret among custodians, M of N (Shamir, SLIP-39).

Why: one passphrase known to one person lets that person read every identity
alone, and lets the identities be lost with them. Instead, ``split`` makes a
random 128-bit secret that nobody chooses or sees, turns it into the
passphrase under which the private key is stored (security/keystore.py), and
deals it as N shares of which any M open the key again; fewer than M tell
nothing usable about it.

The sharing is SLIP-39 (``shamir-mnemonic``, the standard's reference
implementation by Trezor), not code of our own: shares are 20 English words
that can be written on paper and read aloud; each carries a checksum (a
mistyped word is named, not silently wrong), the split's random identifier
(shares of two different splits are refused together) and the threshold
(too few shares are refused with the number needed). On combining, a 4-byte
digest of the secret rejects a wrong set before any key derivation. That
digest means M-1 shares narrow the 2^128 possible secrets to about 2^96
equally likely ones: no more checkable than the stored key itself, which
anyone with the database can already test guesses against.

The library says it is not hardened against side channels. Splitting and
combining happen for a second in a command-line process on the server; an
attacker able to time that process could as well read the unlocked private
key from its memory (docs/SECURITY.md, "someone with the running server").
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

import shamir_mnemonic
from shamir_mnemonic.wordlist import WORD_INDEX_MAP

SECRET_BYTES = 16
SHARE_WORDS = 20  # SLIP-39 length for a 128-bit secret
MAX_SHARES = 16  # SLIP-39's limit per group
# No SLIP-39 passphrase: the custodians' protection is the threshold itself,
# and the keystore's scrypt already stretches the recovered secret.
_ITERATION_EXPONENT = 0
_PASSPHRASE_PREFIX = "slip39-"  # noqa: S105 (a label, not a secret)


class SharesError(ValueError):
    """Shares that are malformed, too few, or not of one split."""


@dataclass(frozen=True)
class Split:
    """A fresh split: the passphrase to protect a key with, and its shares (shown once)."""

    identifier: int
    threshold: int
    shares: tuple[str, ...]
    passphrase: str


@dataclass(frozen=True)
class ShareInfo:
    identifier: int
    number: int  # 1-based, as printed on the share
    threshold: int


def _passphrase(secret: bytes) -> str:
    return _PASSPHRASE_PREFIX + secret.hex()


def split(threshold: int, count: int) -> Split:
    """A new random secret dealt as ``count`` shares, any ``threshold`` of which recover it."""
    if not 2 <= threshold <= count <= MAX_SHARES:
        raise SharesError(f"need 2 <= threshold <= shares <= {MAX_SHARES}, "
                          f"not {threshold} of {count}")
    secret = secrets.token_bytes(SECRET_BYTES)
    (group,) = shamir_mnemonic.generate_mnemonics(
        1, [(threshold, count)], secret, iteration_exponent=_ITERATION_EXPONENT)
    identifier = shamir_mnemonic.Share.from_mnemonic(group[0]).identifier
    return Split(identifier, threshold, tuple(group), _passphrase(secret))


def normalise(share: str) -> str:
    return " ".join(share.lower().split())


def info(share: str) -> ShareInfo:
    """What a share says about itself; raises ``SharesError`` if it is mistyped."""
    words = normalise(share).split()
    unknown = [w for w in words if w not in WORD_INDEX_MAP]
    if unknown:
        raise SharesError(f"not a share word: {unknown[0]!r}")
    if len(words) != SHARE_WORDS:
        raise SharesError(f"a share has {SHARE_WORDS} words, this one {len(words)}")
    try:
        parsed = shamir_mnemonic.Share.from_mnemonic(" ".join(words))
    except shamir_mnemonic.MnemonicError as exc:
        raise SharesError("a share is mistyped (its checksum does not match)") from exc
    return ShareInfo(parsed.identifier, parsed.index + 1, parsed.member_threshold)


def combine(shares: Iterable[str], *, identifier: int | None = None) -> str:
    """The passphrase dealt by ``split``, from at least its threshold of shares.

    Refuses, each with its own message: a mistyped share; shares of
    different splits (or of another split than ``identifier``, the one the
    key was protected with); fewer shares than the threshold. Repeated
    shares count once; beyond the threshold, the first ones are used.
    """
    distinct: dict[int, str] = {}
    infos: list[ShareInfo] = []
    for share in shares:
        found = info(share)
        infos.append(found)
        distinct.setdefault(found.number, normalise(share))
    if not infos:
        raise SharesError("no shares given")
    splits = {i.identifier for i in infos}
    if len(splits) > 1:
        raise SharesError("the shares come from different splits")
    if identifier is not None and splits != {identifier}:
        raise SharesError(f"these shares are of split {splits.pop()}, "
                          f"but the key was split as {identifier}")
    threshold = infos[0].threshold
    if len(distinct) < threshold:
        raise SharesError(f"{threshold} different shares are needed, {len(distinct)} given")
    chosen = [distinct[n] for n in sorted(distinct)[:threshold]]
    try:
        secret = shamir_mnemonic.combine_mnemonics(chosen)
    except shamir_mnemonic.MnemonicError as exc:
        raise SharesError("the shares do not fit together") from exc
    return _passphrase(secret)


_COMMENT = re.compile(r"#.*$", re.MULTILINE)


def from_text(text: str) -> list[str] | None:
    """Shares written one after another (files, a form field), or None if ``text`` is not.

    Lines starting with ``#`` are comments. Words are grouped by SHARE_WORDS,
    so shares may be on separate lines or on one.
    """
    words = _COMMENT.sub("", text).lower().split()
    if not words or len(words) % SHARE_WORDS or any(w not in WORD_INDEX_MAP for w in words):
        return None
    return [" ".join(words[i:i + SHARE_WORDS]) for i in range(0, len(words), SHARE_WORDS)]
