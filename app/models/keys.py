"""The identity keypair: public half in the clear, private half passphrase-locked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base
from app.models.types import UTCDateTime
from app.timeutil import utcnow


class IdentityKey(Base):
    __tablename__ = "identity_keys"

    kid: Mapped[str] = mapped_column(String(16), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(32), default="X25519")
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    # keystore.protect(): scrypt-derived key, AES-256-GCM; never plaintext.
    private_key_protected: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
