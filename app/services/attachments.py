"""Evidence attachments: checked, stripped of metadata, encrypted, stored; opened on demand.

From any door (public form, status reply, API, console entry) the same steps:
every file's size and real type is checked first, and all problems are
reported together; then each file is copied without its metadata
(app/uploads/scrub.py) straight into chunked AES-GCM (security/filecrypt.py)
under ``JIDU_DATA_DIR/attachments/<random name>``. The file's own key and
the name the reporter gave it are sealed together for the evidence keypair
(services/evidence_keys.py), in the envelope format of identities, bound to
the clue and the stored file. Nothing is kept unless the clue (or reply) is
committed: files written for a refused or failed submission are deleted.

Opening one needs the evidence passphrase, typed for that one download, and
is an audited event. There is no two-person rule as for identities: evidence
is what the clue is about, and liaisons need it to check the facts.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, cast

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from sqlalchemy import func, select

from app.models import Attachment, Clue
from app.security import envelope, filecrypt, keystore
from app.services import audit, evidence_keys
from app.services.errors import DomainError, NotFound
from app.services.types import DbSession
from app.uploads import scrub
from app.uploads.sniff import FileType, Refused, sniff

FOLDER = "attachments"
NAME_MAX = 200
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")
_STORAGE_NAME = re.compile(r"^[0-9a-f]{32}$")
#: A file without a row may belong to a submission still being stored; one
#: older than this cannot (gunicorn ends a request after JIDU_WEB_TIMEOUT).
ORPHAN_GRACE = timedelta(hours=1)


@dataclass(frozen=True)
class Upload:
    """A file as it came in: the name the sender gave it and a seekable stream."""

    filename: str
    stream: IO[bytes]


@dataclass(frozen=True)
class Policy:
    """Limits and key material, read from configuration by the door."""

    folder: Path
    max_files: int
    max_bytes: int
    max_pixels: int
    public_key: X25519PublicKey | None

    @property
    def max_unzipped(self) -> int:
        # Office files compress text about tenfold; far beyond that is a bomb.
        return max(self.max_bytes * 20, 64 * 1024 * 1024)


@dataclass(frozen=True)
class Problem:
    index: int  # position of the file as sent; -1 for the whole set
    filename: str
    code: str


class AttachmentsRefused(DomainError):
    """One or more files cannot be kept; nothing of the submission is stored."""

    code = "attachment_refused"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("attachments refused: " + ", ".join(p.code for p in problems))
        self.problems = problems


@dataclass
class Prepared:
    """A file already stripped and encrypted on disk, waiting for its row."""

    storage_name: str
    path: Path
    found: FileType
    size_bytes: int
    original_size: int
    removed: list[str]
    filename: str
    key: bytes = field(repr=False)


@dataclass(frozen=True)
class Download:
    filename: str
    mime: str
    size: int
    chunks: Iterator[bytes]


def key_aad(tracking_no: str, storage_name: str) -> bytes:
    """Binds a file's key to its clue and its stored file: it opens nowhere else."""
    return f"jidu clue {tracking_no} attachment {storage_name}".encode()


def clean_name(name: str) -> str:
    """The sender's file name without any path or control characters."""
    base = _UNSAFE.sub("", name.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    return base[-NAME_MAX:] or "file"


def _size(stream: IO[bytes]) -> int:
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def _store(upload: Upload, found: FileType, size: int, policy: Policy) -> Prepared:
    folder = policy.folder
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    storage_name = secrets.token_hex(16)
    path = folder / storage_name
    key = filecrypt.new_key()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as raw:
            writer = filecrypt.EncryptingWriter(raw, key, storage_name)
            try:
                removed = scrub.scrub(found, upload.stream, cast(IO[bytes], writer),
                                      max_pixels=policy.max_pixels,
                                      max_unzipped=policy.max_unzipped)
            except BaseException:
                writer.abandon()
                raise
            stored = writer.tell()
            writer.close()
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Prepared(storage_name, path, found, stored, size, sorted(removed),
                    clean_name(upload.filename), key)


def prepare(uploads: Sequence[Upload], *, policy: Policy) -> list[Prepared]:
    """Check, strip and encrypt every file; raise ``AttachmentsRefused`` listing all problems.

    Sizes and types are checked for all files before any is processed, so a
    reporter learns every problem at once. On any failure no file is left.
    """
    if not uploads:
        return []
    if len(uploads) > policy.max_files:
        raise AttachmentsRefused([Problem(-1, "", "count")])
    if policy.public_key is None:
        raise AttachmentsRefused([Problem(-1, "", "not_configured")])
    problems: list[Problem] = []
    checked: list[tuple[Upload, FileType, int]] = []
    for index, upload in enumerate(uploads):
        size = _size(upload.stream)
        try:
            if size > policy.max_bytes:
                raise Refused("too_large")
            checked.append((upload, sniff(upload.stream), size))
        except Refused as exc:
            problems.append(Problem(index, clean_name(upload.filename), exc.code))
    if problems:
        raise AttachmentsRefused(problems)
    prepared: list[Prepared] = []
    try:
        for index, (upload, found, size) in enumerate(checked):
            try:
                prepared.append(_store(upload, found, size, policy))
            except Refused as exc:
                problems.append(Problem(index, clean_name(upload.filename), exc.code))
        if problems:
            raise AttachmentsRefused(problems)
    except BaseException:
        discard(prepared)
        raise
    return prepared


def discard(prepared: Sequence[Prepared]) -> None:
    """Delete files written for a submission that was not stored."""
    for item in prepared:
        item.path.unlink(missing_ok=True)


def sweep_orphans(session: DbSession, folder: Path, *, now: datetime,
                  grace: timedelta = ORPHAN_GRACE) -> int:
    """Delete files no row points to, left by a process killed between writing a
    submission's files and committing it; returns how many.

    Only files older than ``grace`` before both ``now`` and the newest row are
    touched: a database restored from an older backup, or the wrong (empty)
    database, must never make stored evidence look orphaned.
    """
    newest = session.scalar(select(func.max(Attachment.created_at)))
    if newest is None or not folder.is_dir():
        return 0
    cutoff = (min(now, newest) - grace).timestamp()
    old = sorted(p.name for p in folder.iterdir() if _STORAGE_NAME.match(p.name)
                 and p.is_file() and p.stat().st_mtime < cutoff)
    removed = 0
    for start in range(0, len(old), 500):
        batch = old[start:start + 500]
        kept = set(session.scalars(select(Attachment.storage_name)
                                   .where(Attachment.storage_name.in_(batch))))
        for name in set(batch) - kept:
            (folder / name).unlink(missing_ok=True)
            removed += 1
    return removed


def record(session: DbSession, clue: Clue, prepared: Sequence[Prepared], *,
           public_key: X25519PublicKey, actor: str, now: datetime,
           event_id: int | None = None) -> list[Attachment]:
    """Add the rows for prepared files (the caller commits, or discards on failure)."""
    rows = []
    for item in prepared:
        secret = json.dumps({"k": base64.b64encode(item.key).decode(), "name": item.filename},
                            ensure_ascii=False).encode()
        row = Attachment(
            clue_id=clue.id, event_id=event_id, storage_name=item.storage_name,
            kind=item.found.kind, mime=item.found.mime, extension=item.found.extension,
            size_bytes=item.size_bytes, original_size=item.original_size, removed=item.removed,
            key_sealed=envelope.seal(secret, public_key,
                                     key_aad(clue.tracking_no, item.storage_name)),
            uploaded_by=actor, created_at=now)
        session.add(row)
        rows.append(row)
    return rows


def for_clue(session: DbSession, clue_id: int) -> list[Attachment]:
    return list(session.scalars(select(Attachment).where(Attachment.clue_id == clue_id)
                                .order_by(Attachment.id)))


def download_name(name: str, extension: str) -> str:
    """The sender's name, ending in the extension of what the file really is."""
    stem, dot, suffix = name.rpartition(".")
    same = suffix.lower() in {extension, "jpeg" if extension == "jpg" else extension}
    return name if dot and same else f"{name}.{extension}"


def _chunks(path: Path, key: bytes, storage_name: str) -> Iterator[bytes]:
    with path.open("rb") as source:
        yield from filecrypt.decrypt_chunks(source, key, storage_name)


def open_for_download(session: DbSession, attachment_id: int, *, clue_id: int, actor: str,
                      passphrase: str, folder: Path, now: datetime) -> Download:
    """Unlock the evidence key for this one file and stream it decrypted; audited.

    A wrong passphrase is audited too, then ``keystore.PassphraseError`` is
    raised. The private key lives only in this frame; the file's own key only
    in the returned iterator.
    """
    row = session.get(Attachment, attachment_id)
    clue = session.get(Clue, clue_id)
    if row is None or clue is None or row.clue_id != clue_id:
        raise NotFound("no such attachment")
    target = f"clue:{clue.tracking_no}"
    kid = envelope.Envelope.loads(row.key_sealed).kid
    try:
        private = evidence_keys.unlock(session, kid, passphrase)
    except keystore.PassphraseError:
        audit.record(session, actor=actor, action="attachment.wrong_passphrase", target=target,
                     details={"attachment": row.id}, now=now)
        session.commit()
        raise
    secret = json.loads(envelope.open_sealed(row.key_sealed, private,
                                             key_aad(clue.tracking_no, row.storage_name)))
    del private
    audit.record(session, actor=actor, action="attachment.download", target=target,
                 details={"attachment": row.id, "kind": row.kind, "bytes": row.size_bytes},
                 now=now)
    session.commit()
    key = base64.b64decode(secret["k"])
    return Download(download_name(secret["name"], row.extension), row.mime, row.size_bytes,
                    _chunks(folder / row.storage_name, key, row.storage_name))
