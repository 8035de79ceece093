"""Screening 12345 work orders: is this about enforcement against an enterprise?

The rules are declarative tables written from the notice's situations (see
app/reference.py) and from how hotline summaries are phrased, not from the
labelled test set that measures them (tests/data/hotline_labelled.csv). An
order is enforcement-related when three things meet:

1. an enforcement act is complained of (a fine, an inspection, a seizure, a
   fee demanded by an authority…), found as whole words by the jieba
   segmenter, so that 检查 does not match inside 体检查询;
2. the complainant is an enterprise or business (我公司, 本店, 企业负责人来电…),
   or the act is plainly aimed at one (对我店罚款); and
3. it is not a request *for* enforcement against someone else (a neighbour's
   noise, a shop's expired food), unless it also complains of how
   enforcement was done.

Every rule that fired is reported, in Chinese, as the reason shown to the
reviewer, who confirms or corrects; corrections are kept on the order so
that precision and recall can be measured against reality.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

import jieba

VERSION = "r2"

# Category → words (whole jieba tokens) and phrases (regular expressions on
# the raw text), each with a weight. Drawn from the notice's situations.
CATEGORY_RULES: dict[str, tuple[dict[str, int], list[tuple[str, int]]]] = {
    "fees": ({"乱收费": 3, "收费": 2, "收取": 1, "摊派": 3, "赞助": 2, "会费": 2,
              "培训费": 2, "检测费": 2, "评估费": 2, "服务费": 1, "管理费": 1, "押金": 1,
              "保证金": 1, "费用": 1, "缴费": 1, "交费": 1, "停车费": 1, "票据": 1},
             [(r"指定.{0,8}(购买|采购|安装|使用|单位|机构|公司|商家)", 3),
              (r"(强制|变相|必须).{0,6}(购买|参加|缴纳|交纳|培训|服务)", 3),
              (r"(已经?取消|明令取消).{0,8}(费|收费)", 3), (r"重复收费", 3),
              (r"收.{0,4}(钱|费).{0,6}(不给|没有|未开|无)(发票|收据|票据)", 2),
              (r"(收取?|缴纳|交纳|缴|交|要)[^，。；]{0,10}费", 2),
              (r"不交(钱|费)?就", 2),
              (r"(推荐|指定|介绍)的?(第三方|公司|机构)", 2)]),
    "fines": ({"罚款": 3, "罚": 1, "罚单": 3, "处罚": 2, "罚没": 2, "顶格": 3, "没收": 2,
               "罚了": 3, "处罚决定书": 3},
              [(r"罚(了|款)?\s*\d+(\.\d+)?\s*(元|万)", 2), (r"(过重|太重|畸重|过高)", 1),
               (r"(首次|初次|轻微).{0,10}(违法|违规|问题).{0,16}(罚|处罚)", 3),
               (r"(同样|一样|类似).{0,10}(罚|处罚).{0,10}(不同|不一样|差别)", 3),
               (r"过罚不相当|类案不同罚|畸轻畸重|处罚权|超出权限|超越职权", 3)]),
    "inspections": ({"检查": 2, "检查组": 3, "抽查": 2, "暗访": 1, "突击检查": 3,
                     "督查": 2, "查验": 1, "巡查": 1, "核查": 1, "检查表": 2, "检查人员": 3,
                     "登船检查": 3, "执法码": 2, "执法证": 2},
                    [(r"(多次|反复|频繁|重复|轮番|接连|三番五次|隔三差五)"
                      r".{0,8}(检查|来查|上门)", 3),
                     (r"(一|1|两|2|三|3|半)个?(月|周|星期|天).{0,6}(来了|检查|查了).{0,6}"
                      r"(\d+|[二两三四五六七八九十几多]+)\s*(次|回|趟)", 3),
                     (r"(一|1|两|2|三|3|半)个?(月|周|星期|天|年)(内|里|之内|来)?.{0,4}"
                      r"(\d+|[二两三四五六七八九十几多]+)\s*(次|回|趟|拨)", 2),
                     (r"(未|没有?|不)(出示|亮明?)(证件|执法证|证)", 3),
                     (r"(第三方|中介|机构).{0,8}(检查|上门|查)", 2),
                     (r"以.{0,4}(指导|服务|帮扶).{0,4}(名义|为名)", 3),
                     (r"检查[^。]{0,30}(先后|又来|再次|每天|每次|一天内|重复|同样的?(项目|内容)|"
                      r"[二两三四五六七八九十几多]\s*(次|遍|拨|回|支队伍))", 2),
                     (r"(先后|又来|再次|每天|一天内|[二两三四五六七八九十几多]\s*(次|遍|拨|回))"
                      r"[^。]{0,20}检查", 2),
                     (r"(停止营业|停业|停工|暂停)[^。]{0,8}配合检查|"
                      r"配合检查[^。]{0,8}(停|暂停)", 2)]),
    "seizures": ({"查封": 3, "扣押": 3, "冻结": 3, "封存": 2, "扣车": 3, "扣船": 3,
                  "暂扣": 3, "封条": 2, "贴封": 2},
                 [(r"(扣|封|冻).{0,8}(不还|未归还|没有?归还|超期|超过.{0,4}期限|迟迟)", 3),
                  (r"(未|没有?|不)(退还|发还|归还|解封|解冻)", 2),
                  (r"(扣押|查封|封存).{0,10}(损坏|丢失|变质|处置)", 2)]),
    "cross_region": ({"异地": 3, "跨省": 3, "外省": 2, "外地": 2, "外市": 2, "跨区": 2,
                      "跨地区": 3, "远洋": 0},
                     [(r"(外地|外省|外市|异地|省外|市外)"
                       r".{0,12}(公安|执法|警方|法院|税务|来人|人员)", 3),
                      (r"(跨省|跨市|跨区域|异地).{0,6}(冻结|查封|扣押|抓|带走|办案|执法)", 3)]),
    "profit_driven": ({"趋利": 3, "创收": 3, "指标": 2, "任务数": 2, "罚没收入": 3,
                       "提成": 2, "钓鱼执法": 3, "电子眼": 1, "摄像头": 1, "探头": 1},
                      [(r"(罚款|罚没|执法|开单).{0,6}(指标|任务|创收|考核)", 3),
                       (r"(为了?|就是|专门).{0,4}(罚钱|罚款|创收|收钱)", 3),
                       (r"(摄像头|探头|电子眼|抓拍).{0,12}(隐蔽|偷拍|专门|故意|位置|频繁)", 2),
                       (r"(先交|预交|预收).{0,6}(罚款|钱)", 3),
                       (r"(测速|抓拍|电子眼|探头)[^。]{0,30}(罚|被拍)", 2),
                       (r"(现金|当场)[^。]{0,8}(罚款|收取)[^。]{0,12}(没有?|未|不)[^。]{0,4}"
                        r"(收据|票据|开具)", 3),
                       (r"(考核|指标|任务)[^。]{0,10}(罚|查处|处罚)|"
                        r"(罚|查处)[^。]{0,10}(考核|指标)", 3)]),
    "quality": ({"推诿": 3, "不作为": 2, "拖延": 2, "扯皮": 3, "踢皮球": 3, "标准不一": 3,
                 "互相推诿": 3, "多头": 2, "不一致": 2},
                [(r"(标准|要求|说法|口径).{0,6}(不一|不一致|不统一|不同|打架|矛盾)", 3),
                 (r"(这个|一个)部门.{0,10}(那个|另一个)部门", 2),
                 (r"(整改|验收|审批|办理).{0,10}(反复|多次|来回|一直不|迟迟)", 2),
                 (r"(两个|不同|多个|几个|各)(部门|单位|层级)"
                  r"[^。]{0,16}(不同|相反|不一|矛盾|打架)", 3),
                 (r"(要求|意见|标准|认定|说法)[^。]{0,4}(不同|相反|矛盾|不一致)", 2),
                 (r"(按照|按)哪个|无所适从|不知道该(按|听)", 2)]),
    "other": ({"粗暴": 3, "态度恶劣": 3, "辱骂": 3, "推搡": 3, "索要": 3, "吃拿卡要": 3,
               "红包": 2, "好处费": 3, "人情": 2, "打招呼": 2, "关系户": 3, "威胁": 2,
               "恐吓": 2, "不文明": 3, "呵斥": 3, "刁难": 2, "暗示": 2, "好处": 2,
               "以权谋私": 3, "人情案": 3, "亲戚": 1, "掀翻": 2, "踢翻": 2},
              [(r"(态度|语气).{0,4}(恶劣|很差|极差|蛮横|凶)", 3),
               (r"(要|索要|收了?|拿了?).{0,6}(烟|酒|红包|好处|礼)", 3)]),
}
# Priority when two categories score the same (the more specific first).
CATEGORY_ORDER = ["seizures", "cross_region", "profit_driven", "fees", "fines", "inspections",
                  "other", "quality"]

# Who acts: an administrative enforcement body or its staff.
ENFORCER_WORDS = {"执法", "执法人员", "执法队员", "执法队", "执法大队", "执法中队", "城管",
                  "市场监管", "市场监督管理局", "市监局", "市监", "监管局", "监管所", "稽查",
                  "稽查队", "公安", "派出所", "交警", "运管", "交通局", "海事", "渔政",
                  "海洋与渔业局", "生态环境局", "环保局", "环保", "消防", "消防队", "税务",
                  "税务局", "卫健", "卫生监督", "应急", "应急管理局", "综合执法", "文旅局",
                  "文旅", "旅游局", "住建", "住建局", "自然资源", "规划局", "农业农村局",
                  "检查组", "工作人员", "警察", "民警", "所长", "局里", "执法局", "街道",
                  "乡镇", "镇政府", "社区", "部门", "窗口", "管理站", "管理处", "检查人员",
                  "乡里", "镇里", "村里", "区里", "县里", "市里", "政府", "检验机构",
                  "第三方", "边防", "渔政站", "管理所", "中队", "大队", "制服"}
# Who complains: the caller speaks for a business.
BUSINESS_WORDS = (r"公司|企业|店|厂|民宿|饭店|餐馆|餐厅|酒店|宾馆|门店|超市|船|车队|合作社|商铺|"
                  r"作坊|养殖场|摊位?|工地|排档|农家乐|渔家乐|旅行社|冷库|仓库|KTV|网吧|驾校|"
                  r"药店|商行|批发部|加油站")
BUSINESS_ROLES = (r"老板|老板娘|负责人|经营者|经营户|店主|摊主|法人|股东|船东|船长|船老大|"
                  r"业主|店长|厂长|经理|项目经理|财务|会计|员工|店员|职工|司机|个体户|个体工商户|商户|经销商|"
                  r"批发商|供应商|承包人|养殖户")
BUSINESS_SELF = [
    rf"(我|本|我们|自家|我家|咱|其|自己)(的)?({BUSINESS_WORDS}|司)",
    rf"({BUSINESS_WORDS})?({BUSINESS_ROLES})(来电|致电|反映|称|投诉|表示|诉求)",
    rf"({BUSINESS_WORDS})(来电|致电)(反映|称|投诉)?",
    rf"来电人(系|是|为|自称)[^，。]{{0,20}}({BUSINESS_ROLES}|{BUSINESS_WORDS})",
    r"来电人(在|于)?[^，。]{0,16}(经营|开设|开办|开了|承包)",
    r"(经营|开设|开办|开了)(一家|一个|的)",
    r"(我|我们)(在|于).{0,12}(经营|开店|开了|做生意|开民宿|办厂)",
]
BUSINESS_TARGET = [
    r"(对|给|到|来|把)(我|我们|本|其|该)(的)?(公司|企业|店|厂|民宿|饭店|餐馆|酒店|门店|超市|船|渔船|"
    r"店铺|商铺|工地|车)",
    rf"(到|来|进|上)(了)?({BUSINESS_WORDS})(里|内|中|上)?[^，。]{{0,4}}(检查|执法|查处|处罚)",
    r"(企业|经营户|商户|个体户|商家)[^，。]{0,6}(被|遭)[^，。]{0,6}(罚|查封|扣押|冻结|检查)",
]
# A request for enforcement against someone else, not a complaint about it.
REQUEST_FOR_ENFORCEMENT = [
    r"(要求|希望|请求|请)(相关|有关|执法|职能)?(部门|单位)?.{0,4}(查处|整治|取缔|严查|"
    r"管管|管一管|清理|拆除)(该|这家|那家|他们|对方|隔壁|此)",
    r"(噪音|噪声)(扰民|太大|很大)|扰民|油烟扰|违章搭建|乱扔|脏乱",
    r"(过期|变质|假冒|伪劣|三无|缺斤短两|宰客|欺诈|欺骗消费者|霸王条款|不退|拒绝退款|价格欺诈)",
    r"(无证|无照|黑)(经营|车|店|作坊|导游|民宿)",
    r"(举报|投诉)(一家|某|该|隔壁|楼下|附近|小区)",
]
# Words that make a complaint about how enforcement was done.
ENFORCEMENT_GRIEVANCE = [
    r"(不合理|不规范|不合法|违规|随意|任意|过重|过高|太重|不公|不公平|不服|冤枉|委屈|不当|"
    r"过罚不相当|人情案|以权谋私|截留|超出权限|不文明|粗暴|依据|凭什么|为何|为什么|质疑|"
    r"刁难|为难|扰企|影响(正常)?经营|无法(正常)?营业|停业|被迫|强行|强制|没有依据|无依据|"
    r"未告知|没有告知|不告知|未出示|没有出示|不出示|不给解释|不说明|不讲理|索要|指定|变相|"
    r"不一致|推诿|拖延|迟迟|反复|多次|频繁|重复|顶格|罚了|查封|扣押|冻结|外地|跨省|异地)",
]


@dataclass
class Verdict:
    enforcement_related: bool
    category: str | None
    reasons: list[str] = field(default_factory=list)
    scores: dict[str, int] = field(default_factory=dict)


_jieba_lock = threading.Lock()
_jieba_ready = False


def _words(text: str) -> set[str]:
    global _jieba_ready
    if not _jieba_ready:
        with _jieba_lock:
            if not _jieba_ready:
                for words, _ in CATEGORY_RULES.values():
                    for word in words:
                        jieba.add_word(word, freq=50_000)
                for word in ENFORCER_WORDS:
                    jieba.add_word(word, freq=50_000)
                _jieba_ready = True
    # Only the words in the rule tables matter, and the segmenter cuts at
    # punctuation anyway: segmenting just the clauses that contain one of
    # them gives the same answer for a fraction of the cost.
    found: set[str] = set()
    for clause in _CLAUSE.split(text):
        if _KEYWORD.search(clause):
            found.update(jieba.lcut(clause, HMM=False))
    return found


def warm_up() -> None:
    """Load the segmenter's dictionary now (before worker processes fork, say)."""
    _words("执法")


def _compile(patterns: Iterable[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


_SELF = _compile(BUSINESS_SELF)
_TARGET = _compile(BUSINESS_TARGET)
_REQUEST = _compile(REQUEST_FOR_ENFORCEMENT)
_GRIEVANCE = _compile(ENFORCEMENT_GRIEVANCE)
_PHRASES = {code: [(re.compile(p), w) for p, w in phrases]
            for code, (_, phrases) in CATEGORY_RULES.items()}
_ALL_WORDS = frozenset(word for weights, _ in CATEGORY_RULES.values() for word in weights)
_KEYWORD = re.compile("|".join(re.escape(w) for w in sorted(_ALL_WORDS | ENFORCER_WORDS,
                                                              key=len, reverse=True) if w))
_CLAUSE = re.compile(r"[，。；！？、,.;!?：:（）()“”\"\s]+")
THRESHOLD = 3


def _category_scores(text: str, words: set[str]) -> dict[str, int]:
    scores = {}
    for code, (weights, _) in CATEGORY_RULES.items():
        score = sum(weight for word, weight in weights.items() if word in words)
        score += sum(weight for rx, weight in _PHRASES[code] if rx.search(text))
        if score:
            scores[code] = score
    return scores


def screen(content: str, *, hotline_category: str | None = None,
           agency: str | None = None) -> Verdict:
    """The rules' verdict on one order, with the reasons that decided it."""
    text = re.sub(r"\s+", "", content or "")
    # The cheap test first: without an enterprise or business as the one
    # complaining (or as the target), an order cannot qualify, and the bulk
    # of a hotline day (utilities, consumer disputes, consultations) stops here.
    business = bool(_SELF.search(text) or _TARGET.search(text))
    if not business:
        return Verdict(False, None, ["未见企业或经营者作为反映人或执法对象"])
    # Segmenting is the costly step: skip it when not one enforcement word or
    # phrase of any category is even a substring of the text.
    if not any(word in text for word in _ALL_WORDS) and not any(
            rx.search(text) for phrases in _PHRASES.values() for rx, _w in phrases):
        return Verdict(False, None, ["反映人为企业或经营者，或执法针对其经营", "执法行为用语不足"])
    words = _words(text)
    scores = _category_scores(text, words)
    reasons = []
    best = max(CATEGORY_ORDER, key=lambda c: (scores.get(c, 0), -CATEGORY_ORDER.index(c)))
    top = scores.get(best, 0)
    if top:
        reasons.append(f"执法行为用语指向“{_label(best)}”（得分{top}）")
    enforcer = sorted(words & ENFORCER_WORDS)
    if enforcer:
        reasons.append("提及执法主体：" + "、".join(enforcer[:4]))
    reasons.append("反映人为企业或经营者，或执法针对其经营")
    grievance = _GRIEVANCE.search(text)
    if grievance:
        reasons.append(f"对执法方式提出异议（“{grievance.group(0)}”）")
    request = _REQUEST.search(text)
    if request:
        reasons.append(f"含要求查处他人的诉求（“{request.group(0)}”）")
    if hotline_category and re.search(r"执法|监管|投诉.{0,2}部门|行政", hotline_category):
        top += 1
        reasons.append(f"热线分类为“{hotline_category}”")
    related = top >= THRESHOLD and bool(enforcer) and (not request or bool(grievance))
    if not related:
        if top < THRESHOLD:
            reasons.append("执法行为用语不足")
        elif request and not grievance:
            reasons.append("属于要求执法部门查处他人的诉求，不是对执法的投诉")
        else:
            reasons.append("未提及执法主体")
    return Verdict(related, best if related else None, reasons, scores)


def _label(code: str) -> str:
    from app.reference import CATEGORIES

    return next((name for c, name, _en, _s in CATEGORIES if c == code), code)
