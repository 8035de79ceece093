"""Real evidence files built in the tests: a phone photo with GPS, Office and PDF files
with an author, programs dressed up as photos."""

from __future__ import annotations

import io
import zipfile

from PIL import Image

GPS_IFD = 0x8825
LATITUDE = (29.0, 59.0, 12.5)


def jpeg_with_gps(size: tuple[int, int] = (640, 480), *, orientation: int = 6) -> bytes:
    """A JPEG as a phone writes it: make, model, time, orientation and a GPS position."""
    image = Image.new("RGB", size)
    image.putdata([((x * 7) % 256, (y * 3) % 256, 90) for y in range(size[1])
                   for x in range(size[0])])
    exif = Image.Exif()
    exif[0x010F] = "Apple"
    exif[0x0110] = "iPhone 15 Pro"
    exif[0x0112] = orientation
    exif[0x0132] = "2025:05:01 10:20:30"
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: LATITUDE, 3: "E", 4: (122.0, 12.0, 5.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def png_bomb() -> bytes:
    """A tiny PNG whose header claims 60000×60000 pixels."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def pdf_with_author(marker: str = "EVIDENCE-MARKER-7Q") -> bytes:
    """A one-page PDF with author and producer, whose page text includes ``marker``."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(300, 300)
    content = DecodedStreamObject()
    content.set_data(f"BT /F1 12 Tf 20 200 Td ({marker}) Tj ET".encode())
    page[NameObject("/Contents")] = writer._add_object(content)
    writer.add_metadata({"/Author": "Lin Xiaomei", "/Producer": "WPS Office",
                         "/CreationDate": "D:20250501102030+08'00'"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


CORE = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/">'
        '<dc:creator>林晓梅</dc:creator><cp:lastModifiedBy>林晓梅</cp:lastModifiedBy>'
        '<cp:revision>7</cp:revision></cp:coreProperties>')
APP = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Properties xmlns="http://'
       'schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
       '<Company>舟山海韵民宿</Company><TotalTime>42</TotalTime></Properties>')


def docx_with_author(text: str = "罚款决定书内容") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://'
                         'schemas.openxmlformats.org/package/2006/content-types"/>')
        archive.writestr("word/document.xml", f"<w:document><w:t>{text}</w:t></w:document>")
        archive.writestr("docProps/core.xml", CORE)
        archive.writestr("docProps/app.xml", APP)
    return out.getvalue()


def elf() -> bytes:
    return b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200


def windows_exe() -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200 + b"PE\x00\x00"
