"""What a file really is, judged from its bytes and never from its name.

Why: a name is whatever the sender typed (``photo.jpg`` may be a program).
The first bytes are matched by ``filetype`` (pure Python, no libmagic);
Office files are zip archives, so they are recognised by the parts inside
(``word/document.xml`` …), and a zip that is not one of them is refused.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from typing import IO

import filetype

OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
SNIFF_BYTES = 8192


class Refused(ValueError):
    """A file Jidu will not keep; ``code`` says why (words in app/uploads/text.py)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class FileType:
    kind: str  # image | pdf | office | audio
    mime: str
    extension: str


IMAGES = {
    "image/jpeg": FileType("image", "image/jpeg", "jpg"),
    "image/png": FileType("image", "image/png", "png"),
    "image/apng": FileType("image", "image/png", "png"),
    "image/webp": FileType("image", "image/webp", "webp"),
}
AUDIO = {
    "audio/mpeg": FileType("audio", "audio/mpeg", "mp3"),
    "audio/mp4": FileType("audio", "audio/mp4", "m4a"),
    "audio/aac": FileType("audio", "audio/aac", "aac"),
    "audio/amr": FileType("audio", "audio/amr", "amr"),
    "audio/x-wav": FileType("audio", "audio/wav", "wav"),
    "audio/ogg": FileType("audio", "audio/ogg", "ogg"),
    "audio/x-flac": FileType("audio", "audio/flac", "flac"),
}
PDF = FileType("pdf", "application/pdf", "pdf")
# The main part that makes a zip an Office document, and what it then is.
OFFICE = {
    "word/document.xml": FileType(
        "office", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx"),
    "xl/workbook.xml": FileType(
        "office", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "ppt/presentation.xml": FileType(
        "office", "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "pptx"),
}
# Shown to people as what may be attached (the form's accept= attribute).
ACCEPT = ",".join(["image/*", "application/pdf", ".pdf", ".docx", ".xlsx", ".pptx", "audio/*",
                   ".m4a", ".mp3", ".amr", ".wav"])


def _office(stream: IO[bytes]) -> FileType:
    try:
        with zipfile.ZipFile(stream) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise Refused("damaged") from exc
    finally:
        stream.seek(0)
    if "[Content_Types].xml" not in names:
        raise Refused("type")
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise Refused("macro")
    for part, found in OFFICE.items():
        if part in names:
            return found
    raise Refused("type")


def sniff(stream: IO[bytes]) -> FileType:
    """The file's type from its first bytes; raises ``Refused`` for anything else."""
    stream.seek(0)
    head = stream.read(SNIFF_BYTES)
    stream.seek(0)
    if not head:
        raise Refused("empty")
    if head.startswith(OLE_MAGIC):
        # .doc/.xls/.ppt (and .msi): their author fields cannot be cleared here.
        raise Refused("legacy_office")
    guess = filetype.guess(head)
    mime = guess.mime if guess else None
    if mime in IMAGES:
        return IMAGES[mime]
    if mime in AUDIO:
        return AUDIO[mime]
    if mime == "application/pdf":
        return PDF
    if mime in ("image/heic", "image/avif"):
        raise Refused("heic")
    if head.startswith(b"PK\x03\x04"):
        return _office(stream)
    if mime and mime.startswith("video/"):
        raise Refused("video")
    raise Refused("type")
