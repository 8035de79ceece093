"""Chunked AES-GCM for attachments: round trips, and every kind of tampering fails."""

from __future__ import annotations

import io
import os

import pytest

from app.security import filecrypt

CHUNK = 1024


def seal(data: bytes, key: bytes, file_id: str = "f1", step: int = 700) -> bytes:
    target = io.BytesIO()
    writer = filecrypt.EncryptingWriter(target, key, file_id, chunk_size=CHUNK)
    for start in range(0, len(data), step):  # by default, writes that straddle chunks
        writer.write(data[start:start + step])
    assert writer.tell() == len(data)
    writer.close()
    return target.getvalue()


def opened(blob: bytes, key: bytes, file_id: str = "f1") -> bytes:
    return b"".join(filecrypt.decrypt_chunks(io.BytesIO(blob), key, file_id))


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 5])
def test_round_trip_at_every_boundary(size):
    key, data = filecrypt.new_key(), os.urandom(size)
    blob = seal(data, key)
    assert opened(blob, key) == data
    chunks = max(1, -(-size // CHUNK))
    assert len(blob) == filecrypt.HEADER_SIZE + size + chunks * filecrypt.TAG


@pytest.mark.parametrize("step", [CHUNK, 2 * CHUNK + 300, 10 * CHUNK])
def test_writes_of_several_chunks_are_sealed_alike(step):
    # pypdf writes a scanned page's stream in one call; the writer seals it
    # in place instead of buffering it, and must cut the same chunks.
    key, data = filecrypt.new_key(), os.urandom(5 * CHUNK + 17)
    blob = seal(data, key, step=step)
    assert opened(blob, key) == data
    assert len(blob) == len(seal(data, key))


def test_plaintext_is_not_in_the_ciphertext():
    key, data = filecrypt.new_key(), b"GPS 29.987 122.201 " * 500
    assert b"GPS" not in seal(data, key)


def test_wrong_key_and_wrong_file_id_fail():
    key, data = filecrypt.new_key(), os.urandom(3000)
    blob = seal(data, key)
    with pytest.raises(filecrypt.FileCryptError):
        opened(blob, filecrypt.new_key())
    with pytest.raises(filecrypt.FileCryptError):
        opened(blob, key, "another-file")


def test_cut_short_at_a_chunk_boundary_fails():
    key = filecrypt.new_key()
    blob = seal(os.urandom(3 * CHUNK + 10), key)
    cut = filecrypt.HEADER_SIZE + 2 * (CHUNK + filecrypt.TAG)
    with pytest.raises(filecrypt.FileCryptError):
        opened(blob[:cut], key)


def test_reordered_chunks_and_flipped_bits_fail():
    key = filecrypt.new_key()
    blob = seal(os.urandom(3 * CHUNK), key)
    head, block = filecrypt.HEADER_SIZE, CHUNK + filecrypt.TAG
    first, second = blob[head:head + block], blob[head + block:head + 2 * block]
    swapped = blob[:head] + second + first + blob[head + 2 * block:]
    with pytest.raises(filecrypt.FileCryptError):
        opened(swapped, key)
    flipped = bytearray(blob)
    flipped[head + 5] ^= 1
    with pytest.raises(filecrypt.FileCryptError):
        opened(bytes(flipped), key)
    with pytest.raises(filecrypt.FileCryptError):
        opened(b"NOPE" + blob[4:], key)


def test_abandoned_writer_leaves_a_file_that_never_opens():
    key, target = filecrypt.new_key(), io.BytesIO()
    writer = filecrypt.EncryptingWriter(target, key, "f1", chunk_size=CHUNK)
    writer.write(os.urandom(2 * CHUNK + 3))
    writer.abandon()
    with pytest.raises(filecrypt.FileCryptError):
        opened(target.getvalue(), key)
