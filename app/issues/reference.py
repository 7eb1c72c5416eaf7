"""Default categories, root causes and SLA targets; admins edit them later. And the
per-process cache of categories and SLA targets that intake reads on every call.

The cache is checked against a version stamp in the database on every use (one primary-key
read, see app.core.versions): any change to a category or a target, made by an admin in this
process or in any other, gives a new stamp in the same transaction, so the next intake
anywhere loads the new data. Nothing is ever served from a cache without that check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import make_transient_to_detached

from app.core import versions
from app.extensions import db
from app.issues import sla
from app.issues.models import Category, RootCause, SlaTarget
from app.issues.sla import DEFAULT_TARGETS

STAMP = "issue_reference"
versions.watch(STAMP, Category, SlaTarget)
_CACHE_KEY = "issue_reference_cache"

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


# --- the cache -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryRow:
    id: int
    code: str
    name_zh: str
    name_en: str
    dimension: str
    active: bool
    position: int


@dataclass(frozen=True)
class TargetRow:
    category_id: int | None
    tier: str | None
    response_hours: float
    resolve_hours: float

    @property
    def specificity(self) -> int:
        return (self.category_id is not None) * 2 + (self.tier is not None)


@dataclass(frozen=True)
class ReferenceData:
    """Categories and SLA targets as one transaction saw them under `stamp`. Immutable, so
    threads of a process share it safely."""

    stamp: str | None
    categories: Mapping[str, CategoryRow]
    targets: Mapping[str, tuple[TargetRow, ...]]  # by priority, in id order

    def active_category(self, code: Any) -> Category | None:
        """The active category with this code, as an object of the current session (no SQL:
        the row is attached as if just loaded, or the session's own copy is used)."""
        row = self.categories.get(code) if isinstance(code, str) else None
        if row is None or not row.active:
            return None
        session = db.session()
        existing = session.identity_map.get(session.identity_key(Category, row.id))
        if existing is not None:
            return existing  # type: ignore[no-any-return]
        category = Category(
            id=row.id,
            code=row.code,
            name_zh=row.name_zh,
            name_en=row.name_en,
            dimension=row.dimension,
            active=row.active,
            position=row.position,
        )
        make_transient_to_detached(category)
        session.add(category)
        return category

    def targets_for(
        self, priority: str, category_id: int | None, tier: str | None
    ) -> tuple[int, int]:
        """(response, resolution) in working minutes. The most specific target row wins:
        (priority, category, tier), then (priority, category), (priority, tier), (priority);
        with no row at all, sla.DEFAULT_TARGETS."""
        rows = [
            r
            for r in self.targets.get(priority, ())
            if r.category_id in (None, category_id) and r.tier in (None, tier)
        ]
        if rows:
            best = max(rows, key=lambda r: r.specificity)
            hours = (best.response_hours, best.resolve_hours)
        else:
            hours = sla.DEFAULT_TARGETS[priority]
        return round(hours[0] * 60), round(hours[1] * 60)


def _load(stamp: str | None) -> ReferenceData:
    c = Category.__table__.c
    category_rows = db.session.execute(
        sa.select(c.id, c.code, c.name_zh, c.name_en, c.dimension, c.active, c.position)
    )
    categories = {row.code: CategoryRow(*row) for row in category_rows}
    t = SlaTarget.__table__.c
    target_rows = db.session.execute(
        sa.select(t.priority, t.category_id, t.tier, t.response_hours, t.resolve_hours).order_by(
            t.id
        )
    )
    targets: dict[str, list[TargetRow]] = {}
    for priority, category_id, tier, response, resolve in target_rows:
        targets.setdefault(priority, []).append(TargetRow(category_id, tier, response, resolve))
    return ReferenceData(stamp, categories, {k: tuple(v) for k, v in targets.items()})


def reference_data() -> ReferenceData:
    """Categories and SLA targets, from this process's cache when its stamp is current."""
    return reference_data_at(versions.read(STAMP))


def stamp_column() -> sa.ScalarSelect[Any]:
    """The reference data's stamp, to read beside a query of one's own (intake does, with the
    customer): give it to reference_data_at()."""
    return versions.stamp_column(STAMP)


def reference_data_at(stamp: str | None) -> ReferenceData:
    """Categories and SLA targets for the stamp this transaction has just read (by
    stamp_column() or versions.read), from the cache when the stamp matches it."""
    cache: dict[str, ReferenceData] = current_app.extensions.setdefault(_CACHE_KEY, {})
    cached = cache.get("data")
    if stamp is not None and cached is not None and cached.stamp == stamp:
        return cached
    # loaded after the stamp was read: data at least as new as the stamp says
    data = _load(stamp)
    if stamp is not None:
        cache["data"] = data
    return data
