"""Words for the domain's error codes, in the request's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

FIELD_MESSAGES = {
    "required": _l("此项为必填项。"),
    "type": _l("格式不正确。"),
    "too_long": _l("内容过长。"),
    "too_short": _l("内容过短。"),
    "choice": _l("请从列表中选择。"),
    "unknown": _l("不认识的字段。"),
    "date": _l("请填写有效日期（年-月-日）。"),
    "future": _l("日期不能晚于今天。"),
    "amount": _l("请填写不小于0、最多两位小数的金额（元）。"),
    "mobile": _l("请填写11位中国大陆手机号码。"),
    "email": _l("请填写有效的电子邮箱地址。"),
    "credit_code": _l("统一社会信用代码应为18位，且校验位正确。"),
    "anonymous": _l("匿名反映时请勿填写身份信息。"),
    "pledge": _l("请确认如实反映的承诺。"),
    "slug": _l("只能使用小写字母、数字和连字符。"),
    "before_opens": _l("截止时间必须晚于开始时间。"),
    "username": _l("用户名为2至64位字母、数字或 _ . -"),
    "two_departments": _l("请至少选择两个存在争议的部门。"),
    "future_required": _l("期限必须晚于现在。"),
    "self": _l("不能合并到自身。"),
    "merged": _l("目标线索已被合并。"),
}


def field_message(code: str) -> str:
    return str(FIELD_MESSAGES.get(code, FIELD_MESSAGES["type"]))

STATUS_LABELS = {
    "received": _l("已收到"),
    "triaging": _l("研判中"),
    "accepted": _l("已受理"),
    "not_accepted": _l("不予受理"),
    "assigned": _l("已交办"),
    "investigating": _l("核查中"),
    "concluded": _l("已办结"),
    "feedback_given": _l("已反馈"),
    "closed": _l("已结案"),
    "merged": _l("已合并处理"),
}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


ROLE_LABELS = {
    "admin": _l("系统管理员"),
    "reviewer": _l("研判人员"),
    "supervisor": _l("督办负责人"),
    "liaison": _l("部门联络员"),
    "analyst": _l("数据分析人员"),
}

COLOUR_LABELS = {
    "red": _l("红色（紧急）"),
    "orange": _l("橙色（较急）"),
    "yellow": _l("黄色（一般）"),
}

CHANNEL_LABELS = {
    "web": _l("网页"),
    "qr": _l("扫码"),
    "app": _l("合作应用"),
    "hotline": _l("12345热线"),
    "letter": _l("来信"),
    "phone": _l("来电"),
    "email": _l("电子邮件"),
}
