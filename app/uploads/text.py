"""Words for attachment refusals and for what was removed, in the page's language."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

REFUSALS = {
    "empty": _l("文件是空的。"),
    "type": _l("文件类型不支持。可上传照片（JPG、PNG、WebP）、PDF、Word/Excel/PowerPoint "
               "文档（.docx/.xlsx/.pptx）和录音（MP3、M4A、AMR、WAV 等）。"),
    "heic": _l("暂不支持 HEIC 格式的照片。请在手机相机设置中选择“兼容性最佳”，或截图后上传。"),
    "legacy_office": _l("暂不接收旧版 Office 文件（.doc/.xls/.ppt），因为其中的作者信息"
                        "无法自动清除。请另存为 .docx/.xlsx/.pptx 或 PDF 后上传。"),
    "macro": _l("含宏的 Office 文件不予接收，请另存为不含宏的 .docx/.xlsx/.pptx 或 PDF。"),
    "video": _l("暂不接收视频。请截取关键画面作为照片上传，或在描述中说明。"),
    "damaged": _l("文件已损坏或格式不完整，无法处理。"),
    "pixels": _l("图片尺寸过大，无法处理。请缩小后再上传。"),
    "encrypted": _l("PDF 设有打开密码，无法处理。请去除密码后再上传。"),
    "not_configured": _l("系统暂时无法接收附件，请稍后再试，或先不带附件提交。"),
}
REMOVED = {
    "gps": _l("位置信息（GPS）"),
    "device": _l("拍摄设备信息"),
    "time": _l("拍摄或编辑时间"),
    "author": _l("作者和修改人"),
    "revision": _l("修订记录"),
    "software": _l("制作软件信息"),
    "other": _l("其他附带信息（缩略图、备注等）"),
}
KINDS = {"image": _l("图片"), "pdf": _l("PDF 文档"), "office": _l("Office 文档"),
         "audio": _l("录音")}
ORDER = list(REMOVED)


def refusal(code: str, *, max_mb: int, max_files: int) -> str:
    if code == "too_large":
        return _("文件超过%(mb)d MB，请压缩或分开后再上传。", mb=max_mb)
    if code == "count":
        return _("最多上传%(n)d个附件。", n=max_files)
    return str(REFUSALS.get(code, REFUSALS["type"]))


def removed_summary(kind: str, codes: Iterable[str]) -> str:
    """One sentence telling the reporter (or reviewer) what was taken out."""
    found = [c for c in ORDER if c in set(codes)]
    if kind == "audio":
        return _("录音按原样保存，未处理其中的附带信息。")
    if not found:
        return _("未发现需要移除的附带信息。")
    return _("已移除：%(items)s。", items="、".join(str(REMOVED[c]) for c in found))


def size_label(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MB"
    return f"{max(1, round(n / 1024))} KB"
