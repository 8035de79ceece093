"""Administration views: thin doors onto services.admin, people and auth."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pyotp
import qrcode
import qrcode.image.svg
from flask import current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from app.extensions import db
from app.messages import field_message
from app.models import (
    ApiToken,
    AuditEvent,
    Campaign,
    Category,
    Department,
    Role,
    SourceTag,
    User,
)
from app.services import admin, audit, auth, campaigns, outbox, people
from app.services.errors import DomainError, ValidationFailed
from app.timeutil import LOCAL, local, utcnow
from app.web.admin import bp
from app.web.admin.forms import (
    ROLE_LABELS,
    CampaignForm,
    DepartmentForm,
    ResetForm,
    SituationForm,
    TagForm,
    TokenForm,
    UserForm,
)
from app.web.review.access import roles_required
from app.web.review.forms import ActionForm


def _actor() -> str:
    return f"user:{current_user.username}"


def _attempt(call: Callable[[], Any]) -> Any:
    """Run a service call; flash a domain error in words instead of failing."""
    try:
        result = call()
    except ValidationFailed as exc:
        db.session.rollback()
        for key, code in exc.fields.items():
            flash(f"{key}：{field_message(code)}", "error")
        return None
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return None
    flash(_("已保存。"), "success")
    return result


def _local_dt(value: datetime | None) -> datetime:
    return (value or datetime.now(LOCAL)).replace(tzinfo=LOCAL)


def _totp_qr(username: str, secret: str) -> str:
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="Jidu")
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


@bp.get("/")
@roles_required(Role.ADMIN)
def index() -> ResponseReturnValue:
    return render_template("admin/index.html")


@bp.route("/users", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def users() -> ResponseReturnValue:
    form = UserForm()
    form.department.choices = [SelectChoice("", "—")] + [
        SelectChoice(d.code, d.name) for d in db.session.scalars(
            select(Department).order_by(Department.position))]
    created = None
    if form.validate_on_submit():
        result = _attempt(lambda: people.create_user(
            db.session, username=form.username.data or "", role=form.role.data or "",
            password=form.password.data or "", department=form.department.data or None,
            email=form.email.data or None, actor=_actor()))
        if result:
            user, secret = result
            created = {"username": user.username, "secret": secret,
                       "qr": _totp_qr(user.username, secret)}
    rows = db.session.scalars(select(User).order_by(User.username)).all()
    return render_template("admin/users.html", form=form, users=rows, created=created, now=utcnow(),
                           role_labels=ROLE_LABELS, action_form=ActionForm(),
                           reset_form=ResetForm())


@bp.post("/users/<int:user_id>/active")
@roles_required(Role.ADMIN)
def toggle_user(user_id: int) -> ResponseReturnValue:
    if ActionForm().validate_on_submit():
        user = db.session.get(User, user_id)
        if user is not None and user.id != current_user.id:
            _attempt(lambda: admin.set_user_active(db.session, user_id, active=not user.active,
                                                   actor=_actor(), now=utcnow()))
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/end-sessions")
@roles_required(Role.ADMIN)
def end_sessions(user_id: int) -> ResponseReturnValue:
    if ActionForm().validate_on_submit():
        _attempt(lambda: auth.end_sessions(db.session, user_id=user_id, actor=_actor(),
                                           now=utcnow()))
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/reset")
@roles_required(Role.ADMIN)
def reset_user(user_id: int) -> ResponseReturnValue:
    form = ResetForm()
    created = None
    if form.validate_on_submit():
        secret = _attempt(lambda: auth.reset_credentials(
            db.session, user_id=user_id, actor=_actor(), now=utcnow(),
            password=form.password.data or None, new_totp=bool(form.new_totp.data)))
        user = db.session.get(User, user_id)
        if secret and user:
            created = {"username": user.username, "secret": secret,
                       "qr": _totp_qr(user.username, secret)}
    if created:
        return render_template("admin/totp.html", created=created)
    return redirect(url_for("admin.users"))


@bp.route("/departments", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def departments() -> ResponseReturnValue:
    form = DepartmentForm()
    if form.validate_on_submit() and _attempt(lambda: admin.add_department(
            db.session, code=form.code.data or "", name=form.name.data or "",
            name_en=form.name_en.data or "", actor=_actor(), now=utcnow())):
        return redirect(url_for("admin.departments"))
    rows = db.session.scalars(select(Department).order_by(Department.position)).all()
    return render_template("admin/departments.html", form=form, departments=rows)


@bp.route("/situations", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def situations() -> ResponseReturnValue:
    categories = db.session.scalars(select(Category).order_by(Category.position)).all()
    form = SituationForm()
    form.category.choices = [SelectChoice(c.code, c.name) for c in categories]
    if form.validate_on_submit() and _attempt(lambda: admin.add_situation(
            db.session, category=form.category.data or "", code=form.code.data or "",
            name=form.name.data or "", name_en=form.name_en.data or "", actor=_actor(),
            now=utcnow())):
        return redirect(url_for("admin.situations"))
    return render_template("admin/situations.html", form=form, categories=categories)


@bp.route("/tags", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def tags() -> ResponseReturnValue:
    form = TagForm()
    if form.validate_on_submit() and _attempt(lambda: admin.add_source_tag(
            db.session, tag=form.tag.data or "", label=form.label.data or "", actor=_actor(),
            now=utcnow())):
        return redirect(url_for("admin.tags"))
    rows = db.session.scalars(select(SourceTag).order_by(SourceTag.tag)).all()
    return render_template("admin/tags.html", form=form, tags=rows)


@bp.route("/campaigns", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def campaigns_page() -> ResponseReturnValue:
    form = CampaignForm()
    if form.validate_on_submit() and _attempt(lambda: campaigns.create_campaign(
            db.session, slug=form.slug.data or "", title=form.title.data or "",
            notice=form.notice.data or "", opens_at=_local_dt(form.opens_at.data),
            deadline=_local_dt(form.deadline.data), actor=_actor())):
        return redirect(url_for("admin.campaigns_page"))
    rows = db.session.scalars(select(Campaign).order_by(Campaign.opens_at.desc())).all()
    return render_template("admin/campaigns.html", form=form, campaigns=rows, now=utcnow())


@bp.route("/campaigns/<int:campaign_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def campaign_edit(campaign_id: int) -> ResponseReturnValue:
    campaign = db.get_or_404(Campaign, campaign_id)
    form = CampaignForm(obj=campaign)
    if not form.is_submitted():
        form.opens_at.data = local(campaign.opens_at).replace(tzinfo=None)
        form.deadline.data = local(campaign.deadline).replace(tzinfo=None)
    if form.validate_on_submit() and _attempt(lambda: admin.update_campaign(
            db.session, campaign_id, title=form.title.data or "",
            notice=form.notice.data or "", opens_at=_local_dt(form.opens_at.data),
            deadline=_local_dt(form.deadline.data), actor=_actor(), now=utcnow())):
        return redirect(url_for("admin.campaigns_page"))
    return render_template("admin/campaign_edit.html", form=form, campaign=campaign)


@bp.route("/tokens", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def tokens() -> ResponseReturnValue:
    form = TokenForm()
    created = None
    if form.validate_on_submit():
        created = _attempt(lambda: people.create_token(
            db.session, channel=form.channel.data or "", name=form.name.data or "",
            actor=_actor()))
    rows = db.session.scalars(select(ApiToken).order_by(ApiToken.id.desc())).all()
    return render_template("admin/tokens.html", form=form, tokens=rows, created=created,
                           action_form=ActionForm())


@bp.post("/tokens/<int:token_id>/revoke")
@roles_required(Role.ADMIN)
def revoke(token_id: int) -> ResponseReturnValue:
    if ActionForm().validate_on_submit():
        _attempt(lambda: admin.revoke_token(db.session, token_id, actor=_actor(), now=utcnow()))
    return redirect(url_for("admin.tokens"))


@bp.get("/audit")
@roles_required(Role.ADMIN, Role.SUPERVISOR)
def audit_log() -> ResponseReturnValue:
    rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(200)).all()
    return render_template("admin/audit.html", events=rows,
                           broken=audit.verify_chain(db.session))


@bp.get("/outbox")
@roles_required(Role.ADMIN)
def outbox_page() -> ResponseReturnValue:
    return render_template("admin/outbox.html", backlog=outbox.backlog(db.session),
                           troubled=outbox.troubled(db.session), action_form=ActionForm(),
                           mail_server=current_app.config.get("MAIL_SERVER"))


@bp.post("/outbox/retry")
@roles_required(Role.ADMIN)
def outbox_retry() -> ResponseReturnValue:
    if ActionForm().validate_on_submit():
        count = outbox.retry_dead(db.session, now=utcnow(), actor=_actor())
        flash(_("已重新排队 %(n)d 封邮件。", n=count), "success")
    return redirect(url_for("admin.outbox_page"))
