"""A year of demo issues: realistic volumes by weekday and hour, categories, SLA deadlines in
business time, most closed and rated, some escalated, reopened, waiting or overdue.

Each issue's life is played out in time order through the same rules the services and the
`escalate` job apply, and written in bulk with what they would have written: the audit row of
every move (status from → to checked against the workflow table), the waits on the customer
as IssuePause rows with `waiting_since` on a waiting issue and deadlines pushed out when a wait
ends, escalations when the job would have made them (level 1 at a missed target, 2 at 150 % of
the resolution target, 3 at 200 %, never while waiting), a low rating reopening the issue with
a fresh resolution clock (the default low-rating policy), and contacts with the customer. So
the reports, the timelines and the queues read true numbers: reopened, waiting, escalated and
overdue are what the history says. Notifications are left out: the demo's past sends no mail.
"""

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
from app.issues import sla, workflow
from app.issues.escalation import LEVELS, WARN_AT, judge
from app.issues.models import (
    Category,
    Escalation,
    Issue,
    IssueContact,
    IssueCounter,
    IssuePause,
    RootCause,
)
from app.issues.reference import ensure_reference_data
from app.issues.services import sla_calendar_for, targets_for
from app.org.models import Office
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
RESPONSIBLE = ["研发部", "生产部", "物流部", "服务部", "销售部"]
WAIT_REASONS = ["等待客户提供设备序列号", "等待客户确认现场时间", "等待客户提供故障照片"]
CONTACTS_OUT = [
    ("phone", "已致电客户确认问题细节"),
    ("phone", "已电话告知客户处理进展"),
    ("email", "已发邮件说明处理方案"),
]
CONTACTS_IN = ["客户来电询问处理进度", "客户来电补充问题信息", "客户来电催促尽快解决"]
OPEN_OUTCOMES = ["accepted", "handling", "handling", "waiting", "escalated"]


def _received(rng: random.Random, day: datetime) -> datetime:
    hour = rng.choices(range(8, 21), [2, 9, 10, 9, 6, 8, 9, 8, 7, 5, 3, 2, 1])[0]
    return day.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60))


@dataclass
class Context:
    rng: random.Random
    fake: Faker
    calendars: dict[int, sla.WorkingCalendar]
    categories: list[Category]
    causes: list[RootCause]
    offices: dict[int, str]
    handlers: dict[int, list[int]]
    agents: dict[int, list[int]]
    managers: dict[int, int]
    targets: dict[tuple[str, int, str], tuple[int, int]] = field(default_factory=dict)
    counters: dict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))


def _staff(org: DemoOrg) -> tuple[dict[int, list[int]], dict[int, list[int]], dict[int, int]]:
    handlers: dict[int, list[int]] = defaultdict(list)
    agents: dict[int, list[int]] = defaultdict(list)
    managers: dict[int, int] = {}
    for email, user_id in org.users.items():
        code = email.split("@")[0].split(".")[-1].rstrip("0123456789").upper()
        if code not in org.offices:
            continue
        if email.startswith("handler."):
            handlers[org.offices[code]].append(user_id)
        elif email.startswith("agent."):
            agents[org.offices[code]].append(user_id)
        elif email.startswith("om."):
            managers[org.offices[code]] = user_id
    return handlers, agents, managers


# --- one issue's life ----------------------------------------------------------------------


@dataclass
class Event:
    """One audited change, in time order; a contact event also carries its contact row."""

    at: datetime
    action: str
    actor: int | None
    changes: dict[str, Any]
    contact: dict[str, Any] | None = None


@dataclass
class Life:
    """An issue played out move by move: the workflow decides each next status, as in the
    services, so the audit trail's from → to always chains."""

    row: dict[str, Any]
    events: list[Event] = field(default_factory=list)
    escalations: list[dict[str, Any]] = field(default_factory=list)
    pauses: list[dict[str, Any]] = field(default_factory=list)
    updates: int = 0  # flushes that changed the issue row: its version counter

    def move(
        self, action: workflow.Action, at: datetime, actor: int | None, **changes: Any
    ) -> None:
        old = self.row["status"]
        new = workflow.next_status(old, action, escalation_level=self.row["escalation_level"])
        self.row["status"] = new.value
        name = action.value
        if action is workflow.Action.HANDLE and old == workflow.Status.WAITING:
            name = "resume"
        self.events.append(Event(at, name, actor, {"status": [old, new.value], **changes}))
        self.updates += 1

    def contact(
        self, at: datetime, actor: int | None, direction: str, channel: str, text: str
    ) -> None:
        row = {
            "author_id": actor,
            "direction": direction,
            "channel": channel,
            "text": text,
            "at": at,
        }
        self.events.append(Event(at, "contact", actor, {"direction": direction}, contact=row))


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@dataclass
class Plan:
    """When things happen to one issue, before they are played in order."""

    received: datetime
    response_min: int
    resolve_min: int
    responded: datetime | None  # None: nobody has answered yet
    resolved: datetime | None = None  # None: still open at END
    pause: tuple[datetime, datetime | None] | None = None  # ended, or open (waiting at END)
    manual_escalation: datetime | None = None


def _plan(
    ctx: Context, cal: sla.WorkingCalendar, received: datetime, targets: tuple[int, int]
) -> Plan:
    rng = ctx.rng
    response_min, resolve_min = targets
    # how fast it went: most within target, a tail that overruns
    speed = rng.choices([0.3, 0.7, 1.0, 1.6, 2.5], [30, 35, 15, 12, 8])[0]
    pace = rng.choices([0.15, 0.4, 0.7, 0.95, 1.3], [25, 35, 22, 10, 8])[0]
    answered = sla.add_working_minutes(cal, received, response_min * pace)
    planned = sla.add_working_minutes(cal, received, resolve_min * speed)
    pause: tuple[datetime, datetime | None] | None = None
    if rng.random() < 0.2 and answered < planned:
        # a wait on the customer in the middle of the work; the resolution moves out by it
        start = answered + (planned - answered) * rng.uniform(0.1, 0.9)
        pause = (start, sla.add_working_minutes(cal, start, rng.choice([60, 120, 240, 540, 1080])))
        planned = sla.due_at(cal, received, resolve_min * speed, [pause])
    if planned < END and (END - received).days > 2 and rng.random() > 0.04:
        plan = Plan(received, response_min, resolve_min, answered, planned, pause)
        if rng.random() < 0.03:  # an angry caller: escalated by hand
            plan.manual_escalation = answered + timedelta(minutes=rng.randint(20, 240))
        return plan
    # still open at END: new, in hand, waiting on the customer, or escalated by hand
    plan = Plan(received, response_min, resolve_min, answered)
    outcome = rng.choice(OPEN_OUTCOMES)
    if outcome == "accepted" or answered >= END:
        plan.responded = None
    elif outcome == "waiting":
        until = min(END, sla.add_working_minutes(cal, received, resolve_min))
        if answered < until:
            plan.pause = (answered + (until - answered) * rng.uniform(0.2, 0.95), None)
    elif outcome == "escalated":
        plan.manual_escalation = answered + timedelta(minutes=rng.randint(20, 240))
    return plan


def _escalation_times(
    cal: sla.WorkingCalendar, plan: Plan, pauses: list[sla.Pause]
) -> list[tuple[datetime, int, str]]:
    """(when, level, reason) of what the escalate job would do, given the ended pauses: the
    response target missed while nobody answered (level 1), then each threshold of the
    resolution target (1.0, 1.5, 2.0), with the reasons its verdict gives."""
    due: list[tuple[datetime, int, str]] = []
    response_due = sla.due_at(cal, plan.received, plan.response_min, pauses)
    if plan.responded is None or plan.responded > response_due:
        verdict = judge(1.0, 0.0)
        due.append((response_due, verdict.level, verdict.reason))
    for fraction, level in sorted(LEVELS):
        at = sla.due_at(cal, plan.received, plan.resolve_min * fraction, pauses)
        verdict = judge(None, fraction)
        due.append((at, level, verdict.reason))
    return sorted(due)


def _row(
    ctx: Context, received: datetime, customer: Any
) -> tuple[dict[str, Any], sla.WorkingCalendar]:
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
    cal = ctx.calendars[office_id]
    agents = ctx.agents[office_id]
    row = {
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
        "status": workflow.Status.ACCEPTED.value,
        "escalation_level": 0,
        "owner_id": None,
        "created_by_id": rng.choice(agents) if agents else None,
        "received_at": received,
        "response_target_minutes": response_min,
        "resolve_target_minutes": resolve_min,
        "reopen_count": 0,
        "created_at": received,
    }
    return row, cal


def _deadlines(
    row: dict[str, Any], cal: sla.WorkingCalendar, start: datetime, pauses: list[sla.Pause]
) -> None:
    """As sla_policy.recompute_deadlines: both clocks, pushed out by the ended pauses; the
    resolution clock from `start` (received, or the last reopen)."""
    received, response, resolve = (
        row["received_at"],
        row["response_target_minutes"],
        row["resolve_target_minutes"],
    )
    row["response_due_at"] = sla.due_at(cal, received, response, pauses)
    row["response_warn_at"] = sla.due_at(cal, received, response * WARN_AT, pauses)
    row["resolve_due_at"] = sla.due_at(cal, start, resolve, pauses)
    row["resolve_warn_at"] = sla.due_at(cal, start, resolve * WARN_AT, pauses)


class Story:
    """Schedules one issue's moves from its plan, then plays them in time order (ties in the
    order scheduled), each move reading and writing the issue row as the service would."""

    def __init__(self, ctx: Context, received: datetime, customer: Any) -> None:
        self.ctx = ctx
        row, self.cal = _row(ctx, received, customer)
        self.plan = _plan(
            ctx, self.cal, received, (row["response_target_minutes"], row["resolve_target_minutes"])
        )
        self.life = Life(row)
        office_id = row["office_id"]
        handlers = ctx.handlers[office_id]
        self.manager = ctx.managers.get(office_id)
        owner = ctx.rng.choice(handlers) if handlers and self.plan.responded is not None else None
        self.owner = owner
        self.worker = owner or self.manager  # who handles, waits and resolves
        pause = self.plan.pause
        # the waits that ended: what the deadlines and the clocks leave out
        self.pauses: list[sla.Pause] = [pause] if pause and pause[1] is not None else []
        self.moves: list[tuple[datetime, int, Callable[[datetime], None]]] = []

    def at(self, moment: datetime, step: Callable[[datetime], None]) -> None:
        self.moves.append((moment, len(self.moves), step))

    def play(self) -> Life:
        row, received = self.life.row, self.plan.received
        _deadlines(row, self.cal, received, [])
        self.life.events.append(
            Event(
                received,
                "accept",
                row["created_by_id"],
                {"status": [None, "accepted"], "number": [None, row["number"]]},
            )
        )
        if self.plan.responded is not None:
            self._handle(self.plan.responded)
        if self.plan.pause is not None:
            self._wait(*self.plan.pause)
        self._escalations()
        if self.plan.resolved is not None:
            self.at(self.plan.resolved, self._finish)
        for moment, _, step in sorted(self.moves, key=lambda m: (m[0], m[1])):
            step(moment)
        row["version"] = 1 + self.life.updates
        row["updated_at"] = max(e.at for e in self.life.events)
        return self.life

    def _handle(self, responded: datetime) -> None:
        rng, row, life = self.ctx.rng, self.life.row, self.life
        received, running_until = self.plan.received, self.plan.resolved or END

        def handle(t: datetime) -> None:
            row["first_response_at"] = t
            row["response_minutes"] = sla.working_minutes_between_excluding(
                self.cal, received, t, self.pauses
            )
            row["owner_id"] = self.owner
            life.move(
                workflow.Action.HANDLE,
                t,
                self.worker,
                owner_id=[None, self.owner],
                first_response_at=[None, _iso(t)],
            )

        self.at(responded, handle)
        if rng.random() < 0.6:  # the handler calls the customer back
            channel, text = rng.choice(CONTACTS_OUT)
            call = responded + timedelta(minutes=rng.randint(3, 30))
            if call < running_until:
                self.at(call, lambda t: life.contact(t, self.owner, "out", channel, text))
        slow = running_until - received > timedelta(days=3)
        if slow and rng.random() < 0.4:  # the customer calls to ask how it is going
            call = received + (running_until - received) * rng.uniform(0.3, 0.9)
            asked = rng.choice(CONTACTS_IN)
            if call > responded:
                self.at(call, lambda t: life.contact(t, row["created_by_id"], "in", "phone", asked))

    def _wait(self, start: datetime, stop: datetime | None) -> None:
        row, life = self.life.row, self.life
        reason = self.ctx.rng.choice(WAIT_REASONS)

        def wait(t: datetime) -> None:
            life.pauses.append({"started_at": t, "ended_at": stop, "reason": reason})
            row["waiting_since"] = t if stop is None else None
            life.move(workflow.Action.WAIT, t, self.worker, reason=reason)

        def resume(t: datetime) -> None:
            old_due = row["resolve_due_at"]
            _deadlines(row, self.cal, self.plan.received, self.pauses)
            row["waiting_since"] = None
            life.move(
                workflow.Action.HANDLE,
                t,
                self.worker,
                resolve_due_at=[_iso(old_due), _iso(row["resolve_due_at"])],
            )

        self.at(start, wait)
        if stop is not None:
            self.at(stop, resume)

    def _escalations(self) -> None:
        """The job's, while the clocks run, and perhaps one by hand."""
        plan = self.plan
        open_pause = plan.pause[0] if plan.pause and plan.pause[1] is None else None
        stops = plan.resolved or open_pause or END
        due = [
            (t, level, reason, False)
            for t, level, reason in _escalation_times(self.cal, plan, self.pauses)
        ]
        if plan.manual_escalation is not None:
            due.append((plan.manual_escalation, 0, "客户要求升级处理", True))
        for t, level, reason, by_hand in sorted(due, key=lambda e: e[0]):
            # resolved by then, or waiting on the customer: the job leaves it alone
            if t < stops and not any(lo <= t < hi for lo, hi in self.pauses if hi is not None):
                self.at(t, self._escalate(level, reason, by_hand))

    def _escalate(self, level: int, reason: str, by_hand: bool) -> Callable[[datetime], None]:
        row, life = self.life.row, self.life

        def escalate(t: datetime) -> None:
            current = row["escalation_level"]
            if current >= workflow.MAX_ESCALATION_LEVEL or (not by_hand and current >= level):
                return  # the job escalates to a level once; the company is the top
            actor = self.manager if by_hand else None
            life.move(
                workflow.Action.ESCALATE,
                t,
                actor,
                escalation_level=[current, current + 1],
                reason=reason,
                automatic=not by_hand,
            )
            row["escalation_level"] = current + 1
            life.escalations.append(
                {
                    "level": current + 1,
                    "reason": reason,
                    "automatic": not by_hand,
                    "actor_id": actor,
                    "at": t,
                }
            )

        return escalate

    def _finish(self, resolved: datetime) -> None:
        _finish(self.ctx, self.life, self.cal, resolved, self.worker, self.pauses)


def _resolve(
    life: Life,
    cal: sla.WorkingCalendar,
    t: datetime,
    actor: int | None,
    cause: RootCause,
    responsible: str,
    start: datetime,
    pauses: list[sla.Pause],
) -> None:
    row = life.row
    old_cause = row.get("root_cause_code")
    row["resolved_at"] = t
    row["resolution"] = "已按客户要求处理完毕"
    row["resolve_minutes"] = sla.working_minutes_between_excluding(cal, start, t, pauses)
    life.move(
        workflow.Action.RESOLVE,
        t,
        actor,
        root_cause=[old_cause, cause.code],
        responsible=[row.get("responsible"), responsible],
    )
    row["root_cause_id"], row["root_cause_code"], row["responsible"] = (
        cause.id,
        cause.code,
        responsible,
    )


def _close(life: Life, t: datetime, actor: int | None, rating: int, callback: bool) -> None:
    row = life.row
    life.move(
        workflow.Action.CLOSE,
        t,
        actor,
        rating=[row.get("rating"), rating],
        callback=[row.get("callback_done"), callback],
        comment=[None, None],
    )
    row["closed_at"], row["rating"], row["callback_done"] = t, rating, callback


def _finish(
    ctx: Context,
    life: Life,
    cal: sla.WorkingCalendar,
    resolved: datetime,
    handler: int | None,
    pauses: list[sla.Pause],
) -> None:
    """Resolve; then, mostly, the callback and the rating; a rating of 2 or less reopens it
    (the default policy) with a fresh resolution clock, and it is handled again."""
    rng, row = ctx.rng, life.row
    _resolve(
        life,
        cal,
        resolved,
        handler,
        rng.choice(ctx.causes),
        rng.choice(RESPONSIBLE),
        row["received_at"],
        pauses,
    )
    if rng.random() >= 0.9:
        return  # resolved, the callback still to be made
    closed = resolved + timedelta(days=rng.randint(0, 3), hours=rng.randint(0, 5))
    if closed >= END:
        return
    rating = rng.choices([1, 2, 3, 4, 5], RATING_WEIGHTS)[0]
    agent = row["created_by_id"]
    _close(life, closed, agent, rating, rng.random() < 0.8)
    if rating > 2:
        return
    # low rating: reopened at once, in the same change as the close (one version bump)
    row["resolved_at"] = row["closed_at"] = None
    row["reopen_count"] = 1
    old_due = row["resolve_due_at"]
    row["resolve_due_at"] = sla.add_working_minutes(cal, closed, row["resolve_target_minutes"])
    row["resolve_warn_at"] = sla.add_working_minutes(
        cal, closed, row["resolve_target_minutes"] * WARN_AT
    )
    life.move(
        workflow.Action.REOPEN,
        closed,
        agent,
        reopen_count=[0, 1],
        reason=f"low rating ({rating}/5)",
        resolve_due_at=[_iso(old_due), _iso(row["resolve_due_at"])],
        policy="reopen",
    )
    life.updates -= 1
    # taken in hand again and resolved within the new target (so the job had no reason to
    # escalate it), when there was time for it before END
    target = row["resolve_target_minutes"]
    taken = sla.add_working_minutes(cal, closed, target * rng.choice([0.05, 0.1, 0.2, 0.4]))
    if taken >= END:
        return  # reopened, nobody has taken it again yet
    life.move(workflow.Action.HANDLE, taken, handler)
    again = sla.add_working_minutes(cal, closed, target * rng.uniform(0.5, 0.9))
    if again >= END:
        return
    _resolve(
        life, cal, again, handler, rng.choice(ctx.causes), rng.choice(RESPONSIBLE), closed, pauses
    )
    closed_again = again + timedelta(days=rng.randint(0, 3))
    if closed_again < END and rng.random() < 0.85:
        _close(life, closed_again, agent, rng.choices([3, 4, 5], [30, 45, 25])[0], True)


# --- bulk writing ----------------------------------------------------------------------------

# every row names the same columns (one executemany); those a life did not reach stay NULL
_ISSUE_COLUMNS = tuple(c.key for c in Issue.__table__.columns if c.key != "id")


def _audit(issue_id: int, office_id: int, event: Event) -> dict[str, Any]:
    return {
        "at": event.at,
        "actor_id": event.actor,
        "entity_type": "issue",
        "entity_id": issue_id,
        "action": event.action,
        "changes": event.changes,
        "office_id": office_id,
    }


def _insert(lives: list[Life]) -> None:
    """One executemany per table. The new ids are read back by key (the issue's number, the
    contact's issue and time) instead of through RETURNING: asked to keep the rows' order,
    SQLite's RETURNING runs one INSERT per row."""
    issues, contacts_table = Issue.__table__, IssueContact.__table__
    db.session.execute(
        sa.insert(issues), [{k: life.row.get(k) for k in _ISSUE_COLUMNS} for life in lives]
    )
    numbers = [life.row["number"] for life in lives]
    id_of: dict[str, int] = dict(
        db.session.execute(
            sa.select(issues.c.number, issues.c.id).where(issues.c.number.in_(numbers))
        ).all()
    )
    ids = [id_of[number] for number in numbers]
    contacts = [
        {**event.contact, "issue_id": issue_id}
        for issue_id, life in zip(ids, lives, strict=True)
        for event in life.events
        if event.contact is not None
    ]
    contact_ids: dict[tuple[int, datetime], list[int]] = defaultdict(list)
    if contacts:
        db.session.execute(sa.insert(contacts_table), contacts)
        written = db.session.execute(
            sa.select(contacts_table.c.issue_id, contacts_table.c.at, contacts_table.c.id)
            .where(contacts_table.c.issue_id.in_(ids))
            .order_by(contacts_table.c.id)
        )
        for issue_id, at, contact_id in written:
            contact_ids[(issue_id, at)].append(contact_id)
    audits, escalations, pauses = [], [], []
    for issue_id, life in zip(ids, lives, strict=True):
        office_id = life.row["office_id"]
        for event in life.events:  # in time order, so the ids keep the history's order
            if event.contact is not None:
                contact_id = contact_ids[(issue_id, event.at)].pop(0)
                event.changes = {"contact_id": contact_id, **event.changes}
            audits.append(_audit(issue_id, office_id, event))
        escalations += [{**e, "issue_id": issue_id} for e in life.escalations]
        pauses += [{**p, "issue_id": issue_id} for p in life.pauses]
    db.session.execute(sa.insert(AuditEvent.__table__), audits)
    if escalations:
        db.session.execute(sa.insert(Escalation.__table__), escalations)
    if pauses:
        db.session.execute(sa.insert(IssuePause.__table__), pauses)


def seed_issues(
    rng: random.Random, fake: Faker, org: DemoOrg, count: int, tick: Callable[[int], None]
) -> None:
    ensure_reference_data()
    handlers, agents, managers = _staff(org)
    offices = db.session.scalars(sa.select(Office).where(Office.id.in_(org.offices.values())))
    ctx = Context(
        rng=rng,
        fake=fake,
        calendars={office.id: sla_calendar_for(office) for office in offices},
        categories=list(db.session.scalars(sa.select(Category).order_by(Category.id))),
        causes=list(db.session.scalars(sa.select(RootCause).order_by(RootCause.id))),
        offices={office_id: code for code, office_id in org.offices.items()},
        handlers=handlers,
        agents=agents,
        managers=managers,
    )
    customers = db.session.execute(
        sa.select(Customer.id, Customer.office_id, Customer.tier).order_by(Customer.id)
    ).all()
    if not customers:
        return
    days = [END - timedelta(days=d) for d in range(365, 0, -1)]
    weights = [0.35 if d.weekday() >= 5 else 1.0 for d in days]
    received_list = sorted(_received(rng, rng.choices(days, weights)[0]) for _ in range(count))
    batch: list[Life] = []
    for received in received_list:
        batch.append(Story(ctx, received, rng.choice(customers)).play())
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
