"""Console forms. CSRF on all; every text field has a length limit."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    DecimalField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.messages import COLOUR_LABELS
from app.web.forms import Form
from app.web.public.forms import ReportForm

NOT_ACCEPTED_LABELS = {
    "out_of_scope": _l("不属于征集范围"),
    "excluded": _l("已由其他渠道受理（纪检、信访、复议、诉讼）"),
    "insufficient": _l("信息不足，无法核查"),
    "duplicate": _l("重复反映"),
    "other": _l("其他原因"),
}
CONCLUSION_LABELS = {
    "substantiated": _l("属实"),
    "partly": _l("部分属实"),
    "unsubstantiated": _l("不属实"),
}


class LoginForm(Form):
    username = StringField(_l("用户名"), validators=[DataRequired(), Length(max=64)],
                           render_kw={"autocomplete": "username"})
    password = PasswordField(_l("密码"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    otp = StringField(_l("动态验证码（6位）"), validators=[DataRequired(), Length(min=6, max=8)],
                      render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class ActionForm(Form):
    """CSRF only: actions that need no further input."""


class ColourForm(Form):
    colour = RadioField(_l("研判颜色"),
                        choices=[SelectChoice(k, v) for k, v in COLOUR_LABELS.items()],
                        validators=[DataRequired()])
    reason = StringField(_l("理由"), validators=[DataRequired(), Length(max=300)])


class NotAcceptForm(Form):
    reason = SelectField(_l("不予受理原因"),
                         choices=[SelectChoice(r, label)
                                  for r, label in NOT_ACCEPTED_LABELS.items()])
    public_message = TextAreaField(_l("告知反映人的说明（可选）"),
                                   validators=[Optional(), Length(max=4000)])


class AssignForm(Form):
    department = SelectField(_l("承办部门"), validators=[DataRequired()])
    due_on = DateField(_l("办理期限"), validators=[DataRequired()])
    reason = StringField(_l("交办或改派理由"), validators=[Optional(), Length(max=300)])


class ConcludeForm(Form):
    outcome = SelectField(_l("核查结论"),
                          choices=[SelectChoice(k, v) for k, v in CONCLUSION_LABELS.items()])
    summary = TextAreaField(_l("办理结果"), validators=[DataRequired(), Length(max=4000)])
    recovered_yuan = DecimalField(_l("挽回经济损失（元，可选）"), places=2,
                                  validators=[Optional(), NumberRange(min=0)])


class FeedbackForm(Form):
    message = TextAreaField(_l("反馈内容（反映人凭回执码可见）"),
                            validators=[DataRequired(), Length(max=4000)])


class ReasonForm(Form):
    reason = StringField(_l("理由"), validators=[DataRequired(), Length(max=300)])


class DisputeForm(Form):
    departments = SelectMultipleField(_l("存在争议的部门（至少两个）"))


class SettleForm(Form):
    department = SelectField(_l("确定的承办部门"), validators=[DataRequired()])
    legal_basis = TextAreaField(_l("法律依据与理由"), validators=[DataRequired(), Length(max=4000)])


class DisclosureRequestForm(Form):
    reason = TextAreaField(_l("申请查看身份的理由"),
                           validators=[DataRequired(), Length(min=5, max=1000)])


class DecideForm(Form):
    decision = RadioField(_l("审批"), choices=[SelectChoice("approve", _l("批准")),
                                              SelectChoice("refuse", _l("不批准"))],
                          validators=[DataRequired()])


class PassphraseForm(Form):
    passphrase = PasswordField(_l("身份密钥口令"), validators=[DataRequired(), Length(max=500)],
                               render_kw={"autocomplete": "off"})


class NoteForm(Form):
    note = TextAreaField(_l("办理进展"), validators=[DataRequired(), Length(max=4000)])


class ConsultationForm(Form):
    participants = StringField(_l("参加会商的单位和人员"),
                               validators=[DataRequired(), Length(max=500)])
    note = TextAreaField(_l("会商意见"), validators=[DataRequired(), Length(max=4000)])


class QuestionForm(Form):
    question = TextAreaField(_l("请反映人补充的内容（凭回执码可见）"),
                             validators=[DataRequired(), Length(max=2000)])


class MergeForm(Form):
    into = StringField(_l("合并到线索编号"), validators=[DataRequired(), Length(max=16)])


class ManualEntryForm(ReportForm):
    """A clue that arrived by letter, telephone or e-mail, typed in by a reviewer.

    Same fields, validation and encryption as the public form; the honeypot,
    the one-time nonce and the reporter's own pledge box do not apply (the
    notice's pledge is printed on letters and read out on calls).
    """

    channel = SelectField(_l("来源渠道"), choices=[
        SelectChoice("letter", _l("来信")), SelectChoice("phone", _l("来电")),
        SelectChoice("email", _l("电子邮件"))])
    pledge = None
    website = None
    nonce = None


class AcknowledgeWarningForm(Form):
    note = TextAreaField(_l("处置说明（可选）"), validators=[Optional(), Length(max=500)])
