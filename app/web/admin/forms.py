"""Administration forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional

from app.messages import ROLE_LABELS
from app.web.forms import Form


class UserForm(Form):
    username = StringField(_l("用户名"), validators=[DataRequired(), Length(max=64)])
    role = SelectField(_l("角色"), choices=[SelectChoice(k, v) for k, v in ROLE_LABELS.items()])
    department = SelectField(_l("所属部门（联络员必填）"), validators=[Optional()])
    email = StringField(_l("邮箱"), validators=[Optional(), Email(), Length(max=254)])
    password = PasswordField(_l("初始密码（至少12位）"), validators=[DataRequired(),
                                                                 Length(min=12, max=200)])


class ResetForm(Form):
    password = PasswordField(_l("新密码（留空则不改）"), validators=[Optional(),
                                                                Length(min=12, max=200)])
    new_totp = BooleanField(_l("重新生成动态验证码密钥"))


class DepartmentForm(Form):
    code = StringField(_l("代码（小写字母、数字、下划线）"), validators=[DataRequired(),
                                                                  Length(max=32)])
    name = StringField(_l("名称"), validators=[DataRequired(), Length(max=64)])
    name_en = StringField(_l("英文名称"), validators=[Optional(), Length(max=128)])


class SituationForm(Form):
    category = SelectField(_l("所属类别"))
    code = StringField(_l("代码（以类别代码加下划线开头，如 fees_xxx）"),
                       validators=[DataRequired(), Length(max=64)])
    name = StringField(_l("名称"), validators=[DataRequired(), Length(max=128)])
    name_en = StringField(_l("英文名称"), validators=[Optional(), Length(max=200)])


class TagForm(Form):
    tag = StringField(_l("标签（小写字母、数字、连字符）"), validators=[DataRequired(),
                                                                   Length(max=40)])
    label = StringField(_l("张贴地点或用途"), validators=[DataRequired(), Length(max=120)])


class CampaignForm(Form):
    slug = StringField(_l("标识"), validators=[Optional(), Length(max=64)])
    title = StringField(_l("标题"), validators=[DataRequired(), Length(max=200)])
    notice = TextAreaField(_l("公告正文"), validators=[Optional(), Length(max=50_000)])
    opens_at = DateTimeLocalField(_l("开始时间（北京时间）"), validators=[DataRequired()])
    deadline = DateTimeLocalField(_l("截止时间（北京时间，不含）"), validators=[DataRequired()])


class TokenForm(Form):
    name = StringField(_l("接入系统名称"), validators=[DataRequired(), Length(max=120)])
    channel = SelectField(_l("渠道"), choices=[SelectChoice("app", _l("合作应用")),
                                               SelectChoice("hotline", _l("12345热线"))])
