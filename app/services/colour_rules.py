"""Suggest a colour (红橙黄三色研判) from declarative rules, and say why.

The reviewer confirms or overrides the suggestion with a reason; the rules
only save time and make the triage consistent. Each rule is data: edit the
tables below, not the code that applies them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, inspect, select

from app.models import Clue
from app.services.types import DbSession
from app.timeutil import local

RANK = {"yellow": 0, "orange": 1, "red": 2}

AMOUNT_RULES = [(50_000_00, "red", "涉及金额5万元以上"), (10_000_00, "orange", "涉及金额1万元以上")]
REPEAT_WINDOW_DAYS = 30
REPEAT_RULES = [(5, "red", "同一单位30日内被反映{n}"), (3, "orange", "同一单位30日内被反映{n}")]
# Repeats are counted up to this many: an agency named in thousands of clues
# would otherwise cost every submission and every clue page a long count.
REPEAT_COUNT_CAP = 100
CATEGORY_RULES = {"seizures": ("orange", "查封扣押类问题影响企业经营"),
                  "profit_driven": ("orange", "趋利性执法问题")}
KEYWORD_RULES = [
    (("停产", "停业", "冻结账户", "冻结", "扣押"), "red", "可能导致停产停业或资金冻结"),
    (("索要", "吃拿卡要", "红包", "好处费"), "red", "涉嫌索取财物"),
    (("多家企业", "多家商户", "多家民宿", "一批企业"), "orange", "涉及多家企业"),
]
TOURISM_WORDS = ("民宿", "酒店", "宾馆", "旅游", "景区", "游客", "退订", "退房", "渔家乐")
# Tourism peaks of the islands: national holidays and the summer season.
PEAKS = [((1, 1), (1, 3)), ((4, 4), (4, 6)), ((5, 1), (5, 5)), ((7, 1), (8, 31)),
         ((10, 1), (10, 7))]


@dataclass
class Suggestion:
    colour: str = "yellow"
    reasons: list[str] = field(default_factory=list)

    def raise_to(self, colour: str, reason: str) -> None:
        self.reasons.append(reason)
        if RANK[colour] > RANK[self.colour]:
            self.colour = colour


def in_peak(day: date) -> bool:
    return any((m1, d1) <= (day.month, day.day) <= (m2, d2) for (m1, d1), (m2, d2) in PEAKS)


def suggest(session: DbSession, clue: Clue, now: datetime) -> Suggestion:
    result = Suggestion()
    for threshold, colour, reason in AMOUNT_RULES:
        if clue.amount_fen is not None and clue.amount_fen >= threshold:
            result.raise_to(colour, reason)
            break
    recent = (select(Clue.id).where(
        Clue.agency == clue.agency, Clue.created_at >= now - timedelta(days=REPEAT_WINDOW_DAYS))
        .limit(REPEAT_COUNT_CAP + 1).subquery())
    repeats = session.scalar(select(func.count()).select_from(recent)) or 0
    state = inspect(clue)
    if state.transient or state.pending:
        repeats += 1  # not stored yet: counted as the database will count it
    for threshold, colour, reason in REPEAT_RULES:
        if repeats >= threshold:
            shown = f"{REPEAT_COUNT_CAP}次以上" if repeats > REPEAT_COUNT_CAP else f"{repeats}次"
            result.raise_to(colour, reason.format(n=shown))
            break
    if clue.category_code in CATEGORY_RULES:
        result.raise_to(*CATEGORY_RULES[clue.category_code])
    text = f"{clue.agency} {clue.description}"
    for words, colour, reason in KEYWORD_RULES:
        if any(word in text for word in words):
            result.raise_to(colour, reason)
    if any(word in text for word in TOURISM_WORDS) and in_peak(local(clue.created_at).date()):
        result.raise_to("orange", "旅游旺季涉旅问题")
    if not result.reasons:
        result.reasons.append("未触发加急规则，按一般问题处理")
    return result
