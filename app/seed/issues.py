"""A year of demo issues: realistic volumes by weekday and hour, categories, SLA deadlines in
business time, most closed and rated, some escalated, reopened, waiting or overdue. Bulk
inserts with matching audit rows, so the history pages and reports have something true to show."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.customers.models import Customer
from app.extensions import db
from app.issues import sla
from app.issues.escalation import WARN_AT
from app.issues.models import Category, Escalation, Issue, IssueCounter, RootCause
from app.issues.reference import ensure_reference_data
from app.issues.services import targets_for
from app.seed.org import DemoOrg

if TYPE_CHECKING:
    from faker import Faker  # the demo loader's, not a web worker's, import

CN = ZoneInfo("Asia/Shanghai")
END = datetime(2026, 11, 20, 18, 0, tzinfo=CN)  # the demo's "today"
TITLES = {
    "product_quality": ["设备运行时异响", "产品外壳开裂", "批次产品性能不达标", "设备频繁死机"],
    "product_function": ["系统无法导出报表", "新版本缺少批量导入功能", "接口调用超时"],
    "installation": ["安装后无法联网", "调试进度延误", "现场安装人员未按时到达"],
    "delivery": ["发货延迟一周", "到货数量与订单不符", "物流信息长时间未更新"],
    "spare_parts": ["备件缺货", "备件型号发错"],
    "service_attitude": ["工程师态度冷淡", "客服多次推诿"],
    "response_speed": ["报修后两天无人联系", "热线等待时间过长"],
    "billing": ["发票金额有误", "重复扣费", "合同价格与报价不一致"],
    "documentation": ["说明书与实物不符", "缺少中文操作手册"],
    "training": ["希望增加操作培训", "培训内容过于简单"],
    "brand_image": ["对品牌宣传不满", "展会接待体验差"],
    "other": ["咨询合作事宜", "其他意见"],
}
PRIORITY_WEIGHTS = {"urgent": 3, "high": 15, "normal": 62, "low": 20}
RATING_WEIGHTS = [4, 6, 15, 40, 35]  # ratings 1..5


def _received(rng: random.Random, day: datetime) -> datetime:
    hour = rng.choices(range(8, 21), [2, 9, 10, 9, 6, 8, 9, 8, 7, 5, 3, 2, 1])[0]
    return day.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60))


@dataclass
class Context:
    rng: random.Random
    fake: Faker
    cal: sla.WorkingCalendar
    categories: list[Category]
    causes: list[RootCause]
    offices: dict[int, str]
    handlers: dict[int, list[int]]
    agents: dict[int, list[int]]
    targets: dict[tuple[str, int, str], tuple[int, int]] = field(default_factory=dict)
    counters: dict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))


def _staff(org: DemoOrg) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    handlers: dict[int, list[int]] = defaultdict(list)
    agents: dict[int, list[int]] = defaultdict(list)
    for email, user_id in org.users.items():
        code = email.split("@")[0].split(".")[-1].rstrip("0123456789").upper()
        if code not in org.offices:
            continue
        if email.startswith("handler."):
            handlers[org.offices[code]].append(user_id)
        elif email.startswith("agent."):
            agents[org.offices[code]].append(user_id)
    return handlers, agents


def _outcome(rng: random.Random, resolved: datetime, age_days: int) -> tuple[str, int | None]:
    done = resolved < END and age_days > 2 and rng.random() > 0.04
    if not done:
        return rng.choice(["accepted", "handling", "handling", "waiting", "escalated"]), None
    if rng.random() >= 0.9:
        return "resolved", None
    rating = rng.choices([1, 2, 3, 4, 5], RATING_WEIGHTS)[0]
    if rating <= 2 and rng.random() < 0.3:
        return "reopened", rating
    return "closed", rating


def _row(ctx: Context, received: datetime, customer: Any) -> dict[str, Any]:
    rng = ctx.rng
    customer_id, office_id, tier = customer
    category = rng.choice(ctx.categories)
    priority = rng.choices(list(PRIORITY_WEIGHTS), list(PRIORITY_WEIGHTS.values()))[0]
    key = (priority, category.id, tier)
    if key not in ctx.targets:
        ctx.targets[key] = targets_for(priority, category.id, tier)
    response_min, resolve_min = ctx.targets[key]
    ctx.counters[(office_id, received.year)] += 1
    serial = ctx.counters[(office_id, received.year)]
    # how fast it went: most within target, a tail that overruns
    speed = rng.choices([0.3, 0.7, 1.0, 1.6, 2.5], [30, 35, 15, 12, 8])[0]
    resolved = sla.add_working_minutes(ctx.cal, received, resolve_min * speed)
    responded = sla.add_working_minutes(ctx.cal, received, response_min * rng.uniform(0.1, 1.3))
    status, rating = _outcome(rng, resolved, (END - received).days)
    level = 0
    if speed >= 1.6 or status == "escalated":
        level = 1 + (speed >= 2.5) + (speed >= 2.5 and rng.random() < 0.3)
    started = status != "accepted"
    finished = status in ("resolved", "closed")
    return {
        "number": f"{ctx.offices[office_id]}-{received.year}-{serial:06d}",
        "office_id": office_id,
        "customer_id": customer_id,
        "title": rng.choice(TITLES[category.code]),
        "description": ctx.fake.paragraph(nb_sentences=3),
        "channel": rng.choices(
            ["hotline", "service_request", "web", "problem_team", "interview"], [70, 12, 10, 5, 3]
        )[0],
        "category_id": category.id,
        "priority": priority,
        "status": status,
        "escalation_level": level,
        "owner_id": rng.choice(ctx.handlers[office_id])
        if started and ctx.handlers[office_id]
        else None,
        "created_by_id": rng.choice(ctx.agents[office_id]) if ctx.agents[office_id] else None,
        "received_at": received,
        "response_due_at": sla.add_working_minutes(ctx.cal, received, response_min),
        "resolve_due_at": sla.add_working_minutes(ctx.cal, received, resolve_min),
        "response_warn_at": sla.add_working_minutes(ctx.cal, received, response_min * WARN_AT),
        "resolve_warn_at": sla.add_working_minutes(ctx.cal, received, resolve_min * WARN_AT),
        "response_target_minutes": response_min,
        "resolve_target_minutes": resolve_min,
        "first_response_at": responded if started else None,
        "response_minutes": round(sla.working_minutes_between(ctx.cal, received, responded))
        if started
        else None,
        "resolved_at": resolved if finished else None,
        "resolve_minutes": round(resolve_min * speed) if finished else None,
        "closed_at": resolved + timedelta(days=rng.randint(0, 3)) if status == "closed" else None,
        "resolution": "已按客户要求处理完毕" if finished else None,
        "root_cause_id": rng.choice(ctx.causes).id if finished else None,
        "responsible": rng.choice(["研发部", "生产部", "物流部", "服务部", "销售部"])
        if finished
        else None,
        "rating": rating,
        "callback_done": rating is not None and rng.random() < 0.8,
        "reopen_count": 1 if status == "reopened" else 0,
        "version": 1,
        "created_at": received,
        "updated_at": received,
    }


def _audit(
    row: dict[str, Any],
    issue_id: int,
    action: str,
    at: datetime,
    actor: Any,
    changes: dict[str, Any],
) -> dict[str, Any]:
    return {
        "at": at,
        "actor_id": actor,
        "entity_type": "issue",
        "entity_id": issue_id,
        "action": action,
        "changes": changes,
        "office_id": row["office_id"],
    }


def _insert(batch: list[dict[str, Any]]) -> None:
    ids = list(db.session.scalars(sa.insert(Issue).returning(Issue.id), batch))
    audits, escalations = [], []
    for issue_id, row in zip(ids, batch, strict=True):
        audits.append(
            _audit(
                row,
                issue_id,
                "accept",
                row["received_at"],
                row["created_by_id"],
                {"status": [None, "accepted"], "number": [None, row["number"]]},
            )
        )
        if row["resolved_at"]:
            audits.append(
                _audit(
                    row,
                    issue_id,
                    "resolve",
                    row["resolved_at"],
                    row["owner_id"],
                    {"status": ["handling", "resolved"]},
                )
            )
        if row["closed_at"]:
            audits.append(
                _audit(
                    row,
                    issue_id,
                    "close",
                    row["closed_at"],
                    row["created_by_id"],
                    {"status": ["resolved", "closed"], "rating": row["rating"]},
                )
            )
        for level in range(1, row["escalation_level"] + 1):
            at = row["resolve_due_at"] + timedelta(hours=level * 6)
            escalations.append(
                {
                    "issue_id": issue_id,
                    "level": level,
                    "automatic": True,
                    "reason": "resolution target missed",
                    "at": at,
                }
            )
            audits.append(
                _audit(
                    row, issue_id, "escalate", at, None, {"escalation_level": [level - 1, level]}
                )
            )
    db.session.execute(sa.insert(AuditEvent), audits)
    if escalations:
        db.session.execute(sa.insert(Escalation), escalations)


def seed_issues(
    rng: random.Random, fake: Faker, org: DemoOrg, count: int, tick: Callable[[int], None]
) -> None:
    ensure_reference_data()
    handlers, agents = _staff(org)
    ctx = Context(
        rng=rng,
        fake=fake,
        cal=sla.WorkingCalendar(),
        categories=list(db.session.scalars(sa.select(Category).order_by(Category.id))),
        causes=list(db.session.scalars(sa.select(RootCause).order_by(RootCause.id))),
        offices={office_id: code for code, office_id in org.offices.items()},
        handlers=handlers,
        agents=agents,
    )
    customers = db.session.execute(
        sa.select(Customer.id, Customer.office_id, Customer.tier).order_by(Customer.id)
    ).all()
    if not customers:
        return
    days = [END - timedelta(days=d) for d in range(365, 0, -1)]
    weights = [0.35 if d.weekday() >= 5 else 1.0 for d in days]
    received_list = sorted(_received(rng, rng.choices(days, weights)[0]) for _ in range(count))
    batch: list[dict[str, Any]] = []
    for received in received_list:
        batch.append(_row(ctx, received, rng.choice(customers)))
        if len(batch) >= 1000:
            _insert(batch)
            tick(len(batch))
            batch.clear()
    if batch:
        _insert(batch)
        tick(len(batch))
    db.session.execute(
        sa.insert(IssueCounter),
        [
            {"office_id": office_id, "year": year, "last_number": last}
            for (office_id, year), last in ctx.counters.items()
        ],
    )
