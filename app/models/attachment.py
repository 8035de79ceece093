"""Evidence attachments and the evidence keypair that seals them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base
from app.models.types import UTCDateTime
from app.timeutil import utcnow


class Attachment(Base):
    """One evidence file. Its bytes live encrypted under ``JIDU_DATA_DIR``.

    The file on disk is named by ``storage_name`` (random, says nothing);
    ``key_sealed`` is a public-key envelope (security/envelope.py, naming its
    key) holding the file's own AES key and the name the reporter gave the
    file: a file name can identify a reporter, so it is stored only sealed.
    """

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    clue_id: Mapped[int] = mapped_column(ForeignKey("clues.id"), index=True)
    # The reporter's reply that brought it (None: sent with the clue).
    event_id: Mapped[int | None] = mapped_column(ForeignKey("clue_events.id"))
    storage_name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    mime: Mapped[str] = mapped_column(String(100))
    extension: Mapped[str] = mapped_column(String(8))
    # Bytes after metadata removal (what a download returns), and as sent.
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    original_size: Mapped[int] = mapped_column(BigInteger)
    # Codes of what was removed (app/uploads/text.py gives the words).
    removed: Mapped[list[str]] = mapped_column(JSON, default=list)
    key_sealed: Mapped[str] = mapped_column(Text)
    # Who sent it: "reporter", "api:<token name>", "user:<username>".
    uploaded_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EvidenceKey(Base):
    """The evidence keypair: public half in the clear, private half passphrase-locked.

    Kept apart from the identity keypair (models/keys.py) on purpose: liaisons
    and reviewers who must look at photos and documents get this passphrase,
    which opens evidence and never a reporter's identity.
    """

    __tablename__ = "evidence_keys"

    kid: Mapped[str] = mapped_column(String(16), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    private_key_protected: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
