"""A year of demo voices on all eleven channels.

- Volumes: offices of different sizes, fewer on weekends (except web feedback), a dip at the
  Spring Festival and the National Day week; active channels (interviews, observation, market
  research) on working days in office hours only.
- Texts per channel (app.seed.voice_texts) with the channel's fields in `details`: a return's
  model, batch and reason code, a sales report's order and amount, an interviewee and role, a
  research agency and sample size; web feedback carries the writer's contact details.
- About a quarter of the demo issues were raised by a voice: same customer, office, category
  and channel, a few minutes before the issue was received; the issue's voice_id and a
  VoiceIssueLink kind="raised" say so.
- Some voices are repeats: the same customer about the same category again, later, with
  repeat_of_id on the first voice of the group, and a VoiceIssueLink kind="repeat" to the
  issue that first voice raised.

Everything goes in with bulk inserts (a few thousand rows per statement group), with an audit
row per voice as record_voice would write, so `make run` stays quick on a fresh database.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import accumulate
from string import Formatter
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.customers.models import Customer
from app.extensions import db
from app.issues.models import Category, Issue
from app.seed import voice_texts as texts
from app.seed.customers import mobile
from app.seed.org import DemoOrg
from app.voice.channels import CHANNEL_FIELDS, CHANNELS, kind_of
from app.voice.models import Voice, VoiceIssueLink
from app.voice.services import REFERENCE_ALPHABET

if TYPE_CHECKING:
    from faker import Faker  # the demo loader's, not a web worker's, import

CN = ZoneInfo("Asia/Shanghai")
END = datetime(2026, 11, 20, 18, 0, tzinfo=CN)  # the demo's "today", as for issues
DAYS = 365
RAISED_SHARE = 0.25  # of the issues whose channel a voice can come through
REPEAT_SHARE = 0.08  # of the customer voices, heard again later
OFFICE_SIZE = {"SH": 1.6, "SZ": 1.3, "GZ": 1.2, "HZ": 1.0, "NJ": 0.8, "XM": 0.6}
# share of the free-standing voices per channel (each channel gets at least one)
CHANNEL_SHARE = {
    "hotline": 28,
    "service_request": 12,
    "sales_report": 9,
    "return": 8,
    "web": 14,
    "interview": 5,
    "problem_team": 6,
    "survey": 9,
    "partner_interview": 3,
    "observation": 3,
    "market_research": 3,
}
ACTIVE_HOURS = (9, 18)
STAFF_CHANNELS = {"hotline", "service_request", "return", "sales_report"}
# (month → factor): Spring Festival in February, the National Day week in October
BATCH = 1000
SEASON = {1: 0.95, 2: 0.6, 3: 1.05, 10: 0.8, 11: 1.1, 12: 1.05}


def voice_count(options: dict[str, Any]) -> int:
    """How many voices the demo gets: about four for every three issues."""
    return int(options.get("issues", 0)) * 4 // 3 if options.get("customers") else 0


@dataclass
class Ctx:
    rng: random.Random
    fake: Faker
    categories: dict[str, tuple[int, str]]  # code → (id, dimension)
    office_codes: dict[int, str]
    dimensions: dict[int, str]  # category id → dimension
    customers_by_office: dict[int, list[int]]
    customer_office: dict[int, int]
    agents: dict[int, list[int]]
    references: set[str]
    names: list[str]  # a pool of people's names (Faker is slow one by one)
    emails: list[str]
    external: dict[tuple[int, str], int]


def _reference(ctx: Ctx) -> str:
    while True:
        ref = "V-" + "".join(ctx.rng.choice(REFERENCE_ALPHABET) for _ in range(8))
        if ref not in ctx.references:
            ctx.references.add(ref)
            return ref


def _days(weekend: float) -> tuple[list[datetime], list[float]]:
    days = [END - timedelta(days=d) for d in range(DAYS, 0, -1)]
    weights = [SEASON.get(d.month, 1.0) * (weekend if d.weekday() >= 5 else 1.0) for d in days]
    return days, list(accumulate(weights))


def _when(rng: random.Random, day: datetime, channel: str) -> datetime:
    if channel == "web":
        hour = rng.choices(range(24), [1] * 7 + [3] * 12 + [5] * 4 + [2])[0]
    elif kind_of(channel) == "active":
        hour = rng.randrange(*ACTIVE_HOURS)
    else:
        hour = rng.choices(range(8, 21), [2, 9, 10, 9, 6, 8, 9, 8, 7, 5, 3, 2, 1])[0]
    when = day.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60))
    return min(when, END)


def _slots(ctx: Ctx, channel: str, office_id: int, fields: frozenset[str]) -> dict[str, str]:
    """Values for the template's slots (only those it names, plus the channel's own fields,
    which go to details)."""
    rng = ctx.rng
    code = ctx.office_codes[office_id]
    product = rng.choice(texts.HARDWARE if channel == "return" else list(texts.PRODUCTS))
    makers: dict[str, Callable[[], str]] = {
        "product": lambda: product,
        "model": lambda: rng.choice(texts.PRODUCTS[product]),
        "batch": lambda: (
            f"B{rng.randint(2025, 2026)}{rng.randint(1, 12):02d}-{rng.randint(1, 40):02d}"
        ),
        "reason_code": lambda: "",  # set from the sentence chosen (see _row)
        "order_no": lambda: f"SO-{code}-{rng.randint(240000, 269999)}",
        "amount": lambda: f"{rng.randrange(20, 2000) * 1000:,}",
        "interviewee": lambda: rng.choice(ctx.names),
        "interviewee_role": lambda: rng.choice(texts.ROLES),
        "partner": lambda: rng.choice(texts.PARTNERS),
        "team": lambda: rng.choice(texts.TEAMS),
        "site": lambda: rng.choice(texts.SITES),
        "agency": lambda: rng.choice(texts.AGENCIES),
        "sample_size": lambda: str(rng.choice([300, 400, 500, 600, 800, 1000, 1200])),
        "n": lambda: str(rng.randint(2, 12)),
        "pct": lambda: str(rng.randint(8, 45)),
        "d": lambda: str(rng.randint(2, 12)),
    }
    return {name: makers[name]() for name in sorted(fields | set(CHANNEL_FIELDS[channel]))}


@lru_cache(maxsize=256)
def _fields(template: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in Formatter().parse(template) if name)


EXTERNAL_PREFIX = {"sales_report": "SR", "return": "RMA", "market_research": "MR"}


def _row(
    ctx: Ctx, channel: str, office_id: int, customer_id: int | None, at: datetime
) -> dict[str, Any]:
    rng = ctx.rng
    choice = rng.randrange(len(texts.TEMPLATES[channel]))
    template, category, sentiment = texts.TEMPLATES[channel][choice]
    named = _fields(template)
    slots = _slots(ctx, channel, office_id, named)
    if channel == "return":  # the code must match what the sentence says
        slots["reason_code"] = texts.RETURN_TEMPLATE_REASONS[choice]
    text = template.format(**slots)
    # the channel's fields the sentence names; a sales report carries all its figures
    details = {
        f: slots[f] for f in CHANNEL_FIELDS[channel] if f in named or channel == "sales_report"
    }
    row = _base(ctx, channel, office_id, customer_id, at, text)
    category_id, dimension = ctx.categories[category]
    row.update(
        category_id=category_id,
        dimension=dimension,
        sentiment=sentiment,
        details=details,
    )
    if channel in EXTERNAL_PREFIX:
        key = (office_id, channel)
        ctx.external[key] = serial = ctx.external.get(key, 0) + 1
        code = ctx.office_codes[office_id]
        row["external_id"] = f"{EXTERNAL_PREFIX[channel]}-{code}-{serial:05d}"
    if channel == "web":
        row.update(
            contact_name=rng.choice(ctx.names),
            contact_phone=mobile(rng) if rng.random() < 0.8 else None,
            contact_email=rng.choice(ctx.emails) if rng.random() < 0.6 else None,
        )
    return row


def _base(
    ctx: Ctx, channel: str, office_id: int, customer_id: int | None, at: datetime, text: str
) -> dict[str, Any]:
    agents = ctx.agents.get(office_id) or []
    created_by = ctx.rng.choice(agents) if channel in STAFF_CHANNELS and agents else None
    return {
        "reference": _reference(ctx),
        "channel": channel,
        "kind": kind_of(channel),
        "office_id": office_id,
        "customer_id": customer_id,
        "occurred_at": at,
        "text": text,
        "dimension": None,
        "category_id": None,
        "sentiment": None,
        "classified_by": "staff",
        "details": {},
        "contact_name": None,
        "contact_phone": None,
        "contact_email": None,
        "external_id": None,
        "repeat_of_id": None,
        "created_by_id": created_by,
        "created_at": at,
    }


@dataclass
class Inserted:
    id: int
    customer_id: int | None
    category_id: int | None
    occurred_at: datetime
    text: str
    issue_id: int | None  # the issue it raised


def _insert(ctx: Ctx, rows: list[dict[str, Any]], issue_ids: list[int | None]) -> list[Inserted]:
    # ids by reference (unique, ours): no reliance on the order of a bulk RETURNING
    db.session.execute(sa.insert(Voice.__table__), rows)  # Core executemany: one statement
    found = db.session.execute(
        sa.select(Voice.reference, Voice.id).where(
            Voice.reference.in_([row["reference"] for row in rows])
        )
    )
    by_reference: dict[str, int] = dict(found.all())
    ids = [by_reference[row["reference"]] for row in rows]
    db.session.execute(
        sa.insert(AuditEvent.__table__),
        [
            {
                "at": row["created_at"],
                "actor_id": row["created_by_id"],
                "entity_type": "voice",
                "entity_id": voice_id,
                "action": "create",
                "changes": {
                    "channel": [None, row["channel"]],
                    "office": [None, ctx.office_codes[row["office_id"]]],
                },
                "office_id": row["office_id"],
            }
            for voice_id, row in zip(ids, rows, strict=True)
        ],
    )
    return [
        Inserted(
            voice_id, row["customer_id"], row["category_id"], row["occurred_at"], row["text"], issue
        )
        for voice_id, row, issue in zip(ids, rows, issue_ids, strict=True)
    ]


def _raised(ctx: Ctx, cap: int) -> tuple[list[dict[str, Any]], list[int | None]]:
    """Voices that raised demo issues (a share of those whose channel a voice comes through,
    at most `cap`): the issue's customer, office, category and channel."""
    issues = db.session.execute(
        sa.select(
            Issue.id,
            Issue.customer_id,
            Issue.office_id,
            Issue.category_id,
            Issue.channel,
            Issue.received_at,
            Issue.title,
        )
        .where(Issue.channel.in_(list(texts.RAISED)), Issue.voice_id.is_(None))
        .order_by(Issue.id)
    ).all()
    target = min(int(len(issues) * RAISED_SHARE), cap)
    chosen = sorted(ctx.rng.sample(issues, target), key=lambda i: i.id)
    rows, issue_ids = [], []
    for issue in chosen:
        at = issue.received_at - timedelta(minutes=ctx.rng.randint(2, 45))
        row = _base(
            ctx,
            issue.channel,
            issue.office_id,
            issue.customer_id,
            at,
            texts.RAISED[issue.channel].format(title=issue.title),
        )
        row.update(
            category_id=issue.category_id,
            dimension=ctx.dimensions[issue.category_id],
            sentiment="negative",
        )
        rows.append(row)
        issue_ids.append(issue.id)
    return rows, issue_ids


def _free(ctx: Ctx, count: int) -> list[dict[str, Any]]:
    """Voices on every channel, spread over the year and the offices by size."""
    rng = ctx.rng
    total = sum(CHANNEL_SHARE.values())
    per_channel = {ch: max(1, count * share // total) for ch, share in CHANNEL_SHARE.items()}
    offices = [o for o in ctx.office_codes if ctx.customers_by_office.get(o)]
    office_weights = [OFFICE_SIZE.get(ctx.office_codes[o], 1.0) for o in offices]
    calendars = {True: _days(0.15), False: _days(0.35), None: _days(0.8)}
    rows = []
    for channel in CHANNELS:
        key = None if channel == "web" else kind_of(channel) == "active"
        days, cumulative = calendars[key]
        for _ in range(per_channel[channel]):
            office_id = rng.choices(offices, office_weights)[0]
            day = rng.choices(days, cum_weights=cumulative)[0]
            customer_id = None
            if channel != "market_research" and not (channel == "web" and rng.random() < 0.5):
                customer_id = rng.choice(ctx.customers_by_office[office_id])
            rows.append(_row(ctx, channel, office_id, customer_id, _when(rng, day, channel)))
    return rows


def _repeats(ctx: Ctx, firsts: list[Inserted], count: int) -> list[dict[str, Any]]:
    """Later voices of the same customer about the same category as an earlier one; each
    points at the first voice of its group."""
    rng = ctx.rng
    latest = END - timedelta(days=3)
    candidates = [
        (v, v.customer_id, v.category_id)
        for v in firsts
        if v.customer_id is not None and v.category_id is not None and v.occurred_at < latest
    ]
    # half of them about something that became an issue: the customer calls again about it
    raised = [c for c in candidates if c[0].issue_id is not None]
    picked = rng.sample(raised, min(count // 2, len(raised)))
    chosen = {c[0].id for c in picked}
    rest = [c for c in candidates if c[0].id not in chosen]
    picked += rng.sample(rest, min(count - len(picked), len(rest)))
    rows = []
    for first, customer_id, category_id in sorted(picked, key=lambda c: c[0].id):
        gap = timedelta(days=rng.randint(1, 30), hours=rng.randint(0, 8))
        channel = rng.choice(["hotline", "hotline", "web", "service_request"])
        said = first.text.split("：", 1)[-1]
        row = _base(
            ctx,
            channel,
            ctx.customer_office[customer_id],
            customer_id,
            min(first.occurred_at + gap, END),
            rng.choice(texts.REPEAT_PREFIX) + said,
        )
        row.update(
            category_id=category_id,
            dimension=ctx.dimensions[category_id],
            sentiment="negative",
            repeat_of_id=first.id,
        )
        rows.append(row)
    return rows


def _context(rng: random.Random, fake: Faker, org: DemoOrg) -> Ctx:
    customers: dict[int, list[int]] = defaultdict(list)
    customer_office: dict[int, int] = {}
    for customer_id, office_id in db.session.execute(
        sa.select(Customer.id, Customer.office_id).order_by(Customer.id)
    ):
        customers[office_id].append(customer_id)
        customer_office[customer_id] = office_id
    agents: dict[int, list[int]] = defaultdict(list)
    for email, user_id in sorted(org.users.items()):
        code = email.split("@")[0].split(".")[-1].rstrip("0123456789").upper()
        if email.startswith("agent.") and code in org.offices:
            agents[org.offices[code]].append(user_id)
    categories = {
        code: (cid, dim)
        for cid, code, dim in db.session.execute(
            sa.select(Category.id, Category.code, Category.dimension)
        )
    }
    return Ctx(
        rng=rng,
        fake=fake,
        categories=categories,
        dimensions=dict(categories.values()),
        office_codes={office_id: code for code, office_id in org.offices.items()},
        customers_by_office=dict(customers),
        customer_office=customer_office,
        agents=dict(agents),
        references=set(db.session.scalars(sa.select(Voice.reference))),
        names=[fake.name() for _ in range(300)],
        emails=[fake.free_email() for _ in range(300)],
        external={},
    )


def _in_batches(
    ctx: Ctx,
    rows: list[dict[str, Any]],
    issue_ids: list[int | None],
    tick: Callable[[int], None],
) -> list[Inserted]:
    done: list[Inserted] = []
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        done.extend(_insert(ctx, chunk, issue_ids[start : start + BATCH]))
        tick(len(chunk))
    return done


def seed_voices(
    rng: random.Random, fake: Faker, org: DemoOrg, count: int, tick: Callable[[int], None]
) -> int:
    """Add `count` demo voices (about) and their links; nothing when voices already exist."""
    if count <= 0 or db.session.scalar(sa.select(Voice.id).limit(1)) is not None:
        return 0
    ctx = _context(rng, fake, org)
    if not ctx.customers_by_office:
        return 0
    raised_rows, raised_issues = _raised(ctx, cap=count // 3)
    repeat_count = int(count * REPEAT_SHARE)
    free_rows = _free(ctx, max(count - len(raised_rows) - repeat_count, len(CHANNELS)))
    firsts_rows = raised_rows + free_rows
    firsts_issues: list[int | None] = [*raised_issues, *([None] * len(free_rows))]
    # one chronology: ids follow time, as they would have in real life
    order = sorted(range(len(firsts_rows)), key=lambda i: firsts_rows[i]["occurred_at"])
    firsts = _in_batches(
        ctx, [firsts_rows[i] for i in order], [firsts_issues[i] for i in order], tick
    )
    repeat_rows = sorted(_repeats(ctx, firsts, repeat_count), key=lambda r: r["occurred_at"])
    _in_batches(ctx, repeat_rows, [None] * len(repeat_rows), tick)
    _link(firsts)
    return len(firsts) + len(repeat_rows)


def _link(firsts: list[Inserted]) -> None:
    """Issue.voice_id and kind="raised" links for the voices that raised issues; kind="repeat"
    links from a repeat to the issue its first voice raised."""
    raised = {v.id: v for v in firsts if v.issue_id is not None}
    if not raised:
        return
    issues = sa.table("issues", sa.column("id"), sa.column("voice_id"))
    db.session.execute(
        sa.update(issues)
        .where(issues.c.id == sa.bindparam("issue"))
        .values(voice_id=sa.bindparam("voice")),
        [{"issue": v.issue_id, "voice": v.id} for v in raised.values()],
    )
    links = [
        {"voice_id": v.id, "issue_id": v.issue_id, "kind": "raised", "at": v.occurred_at}
        for v in raised.values()
    ]
    repeat_ids = db.session.execute(
        sa.select(Voice.id, Voice.repeat_of_id, Voice.occurred_at).where(
            Voice.repeat_of_id.in_(list(raised))
        )
    ).all()
    links += [
        {"voice_id": vid, "issue_id": raised[first].issue_id, "kind": "repeat", "at": at}
        for vid, first, at in repeat_ids
        if first is not None
    ]
    db.session.execute(sa.insert(VoiceIssueLink.__table__), links)
