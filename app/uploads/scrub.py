"""Remove what a file says about its maker before it is stored.

Why: a phone photo carries the place it was taken (GPS), the phone, and the
time; an Office file or a PDF carries the author, the last editor and the
revision count. Any of these can identify a reporter who asked to stay
anonymous. Each function copies ``src`` to ``dst`` without those parts and
returns codes of what it found and removed (words in app/uploads/text.py).

Memory stays bounded: images are filtered segment by segment, losslessly and
without decoding pixels (so a decompression bomb is never decoded; its
dimensions alone refuse it); Office files are re-zipped member by member;
only PDFs are parsed whole, by pypdf, because removing metadata and earlier
revisions means writing the document anew (at its peak, about the file's size:
pypdf holds each stream once, and the copy is encrypted as it is written).
Audio is kept as it is.
"""

from __future__ import annotations

import gc
import io
import shutil
import struct
import warnings
import zipfile
from typing import IO, Any

from PIL import Image, UnidentifiedImageError

from app.uploads.sniff import FileType, Refused

COPY = 64 * 1024
# EXIF tags, by what they tell about the reporter.
GPS_IFD = 0x8825
EXIF_IFD = 0x8769
ORIENTATION = 0x0112
DEVICE_TAGS = {0x010F, 0x0110, 0x0131, 0xA430, 0xA431, 0xA433, 0xA434, 0xA435}
TIME_TAGS = {0x0132, 0x9003, 0x9004, 0x9010, 0x9011, 0x9012}


def check_image(src: IO[bytes], expected: str, max_pixels: int) -> None:
    """Open the header only: the format must match, the size must be sane.

    Pixels are never decoded here; a picture larger than ``max_pixels`` is
    refused outright, so that nothing downstream (a reviewer's browser, a
    future thumbnailer) is handed a decompression bomb.
    """
    src.seek(0)
    try:
        with warnings.catch_warnings():
            # Pillow warns from about 89 million pixels; ``max_pixels`` decides.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(src) as image:
                fmt, (width, height) = image.format, image.size
    except Image.DecompressionBombError as exc:
        raise Refused("pixels") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error) as exc:
        raise Refused("damaged") from exc
    finally:
        src.seek(0)
    if (fmt or "").lower() != expected:
        raise Refused("damaged")
    if width * height > max_pixels:
        raise Refused("pixels")


def exif_findings(data: bytes) -> set[str]:
    """What an EXIF block told: gps, device, time, other."""
    found = {"other"}
    exif = Image.Exif()
    try:
        exif.load(data)
        tags = set(exif)
        if exif.get_ifd(GPS_IFD) or GPS_IFD in tags:
            found.add("gps")
        sub = set(exif.get_ifd(EXIF_IFD))
    except (OSError, ValueError, SyntaxError, struct.error, KeyError, TypeError):
        return found | {"device", "time"}  # unreadable: assume the worst
    if (tags | sub) & DEVICE_TAGS:
        found.add("device")
    if (tags | sub) & TIME_TAGS:
        found.add("time")
    return found


def _orientation(data: bytes) -> int | None:
    exif = Image.Exif()
    try:
        exif.load(data)
        value = exif.get(ORIENTATION)
    except (OSError, ValueError, SyntaxError, struct.error, KeyError, TypeError):
        return None
    return value if isinstance(value, int) and 2 <= value <= 8 else None


def _read_exact(src: IO[bytes], n: int) -> bytes:
    data = src.read(n)
    if len(data) != n:
        raise Refused("damaged")
    return data


def _segment(marker: int, body: bytes) -> bytes:
    return b"\xff" + bytes([marker]) + struct.pack(">H", len(body) + 2) + body


def _jpeg_keep(marker: int, body: bytes) -> bytes | None:
    """The segment to write for a metadata marker (None: drop it)."""
    if marker == 0xE0 and body.startswith(b"JFIF\x00") and len(body) >= 14:
        return body[:12] + b"\x00\x00"  # JFIF without its thumbnail
    if marker == 0xE2 and body.startswith(b"ICC_PROFILE\x00"):
        return body  # colours, not people
    if marker == 0xEE and body.startswith(b"Adobe"):
        return body  # needed to decode CMYK pictures right
    return None


def _copy_scan(src: IO[bytes], dst: IO[bytes]) -> int:
    """Copy entropy-coded data up to the next real marker; return that marker."""
    pending = b""
    while True:
        chunk = src.read(COPY)
        if not chunk:
            raise Refused("damaged")
        data, start, i = pending + chunk, 0, 0
        while True:
            j = data.find(b"\xff", i)
            if j == -1 or j == len(data) - 1:
                end = len(data) if j == -1 else j
                dst.write(data[start:end])
                pending = data[end:]
                break
            following = data[j + 1]
            if following == 0xFF:  # fill byte
                dst.write(data[start:j])
                start = i = j + 1
            elif following == 0x00 or 0xD0 <= following <= 0xD7:
                i = j + 2
            else:
                dst.write(data[start:j])
                src.seek(-(len(data) - (j + 2)), io.SEEK_CUR)
                return following


def scrub_jpeg(src: IO[bytes], dst: IO[bytes]) -> set[str]:
    """Drop APPn (EXIF, XMP, IPTC, MPF …), comments and whatever follows the picture.

    The orientation is the one EXIF value kept (in a new, minimal EXIF
    block), so that a phone photo is not shown on its side.
    """
    removed: set[str] = set()
    src.seek(0)
    if _read_exact(src, 2) != b"\xff\xd8":
        raise Refused("damaged")
    dst.write(b"\xff\xd8")
    marker: int | None = None
    while True:
        if marker is None:
            if _read_exact(src, 1) != b"\xff":
                raise Refused("damaged")
            byte = _read_exact(src, 1)
            while byte == b"\xff":
                byte = _read_exact(src, 1)
            marker = byte[0]
        if marker == 0xD9:
            dst.write(b"\xff\xd9")
            if src.read(1):
                removed.add("other")  # appended pictures or maker data
            return removed
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            dst.write(b"\xff" + bytes([marker]))
            marker = None
            continue
        (length,) = struct.unpack(">H", _read_exact(src, 2))
        if length < 2:
            raise Refused("damaged")
        body = _read_exact(src, length - 2)
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            kept = _jpeg_keep(marker, body)
            if kept is not None:
                dst.write(_segment(marker, kept))
                if len(kept) != len(body):
                    removed.add("other")
            elif marker == 0xE1 and body.startswith(b"Exif\x00\x00"):
                removed |= exif_findings(body)
                turn = _orientation(body)
                if turn is not None:
                    minimal = Image.Exif()
                    minimal[ORIENTATION] = turn
                    dst.write(_segment(0xE1, minimal.tobytes()))
            else:
                removed.add("other")
        else:
            dst.write(_segment(marker, body))
        marker = _copy_scan(src, dst) if marker == 0xDA else None


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_KEEP = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP",
            b"sBIT", b"pHYs", b"bKGD", b"acTL", b"fcTL", b"fdAT", b"cICP", b"mDCv", b"cLLI"}


def scrub_png(src: IO[bytes], dst: IO[bytes]) -> set[str]:
    """Keep the chunks that draw the picture; drop text, EXIF, times and the rest."""
    removed: set[str] = set()
    src.seek(0)
    if _read_exact(src, 8) != PNG_SIGNATURE:
        raise Refused("damaged")
    dst.write(PNG_SIGNATURE)
    while True:
        head = _read_exact(src, 8)
        (length,), kind = struct.unpack(">I", head[:4]), head[4:]
        if kind in PNG_KEEP:
            dst.write(head)
            _copy(src, dst, length + 4)
        elif kind == b"eXIf" and length < 1024 * 1024:
            removed |= exif_findings(_read_exact(src, length))
            src.seek(4, io.SEEK_CUR)
        else:
            removed.add("time" if kind == b"tIME" else "other")
            src.seek(length + 4, io.SEEK_CUR)
        if kind == b"IEND":
            return removed


def _copy(src: IO[bytes], dst: IO[bytes], n: int) -> None:
    while n > 0:
        data = src.read(min(COPY, n))
        if not data:
            raise Refused("damaged")
        dst.write(data)
        n -= len(data)


def scrub_webp(src: IO[bytes], dst: IO[bytes]) -> set[str]:
    """Drop the EXIF and XMP chunks and clear their flags in the VP8X header."""
    removed: set[str] = set()
    src.seek(0)
    riff, size, webp = struct.unpack("<4sI4s", _read_exact(src, 12))
    if riff != b"RIFF" or webp != b"WEBP":
        raise Refused("damaged")
    chunks: list[tuple[bytes, int, int]] = []  # (fourcc, size, offset of data)
    position, end = 12, 8 + size
    while position + 8 <= end:
        src.seek(position)
        fourcc, length = struct.unpack("<4sI", _read_exact(src, 8))
        chunks.append((fourcc, length, position + 8))
        position += 8 + length + (length & 1)
    dropped = [c for c in chunks if c[0] in (b"EXIF", b"XMP ")]
    new_size = size - sum(8 + length + (length & 1) for _f, length, _o in dropped)
    dst.write(struct.pack("<4sI4s", b"RIFF", new_size, b"WEBP"))
    for fourcc, length, offset in chunks:
        src.seek(offset)
        if fourcc == b"EXIF" and length < 1024 * 1024:
            removed |= exif_findings(_read_exact(src, length))
            continue
        if fourcc in (b"EXIF", b"XMP "):
            removed.add("other")
            continue
        dst.write(struct.pack("<4sI", fourcc, length))
        if fourcc == b"VP8X" and length >= 1:
            dst.write(bytes([_read_exact(src, 1)[0] & ~0x0C]))
            _copy(src, dst, length - 1 + (length & 1))
        else:
            _copy(src, dst, length + (length & 1))
    return removed


PDF_COLLECT_BYTES = 1024 * 1024


def scrub_pdf(src: IO[bytes], dst: IO[bytes]) -> set[str]:
    """Write the PDF anew without its information dictionary, XMP or earlier revisions."""
    size = src.seek(0, io.SEEK_END)
    try:
        return _rewrite_pdf(src, dst)
    finally:
        # Every object pypdf parsed points back at its reader or writer, so the
        # document (a scanned page's stream is most of the file) outlives the
        # call until a full collection: the fifth large PDF of a submission could
        # be parsed with the other four still in memory. A full collection costs
        # tens of milliseconds in a web worker, little beside the upload of a
        # file this large, and too much to spend on every small one.
        if size > PDF_COLLECT_BYTES:
            gc.collect()


def _rewrite_pdf(src: IO[bytes], dst: IO[bytes]) -> set[str]:
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PyPdfError

    removed: set[str] = set()
    src.seek(0)
    try:
        reader = PdfReader(src)
        if reader.is_encrypted and not reader.decrypt(""):
            raise Refused("encrypted")
        info: Any = reader.metadata or {}
        if "/Author" in info:
            removed.add("author")
        if "/Creator" in info or "/Producer" in info:
            removed.add("software")
        if "/CreationDate" in info or "/ModDate" in info:
            removed.add("time")
        if set(info) - {"/Author", "/Creator", "/Producer", "/CreationDate", "/ModDate"}:
            removed.add("other")
        root: Any = reader.trailer["/Root"]
        if "/Metadata" in root:
            removed.add("other")
        writer = PdfWriter(clone_from=reader)
        writer.metadata = None
        for holder in [writer.root_object, *writer.pages]:
            for key in ("/Metadata", "/PieceInfo"):
                if key in holder:
                    del holder[key]
        writer.write(dst)
    except Refused:
        raise
    except (PyPdfError, OSError, ValueError, KeyError, TypeError, AttributeError,
            RecursionError, struct.error) as exc:
        raise Refused("damaged") from exc
    return removed


OOXML_CORE = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
              b'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
              b'xmlns:dcterms="http://purl.org/dc/terms/"/>')
OOXML_APP = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
             b'extended-properties"/>')
OOXML_CUSTOM = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
                b'custom-properties"/>')
# What each property part may reveal, found by its element names.
OOXML_FINDINGS = {
    "author": (b"creator", b"lastModifiedBy", b"Manager", b"Company"),
    "revision": (b"revision", b"TotalTime"),
    "time": (b"dcterms:created", b"dcterms:modified", b"lastPrinted"),
    "software": (b"Application", b"AppVersion"),
}
PROPERTY_LIMIT = 1024 * 1024
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def _property_findings(data: bytes) -> set[str]:
    found = {code for code, names in OOXML_FINDINGS.items() if any(n in data for n in names)}
    return found or ({"other"} if b"</" in data else set())


def scrub_office(src: IO[bytes], dst: IO[bytes], *, max_unzipped: int) -> set[str]:
    """Re-zip an Office file with empty property parts and no member timestamps.

    docProps/core.xml (author, last editor, revision, dates), app.xml
    (company, manager, editing time, application) and custom.xml are replaced
    by empty ones. Comments and tracked changes inside the document are its
    content and stay. Archives that unpack to more than ``max_unzipped``
    bytes are refused (zip bombs).
    """
    removed: set[str] = set()
    src.seek(0)
    try:
        with zipfile.ZipFile(src) as archive:
            members = archive.infolist()
            if sum(m.file_size for m in members) > max_unzipped or len(members) > 10_000:
                raise Refused("damaged")
            with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
                for member in members:
                    replacement = {"docprops/core.xml": OOXML_CORE,
                                   "docprops/app.xml": OOXML_APP,
                                   "docprops/custom.xml": OOXML_CUSTOM
                                   }.get(member.filename.lower())
                    target = zipfile.ZipInfo(member.filename, date_time=FIXED_TIME)
                    target.compress_type = zipfile.ZIP_DEFLATED
                    if replacement is not None:
                        if member.file_size > PROPERTY_LIMIT:
                            raise Refused("damaged")
                        removed |= _property_findings(archive.read(member))
                        out.writestr(target, replacement)
                        continue
                    with archive.open(member) as reading, out.open(target, "w") as writing:
                        shutil.copyfileobj(reading, writing, COPY)
    except Refused:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
            NotImplementedError) as exc:
        raise Refused("damaged") from exc
    return removed


def copy_as_is(src: IO[bytes], dst: IO[bytes]) -> set[str]:
    src.seek(0)
    shutil.copyfileobj(src, dst, COPY)
    return set()


def scrub(found: FileType, src: IO[bytes], dst: IO[bytes], *, max_pixels: int,
          max_unzipped: int) -> set[str]:
    """Dispatch on the sniffed type; returns what was removed."""
    if found.kind == "image":
        name = {"image/jpeg": "jpeg", "image/png": "png", "image/webp": "webp"}[found.mime]
        check_image(src, name, max_pixels)
        return {"jpeg": scrub_jpeg, "png": scrub_png, "webp": scrub_webp}[name](src, dst)
    if found.kind == "pdf":
        return scrub_pdf(src, dst)
    if found.kind == "office":
        return scrub_office(src, dst, max_unzipped=max_unzipped)
    return copy_as_is(src, dst)
