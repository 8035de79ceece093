"""The public report form and the receipt look-up form.

Every field has a length limit; field validators reuse app/validators.py,
and the service validates once more (services/submission.py) so that the
web form and the API can never disagree on what is acceptable.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from app.services.submission import AGENCY_MAX, COMPANY_MAX, DESCRIPTION_MAX, NAME_MAX
from app.timeutil import local, utcnow
from app.validators import is_credit_code, is_mainland_mobile, normalise_email, parse_amount_fen
from app.web.forms import Form

YES_NO = [SelectChoice("no", _l("否")), SelectChoice("yes", _l("是"))]


def _max(limit: int) -> Length:
    return Length(max=limit, message=_l("最多填写%(max)d个字。"))


def _sent(form: Any, field: Any) -> bool:
    """Whether a field's value will be sent: identity only for a real-name report,
    the notify address only when asked for (hidden fields never block a report)."""
    if field.name in ("name", "phone", "email", "company", "credit_code"):
        return bool(form.real_name.data == "yes" and field.data)
    if field.name == "notify_email":
        return bool(form.notify.data and field.data)
    return bool(field.data)


def _mobile(form: Form, field: Any) -> None:
    if _sent(form, field) and not is_mainland_mobile(field.data):
        raise ValidationError(_l("请填写11位中国大陆手机号码。"))


def _credit(form: Form, field: Any) -> None:
    if _sent(form, field) and not is_credit_code(field.data):
        raise ValidationError(_l("统一社会信用代码应为18位，且校验位正确。"))


def _email(form: Form, field: Any) -> None:
    if _sent(form, field) and normalise_email(field.data) is None:
        raise ValidationError(_l("请填写有效的电子邮箱地址。"))


def _amount(form: Form, field: Any) -> None:
    if field.data and parse_amount_fen(field.data) is None:
        raise ValidationError(_l("请填写不小于0、最多两位小数的金额（元）。"))


class ReportForm(Form):
    """Field names follow the API's JSON keys; exclusions are ``ex_<code>``."""

    ex_discipline = RadioField(choices=YES_NO, validators=[InputRequired(_l("请选择是或否。"))])
    ex_petition = RadioField(choices=YES_NO, validators=[InputRequired(_l("请选择是或否。"))])
    ex_reconsideration = RadioField(choices=YES_NO,
                                    validators=[InputRequired(_l("请选择是或否。"))])
    ex_litigation = RadioField(choices=YES_NO, validators=[InputRequired(_l("请选择是或否。"))])

    category = RadioField(_l("问题类别"), validators=[InputRequired(_l("请选择问题类别。"))])
    situations = SelectMultipleField(_l("具体情形（可多选）"), validate_choice=False)
    agency = StringField(_l("被反映的执法单位"),
                         validators=[DataRequired(_l("请填写被反映的执法单位。")),
                                     _max(AGENCY_MAX)],
                         description=_l("例如：某某区市场监督管理局某某所、某某执法中队"))
    department = SelectField(_l("所属部门（如知道）"), validators=[Optional()])
    district = SelectField(_l("发生地区"), validators=[DataRequired(_l("请选择发生地区。"))])
    occurred_on = DateField(_l("发生日期（可不填）"), validators=[Optional()])
    description = TextAreaField(
        _l("发生了什么"),
        validators=[DataRequired(_l("请简要说明发生了什么。")), _max(DESCRIPTION_MAX)],
        description=_l("时间、地点、经过、涉及的文书编号等，写清楚便于核查。最多4000字。"),
    )
    amount_yuan = StringField(_l("涉及金额（元，可不填）"), validators=[Optional(), _max(20),
                                                                  _amount])
    # Checked by the service (type from the bytes, size, count), not here:
    # the same rules hold for the API and the console.
    attachments = MultipleFileField(_l("证据材料（可不传）"))
    real_name = RadioField(_l("反映方式"), choices=[
        SelectChoice("yes", _l("实名反映（提倡）")), SelectChoice("no", _l("匿名反映"))],
        validators=[InputRequired(_l("请选择实名或匿名。"))])
    confidential = BooleanField(_l("对我的身份保密，仅线索征集部门可见"), default=True)
    # No Optional(): "required only for real-name reports" is checked below.
    name = StringField(_l("姓名"), validators=[_max(NAME_MAX)],
                       render_kw={"autocomplete": "name"})
    phone = StringField(_l("手机号码"), validators=[_max(20), _mobile],
                        render_kw={"autocomplete": "tel", "inputmode": "tel"})
    email = StringField(_l("电子邮箱（可不填）"), validators=[_max(254), _email],
                        render_kw={"autocomplete": "email", "inputmode": "email"})
    company = StringField(_l("企业名称（可不填）"),
                          validators=[Optional(), _max(COMPANY_MAX)],
                          render_kw={"autocomplete": "organization"})
    credit_code = StringField(_l("统一社会信用代码（可不填）"),
                              validators=[_max(24), _credit],
                              render_kw={"autocapitalize": "characters"})
    pledge = BooleanField(
        _l("我承诺如实反映情况，不虚构、夸大、捏造事实；知悉借机诬告、陷害的将依法追究。"),
        validators=[DataRequired(_l("请确认如实反映的承诺。"))])
    notify = BooleanField(_l("有新进展时发邮件提醒我（可选）"))
    notify_email = StringField(_l("提醒邮箱"), validators=[_max(254), _email],
                               render_kw={"autocomplete": "email", "inputmode": "email"})
    # Honeypot: hidden from people by CSS; a bot that fills every field trips it.
    website = StringField(_l("网站（请留空）"), validators=[Optional(), _max(200)],
                          render_kw={"tabindex": "-1", "autocomplete": "off",
                                     "aria-hidden": "true"})
    nonce = StringField(validators=[Optional(), _max(64)])

    def validate_name(self, field: Any) -> None:
        if self.real_name.data == "yes" and not (field.data or "").strip():
            raise ValidationError(_l("实名反映请填写姓名。"))

    def validate_phone(self, field: Any) -> None:
        if self.real_name.data == "yes" and not (field.data or "").strip():
            raise ValidationError(_l("实名反映请填写手机号码，便于核实和反馈。"))

    def validate_occurred_on(self, field: Any) -> None:
        if field.data and field.data > local(utcnow()).date():
            raise ValidationError(_l("日期不能晚于今天。"))

    def validate_notify_email(self, field: Any) -> None:
        if self.notify.data and not (field.data or "").strip():
            raise ValidationError(_l("请填写提醒邮箱，或取消勾选提醒。"))

    def exclusion_answers(self) -> dict[str, bool]:
        return {code: getattr(self, f"ex_{code}").data == "yes"
                for code in ("discipline", "petition", "reconsideration", "litigation")}

    def payload(self, source_tag: str | None, *, pledged: bool | None = None) -> dict[str, Any]:
        """The API's JSON shape, with empty optional fields left out."""
        data: dict[str, Any] = {
            "category": self.category.data,
            "situations": list(self.situations.data or []),
            "agency": self.agency.data,
            "district": self.district.data,
            "description": self.description.data,
            "real_name": self.real_name.data == "yes",
            "confidential": bool(self.confidential.data),
            "exclusions": self.exclusion_answers(),
            "pledge": bool(self.pledge.data) if pledged is None else pledged,
        }
        if self.department.data:
            data["department"] = self.department.data
        if self.occurred_on.data:
            data["occurred_on"] = self.occurred_on.data.isoformat()
        if (self.amount_yuan.data or "").strip():
            data["amount_yuan"] = self.amount_yuan.data.strip()
        if data["real_name"]:
            identity = {"name": self.name.data, "phone": self.phone.data}
            for key in ("email", "company", "credit_code"):
                value = (getattr(self, key).data or "").strip()
                if value:
                    identity[key] = value
            data["identity"] = identity
        if getattr(self, "notify", None) and self.notify.data and (
                self.notify_email.data or "").strip():
            data["notify_email"] = self.notify_email.data.strip()
        if source_tag:
            data["source_tag"] = source_tag
        return data


# API field names (services/submission.py) → form fields, for service errors.
FIELD_FOR_KEY = {
    "identity.name": "name", "identity.phone": "phone", "identity.email": "email",
    "identity.company": "company", "identity.credit_code": "credit_code",
    "identity": "name",
}


class StatusForm(Form):
    receipt = StringField(_l("回执码"), validators=[DataRequired(_l("请输入回执码。")),
                                                    _max(100)],
                          render_kw={"autocomplete": "off", "autocapitalize": "characters",
                                     "spellcheck": "false"})


class ReplyForm(Form):
    reply = TextAreaField(_l("补充说明"), validators=[DataRequired(_l("请填写补充内容。")),
                                                      _max(4000)])
    attachments = MultipleFileField(_l("补充证据材料（可不传）"))


class RatingForm(Form):
    rating = RadioField(_l("您对办理结果是否满意？"), choices=[
        SelectChoice("satisfied", _l("满意")), SelectChoice("basically", _l("基本满意")),
        SelectChoice("unsatisfied", _l("不满意"))], validators=[InputRequired()])
