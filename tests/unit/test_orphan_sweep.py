"""Evidence files a crash left without their row are removed; stored evidence never is."""

from __future__ import annotations

import io
import os
import secrets
import time
from datetime import timedelta

from sqlalchemy import select, update

from app.context import attachment_policy, intake_keys
from app.extensions import db
from app.models import Attachment, Channel
from app.services import attachments, intake
from app.timeutil import utcnow
from tests.evidence_files import jpeg_with_gps
from tests.factories import anonymous_payload

HOUR = 3600


def stored_clue_file() -> str:
    intake.submit(db.session, anonymous_payload(), channel=Channel.WEB, keys=intake_keys(),
                  now=utcnow(), actor="reporter", policy=attachment_policy(),
                  uploads=[attachments.Upload("a.jpg", io.BytesIO(jpeg_with_gps((32, 24))))])
    return str(db.session.scalar(select(Attachment.storage_name)))


def leftover(folder, *, hours_ago: float, name: str | None = None) -> str:
    name = name or secrets.token_hex(16)
    path = folder / name
    path.write_bytes(b"ciphertext of a submission that never committed")
    then = time.time() - hours_ago * HOUR
    os.utime(path, (then, then))
    return name


def age(folder, name: str, hours_ago: float) -> None:
    then = time.time() - hours_ago * HOUR
    os.utime(folder / name, (then, then))


def test_only_old_files_without_a_row_are_removed(app, ready, evidence_key):
    kept = stored_clue_file()
    folder = attachment_policy().folder
    age(folder, kept, 5)  # stored long ago: its row keeps it
    leftover(folder, hours_ago=2)  # a crash left it: removed
    fresh = leftover(folder, hours_ago=0.1)  # maybe a submission still being stored
    other = leftover(folder, hours_ago=5, name="notes.txt")  # not a name Jidu writes

    assert attachments.sweep_orphans(db.session, folder, now=utcnow()) == 1
    assert sorted(p.name for p in folder.iterdir()) == sorted([kept, fresh, other])


def test_a_database_without_newer_rows_removes_nothing(app, ready, evidence_key):
    folder = attachment_policy().folder
    folder.mkdir(parents=True, exist_ok=True)
    files = [leftover(folder, hours_ago=h) for h in (2, 30)]
    # The wrong (empty) database: nothing is known, so nothing is judged orphaned.
    assert attachments.sweep_orphans(db.session, folder, now=utcnow()) == 0
    # A restored backup whose newest attachment is older than the files.
    stored_clue_file()
    db.session.execute(update(Attachment).values(created_at=utcnow() - timedelta(days=3)))
    db.session.commit()
    assert attachments.sweep_orphans(db.session, folder, now=utcnow()) == 0
    assert set(files) <= {p.name for p in folder.iterdir()}
