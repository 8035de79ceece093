"""Console views: thin doors onto services.workflow, services.queue, services.auth."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from wtforms import SelectChoice

from app.context import attachment_policy, intake_keys
from app.extensions import db, limiter
from app.messages import field_message, status_label
from app.models import (
    Campaign,
    Category,
    Channel,
    Clue,
    ClueEvent,
    Department,
    District,
    Role,
    User,
)
from app.ratelimit import client_key
from app.security.keystore import PassphraseError
from app.services import (
    attachments,
    audit,
    auth,
    colour_rules,
    deadlines,
    disclosure,
    disputes,
    duplicates,
    export,
    queue,
    workflow,
)
from app.services.errors import DomainError, Excluded, ValidationFailed
from app.services.workflow import IllegalTransition
from app.timeutil import LOCAL, local_today, utcnow
from app.web.review import bp
from app.web.review.access import CLUE_ROLES, TRIAGE_ROLES, clue_in_scope, roles_required
from app.web.review.attachments import EvidencePassphraseForm
from app.web.review.forms import (
    COLOUR_LABELS,
    CONCLUSION_LABELS,
    NOT_ACCEPTED_LABELS,
    ActionForm,
    AssignForm,
    ColourForm,
    ConcludeForm,
    ConsultationForm,
    DecideForm,
    DisclosureRequestForm,
    DisputeForm,
    FeedbackForm,
    LoginForm,
    ManualEntryForm,
    MergeForm,
    NotAcceptForm,
    NoteForm,
    PassphraseForm,
    QuestionForm,
    ReasonForm,
    SettleForm,
)
from app.web.review.scenarios import theme_label, theme_rule

# Where each role starts: the page it may open that it needs most.
HOME = {"admin": "admin.index", "analyst": "review.dashboard_page"}


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per minute", key_func=client_key, methods=["POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    locked_until = None
    if form.validate_on_submit():
        try:
            user = auth.sign_in(db.session, username=form.username.data or "",
                                password=form.password.data or "", otp=form.otp.data or "",
                                now=utcnow())
        except auth.AccountLocked as exc:
            locked_until = exc.until
        except auth.LoginFailed:
            flash(_("用户名、密码或动态验证码不正确。"), "error")
        else:
            # A fresh session at sign-in: nothing from before carries over.
            session.clear()
            login_user(user)
            session.permanent = True
            session["seen"] = int(utcnow().timestamp())
            return redirect(url_for(HOME.get(user.role, "review.queue_page")))
    status = 429 if locked_until else 200
    return render_template("review/login.html", form=form, locked_until=locked_until), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    form = ActionForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            auth.sign_out(db.session, user_id=current_user.id, now=utcnow())
        logout_user()
        session.clear()
    return redirect(url_for("review.login"))


def _filters() -> queue.Filters:
    args = request.args
    filters = queue.Filters(
        campaign_id=args.get("campaign", type=int), status=args.get("status") or None,
        colour=args.get("colour") or None, category=args.get("category") or None,
        district=args.get("district") or None, department=args.get("department") or None,
        channel=args.get("channel") or None, source_tag=args.get("source_tag") or None,
        overdue=args.get("overdue") == "1", date_from=_date(args.get("from")),
        date_to=_date(args.get("to")), text=(args.get("q") or "").strip()[:100] or None,
    )
    theme = (args.get("theme") or "").strip()[:200]
    if theme:  # a scenario theme, linked from the scenario page
        filters.theme, filters.theme_rule = theme, theme_rule(theme)
    if current_user.role == Role.LIAISON:
        filters.scope_department = current_user.department_code
    return filters


@bp.get("/")
@roles_required(*CLUE_ROLES)
def queue_page() -> ResponseReturnValue:
    args = request.args
    filters = _filters()
    page = queue.list_clues(db.session, filters, now=utcnow(), sort=args.get("sort", "newest"),
                            cursor=args.get("after"))
    return render_template(
        "review/queue.html", page=page, filters=filters, args=args, now=utcnow(),
        theme_name=theme_label(filters.theme),
        status_label=status_label, colour_labels=COLOUR_LABELS,
        categories=db.session.scalars(select(Category).order_by(Category.position)).all(),
        districts=db.session.scalars(select(District).order_by(District.position)).all(),
        departments=_departments(),
        campaigns=db.session.scalars(select(Campaign).order_by(Campaign.opens_at.desc())).all(),
    )


@bp.get("/export.csv")
@roles_required(*CLUE_ROLES)
def export_csv() -> ResponseReturnValue:
    filters = _filters()
    now = utcnow()
    export.log_export(db.session, actor=f"user:{current_user.username}", filters=filters,
                      fmt="csv", now=now)
    name = f"jidu-clues-{local_today().isoformat()}.csv"
    return Response(stream_with_context(export.csv_chunks(db.session, filters, now)),
                    mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={name}",
                             "Cache-Control": "no-store"})


def _date(text: str | None) -> Any:
    from datetime import date

    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _departments() -> list[Department]:
    return list(db.session.scalars(
        select(Department).where(Department.active.is_(True)).order_by(Department.position)))


@bp.get("/clues/<int:clue_id>")
@roles_required(*CLUE_ROLES)
def clue_page(clue_id: int) -> ResponseReturnValue:
    clue = clue_in_scope(clue_id)
    audit.record_view(db.session, actor=f"user:{current_user.username}",
                      target=f"clue:{clue.tracking_no}", now=utcnow())
    events = db.session.scalars(
        select(ClueEvent).where(ClueEvent.clue_id == clue.id).order_by(ClueEvent.id)).all()
    actors = {u.id: u.username for u in db.session.scalars(
        select(User).where(User.id.in_({e.actor_user_id for e in events if e.actor_user_id})))}
    suggestion = colour_rules.suggest(db.session, clue, utcnow())
    colour_form = ColourForm(colour=clue.colour or suggestion.colour)
    choices = [SelectChoice(d.code, d.name) for d in _departments()]
    assign_form = AssignForm()
    assign_form.department.choices = choices
    dispute_form, settle_form = DisputeForm(), SettleForm()
    dispute_form.departments.choices = choices
    settle_form.department.choices = choices
    return render_template(
        "review/clue.html", clue=clue, events=events, actors=actors, now=utcnow(),
        status_label=status_label, colour_labels=COLOUR_LABELS,
        conclusion_labels=CONCLUSION_LABELS, not_accepted_labels=NOT_ACCEPTED_LABELS,
        transitions=workflow.TRANSITIONS, can_triage=current_user.role in TRIAGE_ROLES,
        is_supervisor=current_user.role == Role.SUPERVISOR,
        suggestion=suggestion, disputes=disputes.for_clue(db.session, clue.id),
        dispute_form=dispute_form, settle_form=settle_form,
        disclosures=disclosure.for_clue(db.session, clue.id),
        disclosure_form=DisclosureRequestForm(), decide_form=DecideForm(),
        passphrase_form=PassphraseForm(), note_form=NoteForm(),
        consultation_form=ConsultationForm(), question_form=QuestionForm(),
        duplicates=duplicates.likely_duplicates(db.session, clue)
        if current_user.role in TRIAGE_ROLES else [],
        department_names={d.code: d.name for d in _departments()},
        action_form=ActionForm(), colour_form=colour_form, not_accept_form=NotAcceptForm(),
        assign_form=assign_form, conclude_form=ConcludeForm(), feedback_form=FeedbackForm(),
        reason_form=ReasonForm(), merge_form=MergeForm(),
        district=db.session.get(District, clue.district_code),
        department=db.session.get(Department, clue.handling_department_code)
        if clue.handling_department_code else None,
        attachments=attachments.for_clue(db.session, clue.id),
        evidence_form=EvidencePassphraseForm(),
    )


def _end_of_day(day: Any) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=LOCAL)


def _fen(value: Decimal | None) -> int | None:
    return None if value is None else int(value * 100)


def _run(clue_id: int, form: Any, call: Callable[[Clue], object]) -> ResponseReturnValue:
    clue = clue_in_scope(clue_id)
    if not form.validate_on_submit():
        for field, errors in form.errors.items():
            label = getattr(getattr(form, field, None), "label", None)
            flash(f"{label.text if label else field}：{'；'.join(map(str, errors))}", "error")
        return redirect(url_for("review.clue_page", clue_id=clue_id))
    try:
        call(clue)
    except IllegalTransition:
        db.session.rollback()
        flash(_("当前状态下不能进行此操作。"), "error")
    except ValidationFailed as exc:
        db.session.rollback()
        for key, code in exc.fields.items():
            flash(f"{key}：{field_message(code)}", "error")
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("已保存。"), "success")
    return redirect(url_for("review.clue_page", clue_id=clue_id))


@bp.route("/clues/new", methods=["GET", "POST"])
@roles_required(*TRIAGE_ROLES)
def manual_entry() -> ResponseReturnValue:
    """Clues from letters, calls and e-mails: same validation and encryption."""
    from app.services import intake
    from app.services.attachments import AttachmentsRefused
    from app.web.public.forms import FIELD_FOR_KEY
    from app.web.public.routes import _prepare, _reference
    from app.web.public.uploads import ask_to_reselect, chosen, refusal_messages, stored_summaries

    reference = _reference()
    form = ManualEntryForm()
    _prepare(form, reference)
    sent = chosen()
    if form.validate_on_submit():
        try:
            submitted = intake.submit(
                db.session, form.payload(None, pledged=True),
                channel=Channel(form.channel.data), keys=intake_keys(), now=utcnow(),
                actor=f"user:{current_user.username}", require_open_campaign=False,
                uploads=sent, policy=attachment_policy())
        except AttachmentsRefused as exc:
            form.attachments.errors = refusal_messages(exc)
        except Excluded as exc:
            flash(_("该线索属于已由其他渠道受理的情形（%(rules)s），不予录入。",
                    rules="、".join(exc.rules)), "error")
        except ValidationFailed as exc:
            for key, code in exc.fields.items():
                field = getattr(form, FIELD_FOR_KEY.get(key, key.split(".")[0]), None)
                (field or form.description).errors = [field_message(code)]
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            response = make_response(render_template(
                "review/manual_done.html", submitted=submitted,
                stored=stored_summaries(submitted.clue_id, sent)))
            response.headers["Cache-Control"] = "no-store"
            return response
    ask_to_reselect(form.attachments)
    return render_template("review/manual.html", form=form, **reference)


@bp.post("/clues/<int:clue_id>/triage")
@roles_required(*TRIAGE_ROLES)
def triage(clue_id: int) -> ResponseReturnValue:
    return _run(clue_id, ActionForm(), lambda c: workflow.start_triage(
        db.session, c.id, actor=current_user, now=utcnow()))


@bp.post("/clues/<int:clue_id>/colour")
@roles_required(*TRIAGE_ROLES)
def colour(clue_id: int) -> ResponseReturnValue:
    form = ColourForm()

    def _set(clue: Clue) -> object:
        now = utcnow()
        config = current_app.config
        deadline = deadlines.due_for(
            form.colour.data or "", now, red_hours=config["JIDU_DEADLINE_RED_HOURS"],
            orange_workdays=config["JIDU_DEADLINE_ORANGE_WORKDAYS"],
            yellow_workdays=config["JIDU_DEADLINE_YELLOW_WORKDAYS"])
        if deadline.warning:
            flash(_("节假日历尚无该年度数据，期限按周一至周五计算，请核对。"), "warning")
        return workflow.set_colour(db.session, clue.id, form.colour.data or "",
                                   reason=form.reason.data or "", actor=current_user, now=now,
                                   due_at=deadline.due_at)

    return _run(clue_id, form, _set)


@bp.post("/clues/<int:clue_id>/accept")
@roles_required(*TRIAGE_ROLES)
def accept(clue_id: int) -> ResponseReturnValue:
    return _run(clue_id, ActionForm(), lambda c: workflow.accept(
        db.session, c.id, actor=current_user, now=utcnow()))


@bp.post("/clues/<int:clue_id>/not-accept")
@roles_required(*TRIAGE_ROLES)
def not_accept(clue_id: int) -> ResponseReturnValue:
    form = NotAcceptForm()
    return _run(clue_id, form, lambda c: workflow.not_accept(
        db.session, c.id, reason=form.reason.data or "", actor=current_user, now=utcnow(),
        public_message=(form.public_message.data or "").strip() or None))


@bp.post("/clues/<int:clue_id>/assign")
@roles_required(*TRIAGE_ROLES)
def assign(clue_id: int) -> ResponseReturnValue:
    form = AssignForm()
    form.department.choices = [SelectChoice(d.code, d.name) for d in _departments()]
    return _run(clue_id, form, lambda c: workflow.assign(
        db.session, c.id, department=form.department.data or "",
        due_at=_end_of_day(form.due_on.data or local_today()), reason=form.reason.data or "",
        actor=current_user, now=utcnow()))


@bp.post("/clues/<int:clue_id>/investigate")
@roles_required(*CLUE_ROLES)
def investigate(clue_id: int) -> ResponseReturnValue:
    return _run(clue_id, ActionForm(), lambda c: workflow.start_investigation(
        db.session, c.id, actor=current_user, now=utcnow()))


@bp.post("/clues/<int:clue_id>/conclude")
@roles_required(*CLUE_ROLES)
def conclude(clue_id: int) -> ResponseReturnValue:
    form = ConcludeForm()
    return _run(clue_id, form, lambda c: workflow.conclude(
        db.session, c.id, outcome=form.outcome.data or "", summary=form.summary.data or "",
        recovered_fen=_fen(form.recovered_yuan.data), actor=current_user, now=utcnow()))


@bp.post("/clues/<int:clue_id>/feedback")
@roles_required(*TRIAGE_ROLES)
def feedback(clue_id: int) -> ResponseReturnValue:
    form = FeedbackForm()
    return _run(clue_id, form, lambda c: workflow.give_feedback(
        db.session, c.id, message=form.message.data or "", actor=current_user, now=utcnow()))


@bp.post("/clues/<int:clue_id>/close")
@roles_required(*TRIAGE_ROLES)
def close(clue_id: int) -> ResponseReturnValue:
    return _run(clue_id, ActionForm(), lambda c: workflow.close(
        db.session, c.id, actor=current_user, now=utcnow()))


@bp.post("/clues/<int:clue_id>/reopen")
@roles_required(Role.SUPERVISOR)
def reopen(clue_id: int) -> ResponseReturnValue:
    form = ReasonForm()
    return _run(clue_id, form, lambda c: workflow.reopen(
        db.session, c.id, reason=form.reason.data or "", actor=current_user, now=utcnow()))


@bp.post("/clues/<int:clue_id>/dispute")
@roles_required(*TRIAGE_ROLES)
def open_dispute(clue_id: int) -> ResponseReturnValue:
    form = DisputeForm()
    form.departments.choices = [SelectChoice(d.code, d.name) for d in _departments()]
    return _run(clue_id, form, lambda c: disputes.open_for_clue(
        db.session, c.id, departments=list(form.departments.data or []),
        actor=f"user:{current_user.username}", actor_user_id=current_user.id, now=utcnow()))


@bp.post("/clues/<int:clue_id>/disputes/<int:dispute_id>/settle")
@roles_required(*TRIAGE_ROLES)
def settle_dispute(clue_id: int, dispute_id: int) -> ResponseReturnValue:
    form = SettleForm()
    form.department.choices = [SelectChoice(d.code, d.name) for d in _departments()]

    def _settle(clue: Clue) -> object:
        if dispute_id not in {d.id for d in disputes.for_clue(db.session, clue.id)}:
            abort(404)
        return disputes.settle(db.session, dispute_id, department=form.department.data or "",
                               legal_basis=form.legal_basis.data or "",
                               actor=f"user:{current_user.username}",
                               actor_user_id=current_user.id, now=utcnow())

    return _run(clue_id, form, _settle)


@bp.post("/clues/<int:clue_id>/identity/request")
@roles_required(*TRIAGE_ROLES)
def request_identity(clue_id: int) -> ResponseReturnValue:
    form = DisclosureRequestForm()
    return _run(clue_id, form, lambda c: disclosure.request(
        db.session, c.id, user=current_user, reason=form.reason.data or "", now=utcnow()))


def _own_request(clue: Clue, request_id: int) -> None:
    if request_id not in {r.id for r in disclosure.for_clue(db.session, clue.id)}:
        abort(404)


@bp.post("/clues/<int:clue_id>/identity/<int:request_id>/decide")
@roles_required(Role.SUPERVISOR)
def decide_identity(clue_id: int, request_id: int) -> ResponseReturnValue:
    form = DecideForm()

    def _decide(clue: Clue) -> object:
        _own_request(clue, request_id)
        return disclosure.decide(db.session, request_id, supervisor=current_user,
                                 approve=form.decision.data == "approve", now=utcnow())

    return _run(clue_id, form, _decide)


@bp.post("/clues/<int:clue_id>/identity/<int:request_id>/open")
@roles_required(*TRIAGE_ROLES)
@limiter.limit("5 per minute", key_func=lambda: f"user:{current_user.id}")
def open_identity(clue_id: int, request_id: int) -> ResponseReturnValue:
    clue = clue_in_scope(clue_id)
    _own_request(clue, request_id)
    form = PassphraseForm()
    if not form.validate_on_submit():
        flash(_("请输入身份密钥口令。"), "error")
        return redirect(url_for("review.clue_page", clue_id=clue_id))
    try:
        identity = disclosure.disclose(db.session, request_id, user=current_user,
                                       passphrase=form.passphrase.data or "", now=utcnow())
    except PassphraseError:
        flash(_("口令不正确，已记录。"), "error")
        return redirect(url_for("review.clue_page", clue_id=clue_id))
    except DomainError:
        db.session.rollback()
        flash(_("没有可用的已批准申请。"), "error")
        return redirect(url_for("review.clue_page", clue_id=clue_id))
    response = make_response(render_template("review/identity.html", clue=clue,
                                             identity=identity))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/clues/<int:clue_id>/progress")
@roles_required(*CLUE_ROLES)
def progress(clue_id: int) -> ResponseReturnValue:
    form = NoteForm()
    return _run(clue_id, form, lambda c: workflow.add_progress(
        db.session, c.id, note=form.note.data or "", actor=current_user, now=utcnow()))


@bp.post("/clues/<int:clue_id>/consultation")
@roles_required(*TRIAGE_ROLES)
def consultation(clue_id: int) -> ResponseReturnValue:
    form = ConsultationForm()
    return _run(clue_id, form, lambda c: workflow.add_consultation(
        db.session, c.id, participants=form.participants.data or "", note=form.note.data or "",
        actor=current_user, now=utcnow()))


@bp.post("/clues/<int:clue_id>/question")
@roles_required(*TRIAGE_ROLES)
def question(clue_id: int) -> ResponseReturnValue:
    form = QuestionForm()
    return _run(clue_id, form, lambda c: workflow.ask_reporter(
        db.session, c.id, question=form.question.data or "", actor=current_user, now=utcnow()))


@bp.post("/clues/<int:clue_id>/merge")
@roles_required(*TRIAGE_ROLES)
def merge(clue_id: int) -> ResponseReturnValue:
    form = MergeForm()

    def _merge(clue: Clue) -> object:
        target = db.session.scalar(
            select(Clue.id).where(Clue.tracking_no == (form.into.data or "").strip().upper()))
        if target is None:
            raise ValidationFailed({"into": "choice"})
        return workflow.merge(db.session, clue.id, into_id=target, actor=current_user,
                              now=utcnow())

    return _run(clue_id, form, _merge)


@bp.app_template_filter("urlencode_without")
def urlencode_without(args: Any, *keys: str) -> str:
    """The query string without ``keys`` (e.g. the page cursor when filters change)."""
    from urllib.parse import urlencode

    return urlencode([(k, v) for k, v in args.items(multi=True) if k not in keys])
