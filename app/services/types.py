"""Types shared by the services."""

from __future__ import annotations

from typing import Any, TypeAlias

from sqlalchemy.orm import Session, scoped_session

# Services take the session explicitly; the doors pass Flask-SQLAlchemy's
# scoped session, tests may pass a plain one.
DbSession: TypeAlias = Session | scoped_session[Any]
