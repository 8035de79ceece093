"""Reference data with stable codes: partners and reports depend on them.

The categories and situations follow the notice 关于公开征集涉企行政执法突出问题
线索的公告 (舟山市司法局, 2025-04-25), one situation per 情形 it lists. Codes
never change once published; a new situation gets a new code. Migrations
load these rows (see ``migrations/versions``), so a fresh database is usable
after ``db upgrade``.
"""

from __future__ import annotations

# (code, 中文, English, [(situation code, 中文, English), ...])
CATEGORIES: list[tuple[str, str, str, list[tuple[str, str, str]]]] = [
    ("fees", "乱收费", "Arbitrary fees", [
        ("fees_unauthorized_items", "违规设立收费项目", "Fee items set up without authority"),
        ("fees_disclosure", "公示项目收费不规范", "Published fees charged irregularly"),
        ("fees_raised", "提高收费标准、金额或扩大收费范围",
         "Raised fee rates or amounts, or widened their scope"),
        ("fees_abolished", "继续收取政府明令取消的收费项目",
         "Fees charged that the government has abolished"),
        ("fees_forced_services", "变相强制接受有偿服务、指定购买有关商品",
         "Paid services or designated goods forced on the enterprise"),
        ("fees_shifted_costs", "将政府委托服务事项相关费用转嫁给企业",
         "Costs of government-commissioned services passed on to enterprises"),
        ("fees_duplicate_embezzled", "重复收费、私吞截留收取费用",
         "Duplicate charges, or fees pocketed or withheld"),
        ("fees_relief_policies", "不按要求执行惠企收费政策",
         "Fee relief policies for enterprises not applied"),
    ]),
    ("fines", "乱罚款", "Arbitrary fines", [
        ("fines_beyond_authority", "超出法定权限或范围进行罚款",
         "Fines beyond legal authority or scope"),
        ("fines_discretion", "未按裁量权基准执行，随意顶格、高额罚款",
         "Discretion benchmarks ignored: maximum or excessive fines"),
        ("fines_lowered_threshold", "随意降低违法认定门槛、扩大违法行为范围",
         "Threshold for a violation lowered, or its scope widened"),
        ("fines_no_mitigation", "不依法给予减轻处罚、免于处罚",
         "Mitigation or exemption the law provides not granted"),
        ("fines_disproportionate", "类案不同罚、过罚不相当、畸轻畸重",
         "Like cases fined differently, or fines out of proportion"),
    ]),
    ("inspections", "乱检查", "Arbitrary inspections", [
        ("inspections_unqualified", "无执法资格的组织或个人（含第三方、中介机构）实施检查",
         "Inspection by bodies without enforcement status (incl. third parties)"),
        ("inspections_disguised", "变相以指导服务名义实施检查",
         "Inspection disguised as guidance or service"),
        ("inspections_beyond_duty", "超越法定职责开展检查", "Inspection beyond legal duties"),
        ("inspections_unpublished", "行政检查事项未经公布", "Inspection items not published"),
        ("inspections_excessive", "多头检查、多层检查、重复检查，执法扰企",
         "Multiple, layered or repeated inspections disturbing business"),
        ("inspections_procedure", "未亮证亮码检查、程序不合法、检查走过场",
         "No ID or code shown, unlawful procedure, or perfunctory inspection"),
    ]),
    ("seizures", "乱查封", "Arbitrary seizures", [
        ("seizures_abuse", "超权限、超范围、超额度、超时限查封扣押冻结",
         "Sealing, seizure or freezing beyond authority, scope, amount or time"),
        ("seizures_custody", "未依法保管或处置涉案财物",
         "Seized property not kept or disposed of lawfully"),
    ]),
    ("cross_region", "违规异地执法", "Improper cross-region enforcement", [
        ("cross_region_jurisdiction", "超越管辖范围或争议未决时违规异地执法",
         "Enforcement outside jurisdiction, or before a jurisdiction dispute is settled"),
        ("cross_region_no_cooperation", "异地办案无协作手续或手续不全",
         "Cross-region case without (complete) cooperation formalities"),
    ]),
    ("profit_driven", "趋利性执法", "Profit-driven enforcement", [
        ("profit_driven_quotas", "下达或变相下达罚没款、执法数量考核指标",
         "Quotas for fines, confiscations or enforcement counts"),
        ("profit_driven_cameras", "脱离监管需求随意设置电子监控设备",
         "Surveillance devices set up without real regulatory need"),
        ("profit_driven_revenue_link", "罚没收入与经费、福利待遇挂钩",
         "Penalty income tied to budgets or staff benefits"),
        ("profit_driven_collection", "违规预收、截留罚没款，违反罚缴分离",
         "Fines collected in advance or withheld, against separation of collection"),
    ]),
    ("quality", "执法质效", "Enforcement quality", [
        ("quality_inconsistent", "执法标准不一致、要求不统一，增加企业负担",
         "Inconsistent standards or requirements that burden enterprises"),
    ]),
    ("other", "其他执法规范问题", "Other enforcement conduct", [
        ("other_uncivil", "执法不文明、简单粗暴", "Uncivil or rough enforcement"),
        ("other_extortion", "吃拿卡要，收受或索取财物",
         "Demanding favours, accepting or soliciting money or gifts"),
        ("other_favouritism", "办关系案、人情案、金钱案，以权谋私",
         "Cases decided by connections, favours or money"),
    ]),
]

# (code, question 中文, question English, where it belongs 中文, English)
EXCLUSIONS: list[tuple[str, str, str, str, str]] = [
    ("discipline", "该问题是否已由纪检监察机关受理？",
     "Has a discipline inspection and supervision body already accepted this matter?",
     "请向受理的纪检监察机关了解办理情况。",
     "Please follow it up with the discipline inspection body that accepted it."),
    ("petition", "该问题是否已由信访部门受理？",
     "Has a petition (letters and visits) office already accepted this matter?",
     "请向受理的信访部门了解办理情况。",
     "Please follow it up with the petition office that accepted it."),
    ("reconsideration", "您是否已就该问题申请行政复议？",
     "Have you already applied for administrative reconsideration of this matter?",
     "请等待行政复议机关的决定。",
     "Please await the decision of the reconsideration body."),
    ("litigation", "该问题是否已进入司法程序（起诉、审理或执行）？",
     "Is the matter already in judicial proceedings (suit, trial or enforcement)?",
     "请通过人民法院的程序继续主张权利。",
     "Please pursue it through the court proceedings."),
]

DISTRICTS: list[tuple[str, str, str]] = [
    ("city", "市本级", "City level"),
    ("dinghai", "定海区", "Dinghai District"),
    ("putuo", "普陀区", "Putuo District"),
    ("daishan", "岱山县", "Daishan County"),
    ("shengsi", "嵊泗县", "Shengsi County"),
    ("xincheng", "新城", "Xincheng New Area"),
    ("putuoshan", "普陀山-朱家尖", "Putuoshan-Zhujiajian"),
]

DEPARTMENTS: list[tuple[str, str, str]] = [
    ("market", "市场监督管理局", "Market Supervision Administration"),
    ("tourism", "文化和广电旅游体育局", "Culture, Radio, TV, Tourism and Sports Bureau"),
    ("transport", "交通运输局", "Transport Bureau"),
    ("urban", "综合行政执法局", "Comprehensive Administrative Enforcement Bureau"),
    ("housing", "住房和城乡建设局", "Housing and Urban-Rural Development Bureau"),
    ("planning", "自然资源和规划局", "Natural Resources and Planning Bureau"),
    ("environment", "生态环境局", "Ecology and Environment Bureau"),
    ("emergency", "应急管理局", "Emergency Management Bureau"),
    ("fishery", "海洋与渔业局", "Ocean and Fishery Bureau"),
    ("agriculture", "农业农村局", "Agriculture and Rural Affairs Bureau"),
    ("health", "卫生健康委员会", "Health Commission"),
    ("public_security", "公安局", "Public Security Bureau"),
    ("tax", "税务局", "Tax Bureau"),
    ("fire", "消防救援支队", "Fire and Rescue Detachment"),
]


def seed_rows() -> dict[str, list[dict[str, object]]]:
    """Rows per table, in insertion order, for migrations and tests alike."""
    categories, situations = [], []
    for position, (code, name, name_en, items) in enumerate(CATEGORIES, start=1):
        categories.append({"code": code, "name": name, "name_en": name_en, "position": position})
        for sub_position, (s_code, s_name, s_en) in enumerate(items, start=1):
            situations.append(
                {"code": s_code, "category_code": code, "name": s_name, "name_en": s_en,
                 "position": sub_position}
            )
    return {
        "categories": categories,
        "situations": situations,
        "exclusions": [
            {"code": c, "question": q, "question_en": qe, "guidance": g, "guidance_en": ge,
             "position": i}
            for i, (c, q, qe, g, ge) in enumerate(EXCLUSIONS, start=1)
        ],
        "districts": [
            {"code": c, "name": n, "name_en": e, "position": i}
            for i, (c, n, e) in enumerate(DISTRICTS, start=1)
        ],
        "departments": [
            {"code": c, "name": n, "name_en": e, "position": i, "active": True}
            for i, (c, n, e) in enumerate(DEPARTMENTS, start=1)
        ],
    }
