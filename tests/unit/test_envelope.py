"""Envelopes: only the private key opens them, and only in their own place."""

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from app.security import envelope, keystore

AAD = b"jidu clue JD-TEST-0001 identity"


def test_seal_and_open_round_trip():
    private = X25519PrivateKey.generate()
    sealed = envelope.seal("林晓梅 13857001234".encode(), private.public_key(), AAD)
    assert "林晓梅".encode() not in sealed.encode()
    assert "13857001234" not in sealed
    assert envelope.open_sealed(sealed, private, AAD).decode() == "林晓梅 13857001234"


def test_envelope_is_versioned_and_names_its_key():
    private = X25519PrivateKey.generate()
    raw = json.loads(envelope.seal(b"x", private.public_key(), AAD))
    assert raw["v"] == 1
    assert raw["kid"] == envelope.key_id(private.public_key())


def test_other_key_cannot_open():
    private, stranger = X25519PrivateKey.generate(), X25519PrivateKey.generate()
    sealed = envelope.seal(b"secret", private.public_key(), AAD)
    with pytest.raises(envelope.EnvelopeError):
        envelope.open_sealed(sealed, stranger, AAD)


def test_envelope_moved_to_another_clue_does_not_open():
    private = X25519PrivateKey.generate()
    sealed = envelope.seal(b"secret", private.public_key(), AAD)
    with pytest.raises(envelope.EnvelopeError):
        envelope.open_sealed(sealed, private, b"jidu clue JD-OTHER-0002 identity")


def test_tampered_ciphertext_is_refused():
    private = X25519PrivateKey.generate()
    raw = json.loads(envelope.seal(b"secret", private.public_key(), AAD))
    raw["ct"] = raw["ct"][:-4] + ("AAAA" if raw["ct"][-4:] != "AAAA" else "BBBB")
    with pytest.raises(envelope.EnvelopeError):
        envelope.open_sealed(json.dumps(raw), private, AAD)


def test_malformed_and_unknown_versions_are_refused():
    private = X25519PrivateKey.generate()
    with pytest.raises(envelope.EnvelopeError):
        envelope.open_sealed("not json", private, AAD)
    raw = json.loads(envelope.seal(b"x", private.public_key(), AAD))
    raw["v"] = 2
    with pytest.raises(envelope.EnvelopeError):
        envelope.open_sealed(json.dumps(raw), private, AAD)


def test_rewrap_keeps_ciphertext_and_moves_to_new_key():
    old, new = X25519PrivateKey.generate(), X25519PrivateKey.generate()
    sealed = envelope.seal(b"secret", old.public_key(), AAD)
    moved = envelope.rewrap(sealed, old, new.public_key())
    assert json.loads(moved)["ct"] == json.loads(sealed)["ct"]
    assert envelope.open_sealed(moved, new, AAD) == b"secret"
    with pytest.raises(envelope.EnvelopeError):
        envelope.open_sealed(moved, old, AAD)


def test_private_key_is_kept_only_under_the_passphrase():
    public, protected = keystore.generate("a long passphrase", log2n=10)
    assert json.loads(protected)["kdf"] == "scrypt"
    private = keystore.unlock(protected, "a long passphrase")
    assert envelope.key_id(private.public_key()) == envelope.key_id(public)
    with pytest.raises(keystore.PassphraseError):
        keystore.unlock(protected, "a wrong passphrase")


def test_short_passphrase_refused():
    with pytest.raises(keystore.PassphraseError):
        keystore.generate("short", log2n=10)
