"""The outbox worker: send queued mail once, retry with back-off, lose nothing.

A message is claimed before it is sent: its row moves from ``pending`` to
``sending`` in a committed transaction, so no other worker can take it; on
PostgreSQL the claiming SELECT uses ``FOR UPDATE SKIP LOCKED`` so that
workers never wait on each other's rows. After the SMTP server accepts it,
the row becomes ``sent``; on failure it goes back to ``pending`` with the
next attempt a minute later, doubling up to an hour. A worker that dies
between claim and send leaves a ``sending`` row, which is retried after
CLAIM_TIMEOUT — the only way a message can go out twice, and it takes a
crash in the middle of an SMTP conversation.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from flask import render_template
from flask_babel import force_locale
from flask_mail import Connection, Message
from sqlalchemy import func, select, update

from app.messages import CHANNEL_LABELS, COLOUR_LABELS
from app.models import Category, Department, District, OutboxMessage, OutboxStatus, User
from app.security import serverbox
from app.services.intake import notify_aad
from app.services.types import DbSession

CLAIM_TIMEOUT = timedelta(minutes=10)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
SMTP_TIMEOUT = 30
TEMPLATES = frozenset({"new_clue", "assignment", "reminder", "overdue", "dispute_overdue",
                       "digest", "reporter_news", "hotline_import", "report", "warning"})


class NoRecipient(Exception):
    """The recipient has gone (user disabled, address removed): the mail is cancelled."""


@dataclass(frozen=True)
class Rendered:
    to: str
    subject: str
    body: str
    message_id: str


class Transport(Protocol):
    def send(self, mail: Rendered) -> None: ...


class SmtpConnection(Connection):
    """Flask-Mail's connection with a timeout, so a silent server cannot hang the worker."""

    def configure_host(self) -> smtplib.SMTP | smtplib.SMTP_SSL:
        host: smtplib.SMTP | smtplib.SMTP_SSL
        if self.mail.use_ssl:
            host = smtplib.SMTP_SSL(self.mail.server, self.mail.port, timeout=SMTP_TIMEOUT)
        else:
            host = smtplib.SMTP(self.mail.server, self.mail.port, timeout=SMTP_TIMEOUT)
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host


class SmtpTransport:
    def __init__(self, connection: Connection, sender: str) -> None:
        self.connection = connection
        self.sender = sender

    def send(self, mail: Rendered) -> None:
        message = Message(subject=mail.subject, recipients=[mail.to], body=mail.body,
                          sender=self.sender)
        message.msgId = mail.message_id
        self.connection.send(message)


class FolderTransport:
    """Development default: each mail is a .eml file in a folder, nothing leaves the machine."""

    def __init__(self, folder: Path, sender: str) -> None:
        self.folder = folder
        self.sender = sender

    def send(self, mail: Rendered) -> None:
        message = Message(subject=mail.subject, recipients=[mail.to], body=mail.body,
                          sender=self.sender)
        message.msgId = mail.message_id
        self.folder.mkdir(parents=True, exist_ok=True)
        name = mail.message_id.strip("<>").split("@")[0]
        temporary = self.folder / f".{name}.tmp"
        temporary.write_bytes(message.as_bytes())
        temporary.replace(self.folder / f"{name}.eml")


@contextmanager
def smtp_transport(mail_ext: Any, sender: str) -> Iterator[Transport]:
    with SmtpConnection(mail_ext) as connection:
        yield SmtpTransport(connection, sender)


@contextmanager
def folder_transport(folder: Path, sender: str) -> Iterator[Transport]:
    yield FolderTransport(folder, sender)


TransportFactory = Callable[[], AbstractContextManager[Transport]]


@dataclass
class Result:
    sent: int = 0
    failed: int = 0
    cancelled: int = 0
    error: str | None = None

    def summary(self) -> str:
        text = f"sent {self.sent}, failed {self.failed}, cancelled {self.cancelled}"
        return f"{text} ({self.error})" if self.error else text


def backoff(attempts: int) -> timedelta:
    """About a minute after the first failure, doubling, at most an hour."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def _message_id(message: OutboxMessage, domain: str) -> str:
    # Stable per row: a receiving server that saw it before can tell.
    return f"<jidu-outbox-{message.id}-{message.created_at:%Y%m%d%H%M%S}@{domain}>"


def render(session: DbSession, message: OutboxMessage, *, notify_key: bytes,
           base_url: str) -> Rendered:
    """The mail for one outbox row, its address resolved only now."""
    if message.template not in TEMPLATES:
        raise NoRecipient(f"unknown template {message.template}")
    params = dict(message.params)
    if message.user_id is not None:
        user = session.get(User, message.user_id)
        if user is None or not user.active or not user.email:
            raise NoRecipient("user has no active address")
        to = user.email
    else:
        sealed = params.pop("sealed_to", None)
        if not sealed:
            raise NoRecipient("no address")
        try:
            to = serverbox.open_box(notify_key, sealed, notify_aad(params["tracking_no"]))
        except serverbox.BoxError as exc:
            raise NoRecipient("address cannot be opened") from exc
    # Bilingual: Chinese first, English below, in every mail.
    parts = []
    for locale in ("zh_CN", "en"):
        with force_locale(locale):
            context = _context(session, params, base_url=base_url, english=locale == "en")
            parts.append((
                render_template(f"email/{message.template}.subject.txt", **context).strip(),
                render_template(f"email/{message.template}.txt", **context).rstrip(),
            ))
    (subject, body), (subject_en, body_en) = parts
    return Rendered(to=to, subject=f"{subject} / {subject_en}",
                    body=f"{body}\n\n----\n\n{body_en}\n",
                    message_id=_message_id(message, _domain(base_url)))


def _domain(base_url: str) -> str:
    return urlsplit(base_url).hostname or "jidu.local"


def _context(session: DbSession, params: dict[str, Any], *, base_url: str,
             english: bool) -> dict[str, Any]:
    """Template values: the parameters plus labels in the locale being rendered."""
    names: dict[tuple[type[Any], str], str] = {}

    def name(model: type[Category] | type[Department] | type[District], code: str) -> str:
        if not code:
            return ""
        if (model, code) not in names:
            row: Any = session.get(model, code)
            names[(model, code)] = (row.name_en if english else row.name) if row else code
        return names[(model, code)]

    return {**params,
            "category_label": name(Category, params.get("category", "")),
            "colour_label": lambda code: str(COLOUR_LABELS.get(code, "")),
            "channel_label": str(CHANNEL_LABELS.get(params.get("channel", ""), "")),
            "district_label": name(District, params.get("district", "")),
            "department_label": lambda code: name(Department, code),
            "console_url": f"{base_url}/review/",
            "status_url": f"{base_url}/status"}


def _claim(session: DbSession, now: datetime, limit: int) -> list[int]:
    """Take up to ``limit`` due messages for this worker, committed before sending."""
    session.execute(update(OutboxMessage)
                    .where(OutboxMessage.status == OutboxStatus.SENDING,
                           OutboxMessage.claimed_at < now - CLAIM_TIMEOUT)
                    .values(status=OutboxStatus.PENDING))
    query = (select(OutboxMessage.id)
             .where(OutboxMessage.status == OutboxStatus.PENDING,
                    OutboxMessage.next_attempt_at <= now)
             .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed = []
    for message_id in session.scalars(query).all():
        # The status condition makes the claim safe where SELECT cannot lock (SQLite).
        done = session.execute(update(OutboxMessage)
                               .where(OutboxMessage.id == message_id,
                                      OutboxMessage.status == OutboxStatus.PENDING)
                               .values(status=OutboxStatus.SENDING, claimed_at=now))
        if done.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(message_id)
    session.commit()
    return claimed


def _describe(exc: BaseException) -> str:
    # Never the message text of an SMTP error: it may quote the recipient.
    code = getattr(exc, "smtp_code", None) or getattr(exc, "errno", None)
    return f"{type(exc).__name__}{f' {code}' if code else ''}"[:200]


def deliver_due(session: DbSession, *, now: datetime, transport: TransportFactory,
                notify_key: bytes, base_url: str, max_attempts: int,
                batch: int = 100) -> Result:
    """Send what is due now; commits each message's outcome on its own."""
    result = Result()
    ids = _claim(session, now, batch)
    if not ids:
        return result
    try:
        with transport() as sender:
            for message_id in ids:
                message = session.get(OutboxMessage, message_id)
                if message is None:
                    continue
                try:
                    mail = render(session, message, notify_key=notify_key,
                                  base_url=base_url)
                except NoRecipient as exc:
                    _finish(message, OutboxStatus.CANCELLED, now, error=str(exc))
                    result.cancelled += 1
                else:
                    try:
                        sender.send(mail)
                    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError,
                            smtplib.SMTPSenderRefused) as exc:
                        # This message was refused; the connection is still good.
                        _retry_later(message, now, _describe(exc), max_attempts)
                        result.failed += 1
                    else:
                        _finish(message, OutboxStatus.SENT, now)
                        result.sent += 1
                session.commit()
    except (OSError, smtplib.SMTPException) as exc:
        # The server is down or went away: everything still claimed goes back.
        session.rollback()
        result.error = _describe(exc)
        for message in session.scalars(select(OutboxMessage).where(
                OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.SENDING)):
            _retry_later(message, now, result.error, max_attempts)
            result.failed += 1
        session.commit()
    return result


def _retry_later(message: OutboxMessage, now: datetime, error: str, max_attempts: int) -> None:
    message.attempts += 1
    message.last_error = error
    message.claimed_at = None
    if message.attempts >= max_attempts:
        message.status = OutboxStatus.DEAD
    else:
        message.status = OutboxStatus.PENDING
        message.next_attempt_at = now + backoff(message.attempts)


def _finish(message: OutboxMessage, status: OutboxStatus, now: datetime, *,
            error: str | None = None) -> None:
    message.status = status
    message.sent_at = now if status == OutboxStatus.SENT else None
    message.last_error = error
    # Once sent, the sealed reporter address has no reason to stay.
    message.params = {k: v for k, v in message.params.items() if k != "sealed_to"}


def backlog(session: DbSession) -> dict[str, int]:
    rows = session.execute(select(OutboxMessage.status, func.count())
                           .group_by(OutboxMessage.status)).all()
    return {str(status): int(n) for status, n in rows}


def retry_dead(session: DbSession, *, now: datetime, actor: str) -> int:
    """An admin sends the given-up messages again (after fixing the mail server)."""
    from app.services import audit

    done = session.execute(update(OutboxMessage)
                           .where(OutboxMessage.status == OutboxStatus.DEAD)
                           .values(status=OutboxStatus.PENDING, attempts=0,
                                   next_attempt_at=now, claimed_at=None))
    count = int(done.rowcount)  # type: ignore[attr-defined]
    audit.record(session, actor=actor, action="outbox.retry_dead", details={"count": count},
                 now=now)
    session.commit()
    return count


def troubled(session: DbSession, limit: int = 50) -> list[OutboxMessage]:
    """Messages that failed at least once and are not sent yet, oldest first."""
    return list(session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.DEAD)),
               OutboxMessage.attempts > 0)
        .order_by(OutboxMessage.created_at).limit(limit)))
