"""The encrypted backup archive: one header line, then a tar sealed as one filecrypt stream.

    line 1   = b"JIDU-BACKUP 1 " | JSON (created_at, backend, kid, id) | b"\\n"
    the rest = filecrypt stream (chunked AES-256-GCM, security/filecrypt.py)
               of an uncompressed tar, the header line as its file id

Why encrypt a database that seals identities already: the backup also holds
clue text, password hashes, TOTP secrets (in the clear), receipt hashes and
notify addresses under the server's key; a backup leaves the server, onto
other disks and other hands. The key is derived (HKDF-SHA256) from
``JIDU_BACKUP_KEY``, which is kept apart from the backups. The header is the
stream's associated data, so it cannot be changed; every chunk is
authenticated, so a flipped bit, a reordered, dropped or cut-off chunk or a
wrong key is refused before any byte of the tar is used. Uncompressed: the
attachments are ciphertext and a PostgreSQL custom dump compresses itself.
Pure: no Flask, no database.
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

from app.security import filecrypt, serverbox

MAGIC = b"JIDU-BACKUP 1 "
HEADER_LIMIT = 4096
MIN_SECRET = 32


class ArchiveError(ValueError):
    """Not a Jidu backup, made with another key, altered or cut short."""


def derive_key(secret: str | None) -> bytes:
    if not secret or len(secret) < MIN_SECRET:
        raise ArchiveError(f"JIDU_BACKUP_KEY must be set, at least {MIN_SECRET} characters")
    return serverbox.derive_key(secret, "backup")


def key_id(key: bytes) -> str:
    """Names the key in the header without revealing it, so a wrong key is named as such."""
    return hashlib.sha256(b"jidu backup kid\x00" + key).hexdigest()[:12]


@contextmanager
def writing(target: BinaryIO, key: bytes, info: dict[str, Any]) -> Iterator[tarfile.TarFile]:
    """A tar to add members to; sealed as it is written. Nothing readable is left on failure."""
    header = (MAGIC + json.dumps({**info, "kid": key_id(key), "id": secrets.token_hex(12)},
                                 sort_keys=True).encode() + b"\n")
    target.write(header)
    writer = filecrypt.EncryptingWriter(target, key, header.decode())
    try:
        with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            yield tar
    except BaseException:
        writer.abandon()
        raise
    writer.close()


def read_header(source: BinaryIO) -> tuple[dict[str, Any], str]:
    line = source.readline(HEADER_LIMIT)
    if not line.startswith(MAGIC) or not line.endswith(b"\n"):
        raise ArchiveError("not a Jidu backup archive")
    try:
        info = json.loads(line[len(MAGIC):])
    except ValueError as exc:
        raise ArchiveError("the archive's header is damaged") from exc
    if not isinstance(info, dict):
        raise ArchiveError("the archive's header is damaged")
    return info, line.decode()


class _Plaintext(io.RawIOBase):
    """The decrypted stream as a readable file, a chunk at a time."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._left:
            try:
                self._left = next(self._chunks)
            except StopIteration:
                return 0
            except filecrypt.FileCryptError as exc:
                raise ArchiveError("the archive was altered or cut short") from exc
        size = min(len(buffer), len(self._left))
        buffer[:size] = self._left[:size]
        self._left = self._left[size:]
        return size


@contextmanager
def reading(source: BinaryIO, key: bytes) -> Iterator[tuple[dict[str, Any], tarfile.TarFile]]:
    """The header and the tar, members in order (stream mode: each read once)."""
    info, header = read_header(source)
    if info.get("kid") != key_id(key):
        raise ArchiveError(f"the archive was made with another JIDU_BACKUP_KEY (key "
                           f"{info.get('kid')}, this one is {key_id(key)})")
    plain = io.BufferedReader(_Plaintext(filecrypt.decrypt_chunks(source, key, header)),
                              buffer_size=filecrypt.CHUNK)
    try:
        with tarfile.open(fileobj=plain, mode="r|") as tar:
            yield info, tar
        # Read to the end, so that the last chunks are authenticated too and
        # an archive cut short after the tar's end is still refused.
        while plain.read(filecrypt.CHUNK):
            pass
    except tarfile.TarError as exc:
        raise ArchiveError(f"the archive's contents are damaged ({exc})") from exc
