"""Evidence files in the console: listed on the clue page, opened one at a time.

A download is a POST with the evidence passphrase (services/evidence_keys.py
says why it is not the identity passphrase); the file is streamed decrypted,
never cached, always as a download (Content-Disposition: attachment; the
app-wide X-Content-Type-Options: nosniff stops a browser treating it as a page).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from flask import Response, current_app, flash, redirect, stream_with_context, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length

from app.extensions import db, limiter
from app.security.keystore import PassphraseError
from app.services import attachments
from app.services.errors import DomainError
from app.timeutil import utcnow
from app.web.forms import Form
from app.web.review import bp
from app.web.review.access import CLUE_ROLES, clue_in_scope, roles_required


class EvidencePassphraseForm(Form):
    passphrase = PasswordField(_l("证据密钥口令"), validators=[DataRequired(), Length(max=500)],
                               render_kw={"autocomplete": "current-password"})


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback and the real (often Chinese) name (RFC 6266)."""
    fallback = "".join(c if c.isascii() and c.isalnum() or c in "._-" else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@bp.post("/clues/<int:clue_id>/attachments/<int:attachment_id>")
@roles_required(*CLUE_ROLES)
@limiter.limit("30 per minute", key_func=lambda: f"user:{current_user.id}")
def download_attachment(clue_id: int, attachment_id: int) -> ResponseReturnValue:
    clue = clue_in_scope(clue_id)
    back = redirect(url_for("review.clue_page", clue_id=clue.id) + "#attachments")
    form = EvidencePassphraseForm()
    if not form.validate_on_submit():
        flash(_("请输入证据密钥口令。"), "error")
        return back
    folder = Path(current_app.config["JIDU_DATA_DIR"]) / attachments.FOLDER
    try:
        download = attachments.open_for_download(
            db.session, attachment_id, clue_id=clue.id, actor=f"user:{current_user.username}",
            passphrase=form.passphrase.data or "", folder=folder, now=utcnow())
    except PassphraseError:
        flash(_("证据密钥口令不正确，已记录。"), "error")
        return back
    except DomainError:
        db.session.rollback()
        flash(_("找不到该附件。"), "error")
        return back
    return Response(stream_with_context(download.chunks), mimetype=download.mime, headers={
        "Content-Disposition": content_disposition(download.filename),
        "Content-Length": str(download.size),
        "Cache-Control": "no-store",
    })


@bp.app_template_global()
def attachment_kind(kind: str) -> str:
    from app.uploads.text import KINDS

    return str(KINDS.get(kind, kind))


@bp.app_template_global()
def attachment_removed(kind: str, codes: list[str]) -> str:
    from app.uploads.text import removed_summary

    return removed_summary(kind, codes)


@bp.app_template_global()
def attachment_size(size: int) -> str:
    from app.uploads.text import size_label

    return size_label(size)
