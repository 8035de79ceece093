"""Console views of the 12345 linkage: orders, screening review, disputes, import, 交办难."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import func, select
from wtforms import SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.extensions import db
from app.messages import field_message
from app.models import Category, Clue, Department, Dispute, HardDispatchType, HotlineOrder
from app.services import disputes, hotline, hotline_import, keys
from app.services.errors import Conflict, DomainError, NotConfigured, ValidationFailed
from app.timeutil import utcnow
from app.web.forms import Form
from app.web.review import bp
from app.web.review.access import TRIAGE_ROLES, roles_required
from app.web.review.forms import SettleForm

PAGE = 50
VIEWS = {
    "all": _l("全部工单"), "related": _l("涉企执法（已转线索）"), "screened_out": _l("已筛除"),
    "unreviewed": _l("筛选待复核"), "disputed": _l("派单争议"),
}


class ScreeningForm(Form):
    verdict = SelectField(_l("复核结论"), choices=[
        SelectChoice("related", _l("属于涉企执法问题")),
        SelectChoice("unrelated", _l("不属于涉企执法问题"))], validators=[DataRequired()])
    category = SelectField(_l("问题类别"), validators=[Optional()])


class MarkDisputedForm(Form):
    departments = SelectMultipleField(_l("存在争议的部门"), validators=[DataRequired()])


class ImportForm(Form):
    file = FileField(_l("热线工单导出文件（CSV 或 XLSX）"), validators=[FileRequired()])


class HardTypeForm(Form):
    title = StringField(_l("难以交办的工单类型"), validators=[DataRequired(), Length(max=200)])
    keywords = StringField(_l("识别关键词（空格分隔）"),
                           validators=[DataRequired(), Length(max=500)])
    responsibility = TextAreaField(_l("职责清单依据与处理意见"),
                                   validators=[DataRequired(), Length(max=4000)])
    department = SelectField(_l("明确的承办部门"), validators=[DataRequired()])


def _departments() -> list[SelectChoice]:
    return [SelectChoice(d.code, d.name) for d in db.session.scalars(
        select(Department).where(Department.active.is_(True)).order_by(Department.position))]


def _actor() -> str:
    return f"user:{current_user.username}"


@bp.get("/hotline")
@roles_required(*TRIAGE_ROLES)
def hotline_orders() -> ResponseReturnValue:
    view = request.args.get("view", "all")
    if view not in VIEWS:
        view = "all"
    query = select(HotlineOrder)
    if view == "related":
        query = query.where(HotlineOrder.clue_id.is_not(None))
    elif view == "screened_out":
        query = query.where(HotlineOrder.clue_id.is_(None))
    elif view == "unreviewed":
        query = query.where(HotlineOrder.reviewed_at.is_(None))
    elif view == "disputed":
        query = query.where(HotlineOrder.dispute_id.is_not(None))
    before = request.args.get("before", type=int)
    if before:
        query = query.where(HotlineOrder.id < before)
    orders = list(db.session.scalars(query.order_by(HotlineOrder.id.desc()).limit(PAGE + 1)))
    more = len(orders) > PAGE
    orders = orders[:PAGE]
    reviewed = db.session.execute(
        select(func.count(HotlineOrder.id),
               func.count(HotlineOrder.reviewed_at),
               func.sum(_agreement())).where(HotlineOrder.reviewed_at.is_not(None))).one()
    return render_template(
        "review/hotline.html", orders=orders, view=view, views=VIEWS, more=more,
        next_before=orders[-1].id if more else None, reviewed=reviewed[1] or 0,
        agreed=int(reviewed[2] or 0), clues=_tracking(orders))


def _agreement() -> Any:
    from sqlalchemy import case

    return case((HotlineOrder.reviewed_related == HotlineOrder.enforcement_related, 1), else_=0)


def _tracking(orders: list[HotlineOrder]) -> dict[int, str]:
    ids = [o.clue_id for o in orders if o.clue_id]
    if not ids:
        return {}
    return dict(db.session.execute(select(Clue.id, Clue.tracking_no).where(Clue.id.in_(ids))).all())


def _order(order_id: int) -> HotlineOrder:
    order = db.session.get(HotlineOrder, order_id)
    if order is None:
        abort(404)
    return order


@bp.get("/hotline/<int:order_id>")
@roles_required(*TRIAGE_ROLES)
def hotline_order_page(order_id: int) -> ResponseReturnValue:
    order = _order(order_id)
    screening_form = ScreeningForm(verdict="related" if order.screening()["enforcement_related"]
                                   else "unrelated", category=order.screening()["category"])
    screening_form.category.choices = [SelectChoice("", _("（不属于时不选）"))] + [
        SelectChoice(c.code, c.name) for c in db.session.scalars(
            select(Category).order_by(Category.position))]
    dispute_form = MarkDisputedForm()
    dispute_form.departments.choices = _departments()
    settle_form = SettleForm()
    settle_form.department.choices = _departments()
    dispute = db.session.get(Dispute, order.dispute_id) if order.dispute_id else None
    clue = db.session.get(Clue, order.clue_id) if order.clue_id else None
    return render_template(
        "review/hotline_order.html", order=order, clue=clue, dispute=dispute, now=utcnow(),
        screening_form=screening_form, dispute_form=dispute_form, settle_form=settle_form,
        hard_types=_hard_types_for(order) if dispute else [],
        departments={d.value: d.label for d in _departments()})


def _hard_types_for(order: HotlineOrder) -> list[HardDispatchType]:
    """The 交办难 entries whose keywords the order's text contains."""
    return [entry for entry in db.session.scalars(select(HardDispatchType))
            if any(word and word in order.content for word in entry.keywords.split())]


def _flash_errors(form: Form) -> None:
    for field, errors in form.errors.items():
        label = getattr(getattr(form, field, None), "label", None)
        flash(f"{label.text if label else field}：{'；'.join(map(str, errors))}", "error")


def _attempt(call: Any) -> None:
    try:
        call()
    except ValidationFailed as exc:
        db.session.rollback()
        for key, code in exc.fields.items():
            flash(f"{key}：{field_message(code)}", "error")
    except DomainError as exc:
        db.session.rollback()
        flash(_("操作未完成：%(why)s", why=exc.message), "error")
    else:
        flash(_("已保存。"), "success")


@bp.post("/hotline/<int:order_id>/screening")
@roles_required(*TRIAGE_ROLES)
def hotline_screening(order_id: int) -> ResponseReturnValue:
    order = _order(order_id)
    form = ScreeningForm()
    form.category.choices = [SelectChoice("", "")] + [
        SelectChoice(c.code, c.name) for c in db.session.scalars(select(Category))]
    if not form.validate_on_submit():
        _flash_errors(form)
    else:
        related = form.verdict.data == "related"
        _attempt(lambda: hotline.review_screening(
            db.session, order.id, related=related,
            category=(form.category.data or None) if related else None,
            receipt_key=current_app.config["JIDU_RECEIPT_KEY"], actor=_actor(), now=utcnow()))
    return redirect(url_for("review.hotline_order_page", order_id=order_id))


@bp.post("/hotline/<int:order_id>/dispute")
@roles_required(*TRIAGE_ROLES)
def hotline_mark_disputed(order_id: int) -> ResponseReturnValue:
    order = _order(order_id)
    form = MarkDisputedForm()
    form.departments.choices = _departments()
    if not form.validate_on_submit():
        _flash_errors(form)
    else:
        _attempt(lambda: hotline.mark_disputed(db.session, order.id,
                                               departments=list(form.departments.data or []),
                                               actor=_actor(), now=utcnow()))
    return redirect(url_for("review.hotline_order_page", order_id=order_id))


@bp.post("/hotline/<int:order_id>/dispute/settle")
@roles_required(*TRIAGE_ROLES)
def hotline_settle(order_id: int) -> ResponseReturnValue:
    order = _order(order_id)
    if order.dispute_id is None:
        abort(404)
    form = SettleForm()
    form.department.choices = _departments()
    if not form.validate_on_submit():
        _flash_errors(form)
    else:
        dispute_id = order.dispute_id
        _attempt(lambda: disputes.settle(
            db.session, dispute_id, department=form.department.data or "",
            legal_basis=form.legal_basis.data or "", actor=_actor(),
            actor_user_id=current_user.id, now=utcnow()))
    return redirect(url_for("review.hotline_order_page", order_id=order_id))


@bp.route("/hotline/import", methods=["GET", "POST"])
@roles_required(*TRIAGE_ROLES)
def hotline_import_page() -> ResponseReturnValue:
    form = ImportForm()
    report = None
    problem = None
    if form.validate_on_submit():
        upload = form.file.data
        overrides = {target: (request.form.get(f"map-{target}") or "").strip()
                     for target in hotline_import.DEFAULT_MAPPING}
        try:
            public = keys.active_public_key(db.session)
        except NotConfigured:
            public = None
        try:
            report = hotline_import.import_file(
                db.session, upload.filename or "upload.csv", upload.stream,
                overrides={k: v for k, v in overrides.items() if v}, public_key=public,
                receipt_key=current_app.config["JIDU_RECEIPT_KEY"], now=utcnow(),
                actor=_actor())
        except hotline_import.ImportError_ as exc:
            db.session.rollback()
            problem = str(exc)
    elif request.method == "POST":
        problem = _("请选择要导入的文件。")
    return render_template("review/hotline_import.html", form=form, report=report,
                           problem=problem, mapping=hotline_import.DEFAULT_MAPPING,
                           field_names=hotline_import.FIELD_NAMES)


@bp.route("/hotline/hard-types", methods=["GET", "POST"])
@roles_required(*TRIAGE_ROLES)
def hotline_hard_types() -> ResponseReturnValue:
    form = HardTypeForm()
    form.department.choices = _departments()
    if form.validate_on_submit():
        try:
            hotline.add_hard_type(db.session, title=form.title.data or "",
                                  keywords=form.keywords.data or "",
                                  responsibility=form.responsibility.data or "",
                                  department=form.department.data or "", actor=_actor(),
                                  now=utcnow())
        except (ValidationFailed, Conflict) as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            flash(_("已保存。"), "success")
            return redirect(url_for("review.hotline_hard_types"))
    entries = db.session.scalars(select(HardDispatchType).order_by(HardDispatchType.id)).all()
    return render_template("review/hotline_hard_types.html", form=form, entries=entries,
                           departments={d.value: d.label for d in _departments()})
