"""Default categories, root causes and SLA targets; admins edit them later."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.issues.models import Category, RootCause, SlaTarget
from app.issues.sla import DEFAULT_TARGETS

CATEGORIES = [
    # code, zh, en, dimension
    ("product_quality", "产品质量", "Product quality", "product"),
    ("product_function", "产品功能", "Product features", "product"),
    ("installation", "安装调试", "Installation", "service"),
    ("delivery", "交付进度", "Delivery schedule", "service"),
    ("spare_parts", "备件供应", "Spare parts", "service"),
    ("service_attitude", "服务态度", "Service attitude", "service"),
    ("response_speed", "响应速度", "Response speed", "service"),
    ("billing", "账单费用", "Billing", "service"),
    ("documentation", "资料文档", "Documentation", "product"),
    ("training", "培训", "Training", "service"),
    ("brand_image", "品牌形象", "Brand image", "brand"),
    ("other", "其他", "Other", "service"),
]

ROOT_CAUSES = [
    ("design", "设计缺陷", "Design"),
    ("manufacturing", "制造质量", "Manufacturing"),
    ("logistics", "物流运输", "Logistics"),
    ("process", "流程问题", "Process"),
    ("communication", "沟通不到位", "Communication"),
    ("training", "培训不足", "Training"),
    ("third_party", "第三方原因", "Third party"),
    ("customer_side", "客户原因", "Customer side"),
]


def ensure_reference_data() -> dict[str, int]:
    """Insert whatever default is missing; never overwrite what admins changed."""
    added = {"categories": 0, "root_causes": 0, "sla_targets": 0}
    have = set(db.session.scalars(sa.select(Category.code)))
    for position, (code, zh, en, dimension) in enumerate(CATEGORIES):
        if code not in have:
            db.session.add(
                Category(code=code, name_zh=zh, name_en=en, dimension=dimension, position=position)
            )
            added["categories"] += 1
    have = set(db.session.scalars(sa.select(RootCause.code)))
    for position, (code, zh, en) in enumerate(ROOT_CAUSES):
        if code not in have:
            db.session.add(RootCause(code=code, name_zh=zh, name_en=en, position=position))
            added["root_causes"] += 1
    have = set(
        db.session.scalars(
            sa.select(SlaTarget.priority).where(
                SlaTarget.category_id.is_(None), SlaTarget.tier.is_(None)
            )
        )
    )
    for priority, (response, resolve) in DEFAULT_TARGETS.items():
        if priority not in have:
            db.session.add(
                SlaTarget(priority=priority, response_hours=response, resolve_hours=resolve)
            )
            added["sla_targets"] += 1
    db.session.flush()
    return added
