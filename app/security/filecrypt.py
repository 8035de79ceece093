"""Chunked AES-256-GCM for attachments, so that memory stays bounded both ways.

Why: an evidence file may be 20 MB; sealing it in one AES-GCM call would need
the whole plaintext and the whole ciphertext in memory at once, on upload and
again on download. Instead each file gets its own random 256-bit key (which
the caller wraps in a public-key envelope, ``envelope.seal``) and is cut into
fixed-size chunks, each sealed on its own:

    header   = b"JDAT" | version (1 byte, 1) | chunk size (4 bytes, big-endian)
               | nonce prefix (7 random bytes)
    chunk i  = AES-256-GCM(key, nonce = prefix | i (4 bytes) | final (1 byte),
                           data = chunk, aad = header | file id)

This is the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár): the
counter in the nonce stops chunks being reordered or dropped, the final flag
stops a file being cut short at a chunk boundary, the header in the associated
data stops the chunk size being changed, and the file id (the random name the
file is stored under) stops a file being swapped for another's. The last chunk
is the only one shorter than the chunk size; an empty file is one empty final
chunk. Pure: no Flask, no database.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"JDAT"
VERSION = 1
CHUNK = 64 * 1024
TAG = 16
_HEADER = struct.Struct(">4sBI7s")
HEADER_SIZE = _HEADER.size


class FileCryptError(ValueError):
    """The file is not ours, was altered, cut short, or the key is wrong."""


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def _nonce(prefix: bytes, index: int, final: bool) -> bytes:
    if index >= 2**32:
        raise FileCryptError("file too large for one key")
    return prefix + struct.pack(">IB", index, 1 if final else 0)


class EncryptingWriter(io.RawIOBase):
    """A write-only stream that seals what is written, a chunk at a time.

    At most one chunk of plaintext is held. ``tell()`` counts plaintext bytes,
    which is what writers of PDF and zip files need to record offsets; it is
    not seekable, so ``zipfile`` uses data descriptors. ``close()`` writes the
    final chunk; a writer that is discarded without ``close()`` leaves a file
    that does not open (no final chunk), which is the safe failure.
    """

    def __init__(self, target: BinaryIO, key: bytes, file_id: str,
                 chunk_size: int = CHUNK) -> None:
        super().__init__()
        self._target = target
        self._aead = AESGCM(key)
        self._prefix = os.urandom(7)
        self._chunk = chunk_size
        header = _HEADER.pack(MAGIC, VERSION, chunk_size, self._prefix)
        self._aad = header + file_id.encode()
        target.write(header)
        self._buffer = bytearray()
        self._index = 0
        self._written = 0
        self.ciphertext_size = HEADER_SIZE

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        if self.closed:
            raise ValueError("write to a closed attachment writer")
        view = memoryview(data).cast("B")
        self._written += len(view)
        # Keep back a full chunk: only close() knows which chunk is final.
        # Whole chunks are sealed straight from ``view``: pypdf writes a
        # scanned page's stream in one call, and copying it into the buffer
        # first held the file twice over (three times while the buffer shrank).
        position = 0
        while len(self._buffer) + len(view) - position > self._chunk:
            if self._buffer:  # top up what an earlier write left
                position = self._chunk - len(self._buffer)
                self._buffer += view[:position]
                self._emit(bytes(self._buffer), final=False)
                self._buffer.clear()
            else:
                self._emit(view[position:position + self._chunk], final=False)
                position += self._chunk
        self._buffer += view[position:]
        return len(view)

    def tell(self) -> int:
        return self._written

    def seekable(self) -> bool:
        return False

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        raise io.UnsupportedOperation("attachment writer is not seekable")

    def _emit(self, chunk: bytes | memoryview, *, final: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._prefix, self._index, final), chunk, self._aad)
        self._target.write(sealed)
        self.ciphertext_size += len(sealed)
        self._index += 1

    def abandon(self) -> None:
        """Close without the final chunk: what was written will never open."""
        self._buffer = bytearray()
        super().close()

    def close(self) -> None:
        if not self.closed:
            self._emit(bytes(self._buffer), final=True)
            self._buffer = bytearray()
            self._target.flush()
        super().close()


def decrypt_chunks(source: BinaryIO, key: bytes, file_id: str) -> Iterator[bytes]:
    """Yield the plaintext a chunk at a time; raises ``FileCryptError`` on any tampering.

    A chunk is released only after its tag has been checked, so a caller
    never sees unauthenticated bytes; a file cut short fails at its end.
    """
    header = source.read(HEADER_SIZE)
    try:
        magic, version, chunk_size, prefix = _HEADER.unpack(header)
    except struct.error as exc:
        raise FileCryptError("not an attachment file") from exc
    if magic != MAGIC or version != VERSION or not 0 < chunk_size <= 16 * 1024 * 1024:
        raise FileCryptError("not an attachment file of a known version")
    aead = AESGCM(key)
    aad = header + file_id.encode()
    block = chunk_size + TAG
    index = 0
    current = source.read(block)
    while True:
        following = source.read(block) if len(current) == block else b""
        final = not following
        try:
            yield aead.decrypt(_nonce(prefix, index, final), current, aad)
        except InvalidTag as exc:
            raise FileCryptError("attachment altered, cut short or wrong key") from exc
        if final:
            return
        current, index = following, index + 1
