"""Peak memory of a 20 MB evidence upload, and of its download.

    .venv/bin/python bench/bench_upload.py [--mb 19.5] [--kinds jpeg,pdf] [--json FILE]

A real server (Werkzeug, threaded) answers ``POST /api/v1/clues`` as
multipart; a separate client process streams the file from disk, so the
figures are the server's alone. For each file it prints the server's peak
resident memory above what it held before the request (Linux VmHWM, reset
through /proc/self/clear_refs) and the peak of Python allocations
(tracemalloc), for the upload (parse, sniff, strip metadata, encrypt, store)
and for the download (decrypt and stream). The file sizes are printed too, so
that "does not hold 20 MB several times over" can be read off directly.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP_PEAK: list[int] = []
sys.path.insert(0, str(ROOT))

CLIENT = r"""
import http.client, json, os, sys
port, token, path, name = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
payload = json.loads(sys.argv[5])
boundary = "benchboundary7f3a"
head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"payload\"\r\n\r\n"
        + json.dumps(payload) + f"\r\n--{boundary}\r\nContent-Disposition: form-data; "
        f"name=\"files\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        ).encode()
tail = f"\r\n--{boundary}--\r\n".encode()
size = len(head) + os.path.getsize(path) + len(tail)
def body():
    yield head
    with open(path, "rb") as f:
        while chunk := f.read(64 * 1024):
            yield chunk
    yield tail
conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=600)
conn.request("POST", "/api/v1/clues", body=body(), headers={
    "Authorization": f"Bearer {token}", "Content-Length": str(size),
    "Content-Type": f"multipart/form-data; boundary={boundary}"})
answer = conn.getresponse()
print(answer.status, answer.read().decode())
"""


def make_jpeg(path: Path, megabytes: float) -> None:
    """A photo-sized JPEG of noise (incompressible) with GPS EXIF, just under ``megabytes``."""
    from PIL import Image

    from tests.evidence_files import GPS_IFD

    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Apple", "iPhone 15 Pro"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (29.0, 59.0, 12.5)})
    width = 4000
    for height in range(4500, 1000, -250):
        channels = [Image.effect_noise((width, height), 64) for _ in range(3)]
        buffer = io.BytesIO()
        Image.merge("RGB", channels).save(buffer, "JPEG", quality=95, exif=exif)
        if buffer.tell() <= megabytes * 1024 * 1024:
            path.write_bytes(buffer.getvalue())
            return
    raise SystemExit("could not make the JPEG")


def make_pdf(path: Path, megabytes: float) -> None:
    """A scanned-looking PDF: one page whose content holds ``megabytes`` of image data."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    blob = DecodedStreamObject()
    blob.set_data(b"% scan\n" + os.urandom(int(megabytes * 1024 * 1024) - 200))
    page[NameObject("/Contents")] = writer._add_object(blob)
    writer.add_metadata({"/Author": "Lin Xiaomei", "/Producer": "Scanner"})
    with path.open("wb") as out:
        writer.write(out)


def vm(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def mib(n: float) -> str:
    return f"{n / 1024 / 1024:6.1f} MiB"


def serve(tmp: Path):  # type: ignore[no-untyped-def]
    from werkzeug.serving import make_server

    from app import create_app, schema
    from app.extensions import db
    from app.services import campaigns, evidence_keys, keys, people
    from app.timeutil import utcnow
    from tests.conftest import make_config

    config = make_config(tmp, f"sqlite:///{tmp / 'bench.sqlite3'}")
    config.RATELIMIT_ENABLED = False
    app = create_app(config)
    with app.app_context():
        schema.rebuild(db.engine)
        keys.init_keys(db.session, passphrase="bench identity passphrase", log2n=10,  # noqa: S106
                       actor="bench")
        evidence_keys.init_key(db.session, passphrase="bench evidence passphrase", log2n=10,  # noqa: S106
                               actor="bench")
        now = utcnow()
        campaigns.create_campaign(db.session, slug="bench", title="bench",
                                  opens_at=now - timedelta(days=1),
                                  deadline=now + timedelta(days=1), actor="bench")
        token = people.create_token(db.session, channel="app", name="bench", actor="bench")
    inner = app.wsgi_app

    def measured(environ, start_response):  # type: ignore[no-untyped-def]
        # tracemalloc's peak inside the application only: the development
        # server itself drains leftover input with a 10 MB read buffer, which
        # gunicorn does not; that shows in the RSS figure, not in this one.
        if tracemalloc.is_tracing():
            tracemalloc.reset_peak()
        body = list(inner(environ, start_response))
        if tracemalloc.is_tracing():
            APP_PEAK.append(tracemalloc.get_traced_memory()[1])
        return body

    app.wsgi_app = measured  # type: ignore[method-assign]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return app, server, token


def upload(port: int, token: str, path: Path, name: str) -> dict[str, object]:
    from tests.factories import anonymous_payload

    result = subprocess.run(
        [sys.executable, "-c", CLIENT, str(port), token, str(path), name,
         json.dumps(anonymous_payload())], capture_output=True, text=True, check=True)
    status, _sep, body = result.stdout.partition(" ")
    if status != "201":
        raise SystemExit(f"upload failed: {result.stdout} {result.stderr}")
    return dict(json.loads(body))


def download(app, passphrase: str) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Attachment
    from app.services import attachments
    from app.timeutil import utcnow

    with app.app_context():
        row = db.session.scalars(select(Attachment).order_by(Attachment.id.desc())).first()
        started = time.perf_counter()
        got = attachments.open_for_download(
            db.session, row.id, clue_id=row.clue_id, actor="bench", passphrase=passphrase,
            folder=Path(app.config["JIDU_DATA_DIR"]) / attachments.FOLDER, now=utcnow())
        total = sum(len(chunk) for chunk in got.chunks)
        return total, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=19.5, help="file size (limit: 20 MiB)")
    parser.add_argument("--kinds", default="jpeg,pdf")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()
    found = []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        files = {}
        for kind in args.kinds.split(","):
            files[kind] = tmp / f"evidence.{'jpg' if kind == 'jpeg' else kind}"
            (make_jpeg if kind == "jpeg" else make_pdf)(files[kind], args.mb)
        gc.collect()
        app, server, token = serve(tmp)
        port = server.server_port
        # Warm up with small files of each kind (imports, caches, first queries),
        # so that the figures below are what a large file adds.
        from tests.evidence_files import jpeg_with_gps, pdf_with_author

        for name, data in (("warm.jpg", jpeg_with_gps()), ("warm.pdf", pdf_with_author())):
            (tmp / name).write_bytes(data)
            upload(port, token, tmp / name, name)
        print(f"{'file':<6} {'size':>10}   {'upload: RSS peak +':>19} {'app tracemalloc':>17}"
              f" {'time':>7}   {'download: RSS peak +':>21} {'tracemalloc peak':>17}")
        for kind, path in files.items():
            gc.collect()
            before = vm("VmRSS")
            reset_peak()
            tracemalloc.start()
            started = time.perf_counter()
            answer = upload(port, token, path, path.name)
            took = time.perf_counter() - started
            traced = APP_PEAK.pop()
            tracemalloc.stop()
            up_rss = vm("VmHWM") - before
            gc.collect()
            before = vm("VmRSS")
            reset_peak()
            tracemalloc.start()
            size, _took = download(app, "bench evidence passphrase")
            _now, down_traced = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            down_rss = vm("VmHWM") - before
            print(f"{kind:<6} {mib(path.stat().st_size)}   {mib(up_rss):>19} {mib(traced):>17}"
                  f" {took:6.2f}s   {mib(down_rss):>21} {mib(down_traced):>17}")
            print(f"       removed: {answer['attachments'][0]['removed']};"  # type: ignore[index]
                  f" stored {mib(size)} decrypted")
            found.append({"kind": kind, "bytes": path.stat().st_size, "upload_rss": up_rss,
                          "upload_traced": traced, "seconds": took, "download_rss": down_rss,
                          "download_traced": down_traced})
        server.shutdown()
    if args.json:
        args.json.write_text(json.dumps({"upload": found}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
