"""Demo and synthetic data: the notice's campaign, an open demo campaign, clues.

Synthetic clues go through the real intake (real envelopes, real receipts),
so demo data exercises the same code paths as reporters do.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select

from app.models import Campaign, Category, Channel, SourceTag
from app.reference import DISTRICTS
from app.services import campaigns, case_files, cases, intake
from app.services.intake import Keys
from app.services.types import DbSession
from app.timeutil import LOCAL, local_today

NOTICE_2025 = (Path(__file__).resolve().parent.parent / "data" / "notice_2025.txt").read_text(
    encoding="utf-8"
)
NOTICE_SLUG = "2025-enterprise-enforcement"
DEMO_SLUG = "demo-open"
# The same file as tests/data/cases_sample.csv (a test keeps them equal).
SAMPLE_CASES = Path(__file__).resolve().parent.parent / "data" / "cases_sample.csv"
SAMPLE_HOTLINE = SAMPLE_CASES.with_name("hotline_sample.csv")

SOURCE_TAGS = [
    ("hall-city", "市民中心行政服务大厅"),
    ("hall-putuo", "普陀区行政服务中心"),
    ("hall-dinghai", "定海区行政服务中心"),
    ("poster-shenjiamen", "沈家门渔港宣传海报"),
    ("meeting-2025-05", "2025年5月政企恳谈会"),
]

AGENCIES = [
    "普陀区市场监督管理局沈家门所", "定海区综合行政执法局", "岱山县交通运输局运管所",
    "嵊泗县文化和广电旅游体育局", "舟山市生态环境局普陀分局", "新城消防救援大队",
    "朱家尖旅游度假区综合执法中队", "定海区应急管理局", "普陀区海洋与渔业局执法大队",
    "舟山市住房和城乡建设局", "岱山县卫生健康局", "市税务局第二稽查局",
]

STORIES = {
    "fees": "办理{thing}时被要求另外缴纳一笔“服务费”{amount}元，没有收费依据，也不开正规票据。",
    "fines": "因{thing}被处罚款{amount}元，属于首次轻微违法且已当场改正，仍被按最高档处罚。",
    "inspections": "一个月内被{agency}等三个单位以不同名义上门检查{thing}，内容基本重复，影响正常营业。",
    "seizures": "{thing}被查封已超过法定期限，执法人员未出具延期决定，也未告知解封时间。",
    "cross_region": "外地执法人员到店调查{thing}，未出示协作函件，要求当场配合并带走账册。",
    "profit_driven": "听工作人员说有罚款任务指标，近期对{thing}集中开罚单，金额{amount}元。",
    "quality": "同样的{thing}，两个执法中队的要求不一致，整改后又被要求按另一标准重做。",
    "other": "执法人员检查{thing}时态度粗暴，暗示可以“通融”，让人很不安。",
}
# Five of them are about lodging, so that every theme of the hotel scenario
# (app/data/scenarios.json) has demo clues: safety, registration, rental,
# prices and refunds.
THINGS = ["民宿消防设施", "渔船证照", "餐饮后厨卫生", "店招广告", "货车运输证", "海鲜摊位价格标签",
          "宾馆入住登记", "冷库安全生产", "网约房备案", "加油站环保检测", "民宿房价明码标价",
          "酒店退订退款纠纷"]


@dataclass(frozen=True)
class DemoSummary:
    campaigns_created: list[str]
    clues_created: int


def ensure_campaigns(session: DbSession, now: datetime) -> list[str]:
    """The notice's (closed) 2025 campaign and an open demo campaign, if missing."""
    created = []
    if session.scalar(select(Campaign.id).where(Campaign.slug == NOTICE_SLUG)) is None:
        campaigns.create_campaign(
            session, slug=NOTICE_SLUG, title="公开征集涉企行政执法突出问题线索",
            opens_at=datetime(2025, 4, 25, tzinfo=LOCAL).astimezone(UTC),
            deadline=datetime(2025, 10, 1, tzinfo=LOCAL).astimezone(UTC),
            notice=NOTICE_2025, actor="demo-data",
        )
        created.append(NOTICE_SLUG)
    if session.scalar(select(Campaign.id).where(Campaign.slug == DEMO_SLUG)) is None:
        today = local_today(now)
        opens = datetime.combine(today - timedelta(days=30), time(), tzinfo=LOCAL)
        campaigns.create_campaign(
            session, slug=DEMO_SLUG, title="（演示）涉企行政执法问题线索征集",
            opens_at=opens.astimezone(UTC),
            deadline=(opens + timedelta(days=365)).astimezone(UTC),
            notice=NOTICE_2025.replace("本次征集活动自即日起至2025年9月30日止。",
                                       "本演示征集活动用于试用和培训。"),
            actor="demo-data",
        )
        created.append(DEMO_SLUG)
    for tag, label in SOURCE_TAGS:
        if session.scalar(select(SourceTag.id).where(SourceTag.tag == tag)) is None:
            session.add(SourceTag(tag=tag, label=label))
    session.commit()
    return created


def synthetic_payload(rng: random.Random, categories: list[Category], today_iso: str,
                      tags: list[str]) -> dict[str, object]:
    category = rng.choice(categories)
    situations = [s.code for s in rng.sample(category.situations,
                                             k=min(len(category.situations), rng.randint(1, 2)))]
    agency = rng.choice(AGENCIES)
    amount = rng.choice([None, 200, 500, 2000, 5000, 20000, 50000])
    text = STORIES[category.code].format(thing=rng.choice(THINGS), amount=amount or "若干",
                                         agency=agency)
    real_name = rng.random() < 0.55
    payload: dict[str, object] = {
        "category": category.code, "situations": situations, "agency": agency,
        "district": rng.choice(DISTRICTS)[0], "description": text,
        "real_name": real_name, "confidential": rng.random() < 0.8,
        "exclusions": {"discipline": False, "petition": False, "reconsideration": False,
                       "litigation": False},
        "pledge": True, "occurred_on": today_iso,
        "source_tag": rng.choice(tags) if tags and rng.random() < 0.5 else None,
    }
    if amount is not None:
        payload["amount_yuan"] = amount
    if real_name:
        payload["identity"] = {
            "name": rng.choice("王李张刘陈杨黄赵周吴") + rng.choice(["海波", "丽娜", "建国", "晓东", "敏"]),
            "phone": f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}",
            "company": rng.choice(["舟山海韵民宿", "沈家门海鲜排档", "岱山顺达物流有限公司",
                                   "嵊泗渔家乐", "定海老街茶馆"]),
        }
    return payload


def make_clues(session: DbSession, n: int, *, keys: intake.Keys, now: datetime,
               seed: int = 2025) -> int:
    """N synthetic clues through the real intake, spread over the last 30 days."""
    rng = random.Random(seed)
    categories = list(session.scalars(select(Category).order_by(Category.position)))
    tags = list(session.scalars(select(SourceTag.tag)))
    channels = [Channel.WEB, Channel.QR, Channel.APP, Channel.HOTLINE]
    for _ in range(n):
        at = now - timedelta(minutes=rng.randint(0, 30 * 24 * 60))
        payload = synthetic_payload(rng, categories, local_today(at).isoformat(), tags)
        intake.submit(session, payload, channel=rng.choice(channels), keys=keys, now=at,
                      actor="demo-data", require_open_campaign=False)
    return n


def load_cases(session: DbSession, now: datetime) -> int:
    """The sample enforcement cases, their dates moved so that the newest falls on
    today: the demo clues are recent, and the console's period view should find
    cases beside them. Re-running updates the same case numbers."""
    result = cases.ImportResult()
    lookups = cases.Lookups.load(session, date.max)
    records = list(cases.check_rows(case_files.read_rows(SAMPLE_CASES), lookups, result))
    if not records:
        return 0
    shift = local_today(now) - max(r.decided_on for r in records)
    moved = [replace(r, decided_on=r.decided_on + shift) for r in records]
    cases.import_records(session, moved, now=now, result=result)
    return result.imported



def load_hotline(session: DbSession, now: datetime, *, keys: Keys) -> int:
    """A day's sample hotline export (五一 2025), through the real import: screened,
    enforcement-related orders made clues, disputes opened. Re-running skips it."""
    from app.services import hotline_import

    with SAMPLE_HOTLINE.open("rb") as stream:
        report = hotline_import.import_file(
            session, SAMPLE_HOTLINE.name, stream, overrides=None,
            public_key=keys.identity_public, receipt_key=keys.receipt_key, now=now,
            actor="demo-data")
    return report.imported
