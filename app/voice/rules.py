"""Keyword rules for classifying voices: the admin services and the default set.

Every change is validated, audited and bumps the rules' version stamp in the same
transaction, so every process's cached rule set (app.voice.classification) reloads once the
change commits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from app.core import audit
from app.core.errors import NotFound, ValidationFailed
from app.db import utcnow
from app.extensions import db
from app.issues.models import DIMENSIONS, Category
from app.issues.reference import ensure_reference_data
from app.voice.classification import bump_rules_version
from app.voice.models import ClassificationRule
from app.voice.textnorm import normalize

if TYPE_CHECKING:
    from app.auth.models import User

MAX_KEYWORD = 80
MAX_WEIGHT = 100.0

# Default rules: category code (or "dimension:<name>" for a dimension-only rule) → keywords,
# Chinese and English. Weight 1 unless given as (keyword, weight). Broad words that only
# hint at a dimension carry less weight than words that name a category.
# fmt: off
DEFAULT_RULES: dict[str, list[str | tuple[str, float]]] = {
    "product_quality": [
        "质量", "故障", ("死机", 1.5), "宕机", "蓝屏", ("无法开机", 1.5), "开不了机",
        "不开机", "重启", "坏了", "损坏", "烧坏", "冒烟", "异响", "噪音", "过热", "发烫",
        "漏水", "漏油", "生锈", "开裂", "掉线", "断线", "失灵", "报错", "黑屏", "卡顿",
        "崩溃", "闪退", "返修", "退货", "次品", "缺陷", "不良", "良率", "寿命", "老化",
        "稳定性", "不稳定", "性能下降", ("quality", 1.0), "crash", "broken", "faulty",
        "defect", "defective", "malfunction", "overheat", "overheating", "noise", "noisy",
        "leak", "reboot", "freeze", "frozen", "failure", "dead on arrival", "doa",
        "blue screen", "error code", "unstable", "rma",
        "坏点", "掉电", "鼓包", "电容", "烧了", ("坏", 0.8), "报警", "异味", "耐用", "可靠性",
        ("稳定", 0.8), "散热",
        ("烫", 0.8), "声音大", "检验", "召回", "做工", "recall", "loud", "capacitor", "battery",
        "hardware",
        ("reliable", 0.8), "flicker", "flickers", "cracked", "dead",
    ],
    "product_function": [
        "功能", "新功能", "不支持", "兼容", "兼容性", "接口", "界面", "操作界面",
        "升级", "固件", "版本", "软件", "报表功能", "导出", "集成", "需求", "希望增加",
        "能不能加", "建议增加", "定制", "参数", "配置项", "feature", "features",
        "function", "functionality", "compatible", "compatibility", "integration", "api",
        "firmware", "software", "upgrade", "user interface", "ui", "export", "support for",
        "feature request", "customization",
        "筛选", "选项", "对接", "上传", "登不上", "登录", "同步", "阈值", ("设置", 0.5), "后台",
        "看板", "搜索", "上手",
        "批量", "option", "filter", "dashboard", "import", "bulk", "search", "sync", "login",
        "log in", ("settings", 0.5), "alerting", "alert", "roadmap", "single sign-on", "sso",
        "mobile app", ("app", 0.8), "version", "release",
    ],
    "installation": [
        ("安装", 1.5), "调试", "上门安装", "装机", "布线", "部署", "开通", "验收",
        "现场施工", "接线", "调测", "割接", "上线", "installation", ("install", 1.5),
        "installer", "commissioning", "deployment", "deploy", "setup", "set up", "wiring",
        "cabling", "site survey", "go-live", "acceptance test",
        "施工", "施工队", ("上门", 0.5), ("现场", 0.3), "装好", "装完", ("on-site", 0.5), "crew",
        "installed",
        "went live", "go live",
    ],
    "delivery": [
        ("交货", 1.5), "交付", "发货", "到货", "物流", "运输", "延期", "货期", "交期",
        "送货", "签收", "未到", "迟到", "还没到", "订单", "少发", "漏发", "发错",
        ("delivery", 1.5), "deliver", "delivered", "shipment", "shipping", "shipped",
        "logistics", "lead time", "arrived", "arrive", "tracking", "courier", "dispatch",
        "backorder", "order status",
        "收货", ("货", 0.8), "型号不对", "发来的", "地址", "快递", "到达", "批货", "发出",
        ("order", 0.8), "pallet",
        "boxes", "box", "wrong model", "ship",
    ],
    "spare_parts": [
        ("备件", 1.5), "备品", "配件", "零件", "零部件", "更换件", "缺件", "耗材",
        "库存", "替换件", "模块更换", ("spare part", 1.5), "spare",
        "spares", "parts", "replacement part", "component", "consumable", "inventory",
        "stock",
        ("替换", 1.5), "全新件", "翻新", "备用", "保险丝", "光模块", ("replacement", 1.5), "module",
        "discontinued", "fan module",
    ],
    "service_attitude": [
        ("态度", 1.5), "服务态度", "服务差", "不耐烦", "敷衍", "推诿", "踢皮球",
        "冷淡", "冷漠", "粗鲁", "傲慢", "恶劣", "无礼", "爱答不理", "礼貌", "耐心",
        "热情", "周到", "贴心", "用心", "尊重", "挂电话", "语气", "工程师人很好",
        "服务很好", "服务意识", ("attitude", 1.5), "rude", "impolite", "arrogant",
        "unfriendly", "friendly", "polite", "courteous", "patient", "respect",
        "disrespectful", "hung up", "tone", "dismissive", "helpful", "unhelpful",
        "坐席", "挂了", "推给", "推回", "推卸", "推卸责任", "阴阳怪气", "不舒服", "重视", "帮忙",
        "道歉", "说话", ("人员", 0.3),
        "不尊重", "willing", "ignored", "passing us", "apologise", "apologize", "manner",
        "behaviour", "behavior",
    ],
    "response_speed": [
        ("响应", 1.5), "回复", "回电", "回应", "没人接", "无人接听", "没人理",
        "没人回复", "等了", "等待", "等太久", "迟迟", "一直没", "催", "催了", "多次催促",
        "拖延", "拖了", "效率", "及时", ("很快", 0.5), "太慢", "处理速度", "处理太慢", "石沉大海",
        "没有下文", "跟进", "加急", "半天", "几天了", ("response time", 1.5), "respond",
        "responded", "response", "reply", "replied", "callback", "call back",
        "called back", "waiting", "waited", "wait", "slow", "delay", "quick", "quickly",
        "prompt", "promptly", "timely", "follow up", "follow-up", "chase", "chased",
        "no answer", "ticket", "escalate", "sla", "turnaround",
        "联系我们", "回音", "进展", "进度", "到现场", "第二天", "没人管", "说法", "等不下去",
        ("等", 0.5), ("反馈", 0.8),
        "当天", ("通知", 0.5), ("一周", 0.5), ("三天", 0.5), ("几天", 0.5), "有人接", "打进去",
        "contacted",
        "contact us", "logged", ("update", 0.5), ("days", 0.5), ("hours", 0.5), "within",
        "get through", "no update",
    ],
    "billing": [
        ("发票", 1.5), ("账单", 1.5), "收费", "费用", "扣费", "多收", "乱收费", "价格",
        "报价", "付款", "回款", "对账", "开票", "税率", "退款", "合同金额", "单价",
        "折扣", "结算", "欠费", "续费", "价钱", "涨价", ("invoice", 1.5), ("bill", 1.5),
        "billing", "billed", "charge", "charged", "overcharged", "payment", "price",
        "pricing", "quote", "quotation", "refund", "credit note", "tax", "vat", "discount",
        "fee", "fees", "cost", "renewal",
        "付过款", "收了费", "另收", "欠款", "金额", "paid", "amount", "charges",
    ],
    "documentation": [
        ("文档", 1.5), "资料", "说明书", "手册", "操作手册", "用户手册", "使用说明",
        "技术资料", "图纸", "证书", "合格证", "检测报告", "中文版", "英文版", "文件",
        "指南", "release notes", ("documentation", 1.5), "document", "documents",
        "manual", "user guide", "guide", "datasheet", "data sheet", "certificate",
        "drawing", "drawings", "instructions", "knowledge base",
        "步骤说明", ("说明", 0.8), "知识库", "常见问题", "解答", "faq", "error codes",
        "explanation",
    ],
    "training": [
        ("培训", 2.0), "培训课程", "讲师", "课程", "操作培训", "学习", "教程", "考试",
        "认证培训", "上课", "演示", "教学", "不会用", "不会操作", ("training", 1.5),
        "train", "trainer", "course", "workshop", "tutorial", "onboarding",
        "certification", "webinar", "hands-on", "learn",
        "怎么用", "怎么操作", "session", "operators", "how to use", "show us how", "teach",
    ],
    "brand_image": [
        ("品牌", 1.5), "口碑", "形象", "知名度", "信誉", "声誉", "名气", "大厂",
        "广告", "宣传", "新闻", "负面报道", "媒体", "展会", "推荐给", "同行", "竞争对手",
        "竞品", "行业地位", "公众号", "社会责任", "logo", ("brand", 1.5), "branding",
        "reputation", "image", "advertising", "advert", "marketing", "news", "media",
        "press", "trade show", "exhibition", "competitor", "competitors", "recommend you",
        "word of mouth", "trust in",
        "资质", "案例", "引用", "推荐", "事故", "丢人", "名声", "tender", "credentials",
        "reference projects",
        "references",
    ],
    "dimension:product": [("产品", 0.5), ("服务器", 0.5), ("设备", 0.5), ("机器", 0.5),
                          ("product", 0.5),
                          ("device", 0.5), ("equipment", 0.5), ("unit", 0.3)],
    "dimension:service": [("服务", 0.5), ("工程师", 0.5), ("客服", 0.5), ("热线", 0.5),
                          ("service", 0.5), ("engineer", 0.5), ("technician", 0.5),
                          ("support", 0.5), ("hotline", 0.5)],
    "dimension:brand": [("公司", 0.3), ("贵司", 0.3), ("company", 0.3)],
}
# fmt: on


def _target(key: str, categories: dict[str, Category]) -> tuple[str | None, Category | None]:
    if key.startswith("dimension:"):
        return key.split(":", 1)[1], None
    return None, categories.get(key)


def ensure_default_rules(actor: User | None = None) -> int:
    """Add whatever default rule is missing (by normalised keyword); never touch a rule that
    exists, even one an admin changed or deactivated. Returns how many were added."""
    ensure_reference_data()
    categories = {c.code: c for c in db.session.scalars(sa.select(Category))}
    have = set(db.session.scalars(sa.select(ClassificationRule.normalized)))
    position = db.session.scalar(sa.select(sa.func.max(ClassificationRule.position))) or 0
    added = 0
    now = utcnow()
    for key, words in DEFAULT_RULES.items():
        dimension, category = _target(key, categories)
        if dimension is None and category is None:
            continue
        for entry in words:
            keyword, weight = entry if isinstance(entry, tuple) else (entry, 1.0)
            norm = normalize(keyword)
            if norm in have:
                continue
            have.add(norm)
            position += 10
            db.session.add(
                ClassificationRule(
                    keyword=keyword,
                    normalized=norm,
                    dimension=dimension,
                    category_id=category.id if category is not None else None,
                    weight=weight,
                    active=True,
                    position=position,
                    created_by_id=actor.id if actor is not None else None,
                    created_at=now,
                    updated_at=now,
                )
            )
            added += 1
    if added:
        db.session.flush()
        # one row for the whole default set (entity 0: no single rule), in the same transaction
        audit.record(
            actor_id=actor.id if actor is not None else None,
            entity_type="classification_rule",
            entity_id=0,
            action="add_defaults",
            changes={"added": added},
            at=now,
        )
        bump_rules_version()
    return added


def _rule_state(rule: ClassificationRule) -> dict[str, Any]:
    return {
        "keyword": rule.keyword,
        "dimension": rule.dimension,
        "category": rule.category.code if rule.category is not None else None,
        "weight": rule.weight,
        "active": rule.active,
        "position": rule.position,
    }


def _weight(weight: Any, errors: dict[str, str]) -> float:
    try:
        value = float(weight)
    except (TypeError, ValueError):
        value = 0.0
    if not 0 < value <= MAX_WEIGHT:
        errors["weight"] = f"more than 0 and at most {MAX_WEIGHT:g}"
    return value


def _position(position: Any, errors: dict[str, str]) -> int | None:
    if position in (None, ""):
        return None
    try:
        pos = int(position)
    except (TypeError, ValueError):
        errors["position"] = "a whole number"
        return None
    if not 0 <= pos <= 1_000_000:
        errors["position"] = "between 0 and 1000000"
    return pos


def _validate(
    keyword: Any, dimension: Any, category: Any, weight: Any, position: Any
) -> tuple[str, str, str | None, Category | None, float, int | None]:
    errors: dict[str, str] = {}
    text = keyword.strip() if isinstance(keyword, str) else ""
    norm = normalize(text)
    if not norm:
        errors["keyword"] = "required"
    elif len(text) > MAX_KEYWORD:
        errors["keyword"] = f"at most {MAX_KEYWORD} characters"
    dim = dimension or None
    if dim is not None and dim not in DIMENSIONS:
        errors["dimension"] = "one of " + ", ".join(DIMENSIONS)
    cat = None
    if category:
        cat = db.session.scalars(sa.select(Category).where(Category.code == category)).first()
        if cat is None:
            errors["category"] = "unknown category"
        elif dim is not None and dim != cat.dimension:
            errors["dimension"] = f"the category belongs to {cat.dimension}"
    if dim is None and not category:
        errors["category"] = "give a category or a dimension"
    value = _weight(weight, errors)
    pos = _position(position, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    # a rule with a category takes the category's dimension (kept null: it follows the
    # category if an admin moves it)
    return text, norm, (None if cat is not None else dim), cat, value, pos


def save_rule(
    *,
    actor: User,
    keyword: str,
    dimension: str | None = None,
    category: str | None = None,
    weight: float = 1.0,
    active: bool = True,
    position: int | None = None,
    rule_id: int | None = None,
) -> ClassificationRule:
    """Create a rule (rule_id None) or change one. The normalised keyword is unique."""
    text, norm, dim, cat, value, pos = _validate(keyword, dimension, category, weight, position)
    rule = None
    if rule_id is not None:
        rule = db.session.get(ClassificationRule, rule_id)
        if rule is None:
            raise NotFound()
    clash = db.session.scalars(
        sa.select(ClassificationRule.id).where(ClassificationRule.normalized == norm)
    ).first()
    if clash is not None and (rule is None or clash != rule.id):
        raise ValidationFailed(fields={"keyword": "a rule with this keyword exists already"})
    before = _rule_state(rule) if rule is not None else {}
    now = utcnow()
    if rule is None:
        if pos is None:
            last = db.session.scalar(sa.select(sa.func.max(ClassificationRule.position)))
            pos = (last or 0) + 10
        rule = ClassificationRule(created_by_id=actor.id, created_at=now)
        db.session.add(rule)
    rule.keyword, rule.normalized, rule.dimension = text, norm, dim
    rule.category_id, rule.category = (cat.id, cat) if cat is not None else (None, None)
    rule.weight, rule.active, rule.updated_at = value, bool(active), now
    if pos is not None:
        rule.position = pos
    db.session.flush()
    changes = audit.diff(before, _rule_state(rule))
    audit.record(
        actor_id=actor.id,
        entity_type="classification_rule",
        entity_id=rule.id,
        action="update" if before else "create",
        changes=changes,
        at=now,
    )
    bump_rules_version()
    return rule


def set_rule_active(*, actor: User, rule_id: int, active: bool) -> ClassificationRule:
    rule = db.session.get(ClassificationRule, rule_id)
    if rule is None:
        raise NotFound()
    if rule.active != active:
        now = utcnow()
        audit.record(
            actor_id=actor.id,
            entity_type="classification_rule",
            entity_id=rule.id,
            action="activate" if active else "deactivate",
            changes={"active": [rule.active, active]},
            at=now,
        )
        rule.active, rule.updated_at = active, now
        db.session.flush()
        bump_rules_version()
    return rule
