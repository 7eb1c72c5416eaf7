"""Demo surveys: contacts and projects, two waves of a project survey, one third-party wave.

- Contacts: one or two per customer (most with an e-mail, a few in English).
- Projects: about two customers in five have one or two, delivered by the customer's office,
  with three or four milestones; the earlier ones are done.
- A project survey (项目满意度调查) with four weighted indicators (30/25/25/20 %), a rating per
  indicator, a recommendation question (NPS), a choice and a comment. Two waves, each its own
  campaign over the contacts of customers with a project: May (closed) and October (still open,
  both reminders sent). Invitations go through the outbox (some e-mails failed), some are
  opened, about half answered; the October answers are a little better.
- Dissatisfied answers (NPS ≤ 6 or a rating ≤ 2) open their issue through the real closed-loop
  path (app.surveys.answers), in the contact's office, linked to the answer. Most of May's are
  then handled, resolved and closed through the issue services, and those contacts are invited
  again in October (re-measurement); most of them answer.
- A third-party wave (第三方满意度调查) with the same indicators: our customers' rows and two
  competitors', as an agency's import would leave them.

Bulk inserts for the many rows, with the audit rows the services would write; services only for
the few dozen closed-loop issues. Deterministic under the seed; idempotent through seed-demo.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.auth.models import User
from app.contacts.models import Contact, Milestone, Project
from app.core.audit import AuditEvent
from app.core.outbox import OutboxMessage
from app.customers.models import Customer
from app.extensions import db
from app.issues.models import Issue, RootCause
from app.issues.services import close_issue, handle_issue, resolve_issue
from app.seed.org import DemoOrg
from app.surveys import scoring
from app.surveys.answers import _open_issue
from app.surveys.invitations import link, token_digest
from app.surveys.models import (
    Answer,
    Campaign,
    CampaignSkip,
    Indicator,
    Invitation,
    InvitationToken,
    Question,
    Response,
    Survey,
    ThirdPartyAnswer,
)

if TYPE_CHECKING:
    from faker import Faker  # the demo loader's, not a web worker's, import

CN = ZoneInfo("Asia/Shanghai")
INDICATORS = [
    ("delivery", "交付质量", "Delivery quality", 30.0),
    ("response", "响应速度", "Responsiveness", 25.0),
    ("attitude", "服务态度", "Service attitude", 25.0),
    ("product", "产品质量", "Product quality", 20.0),
]
RATING_TEXT = {
    "delivery": ("您对项目交付质量的满意程度？", "How satisfied are you with the delivery?"),
    "response": ("您对我们响应速度的满意程度？", "How satisfied are you with our responsiveness?"),
    "attitude": ("您对服务人员态度的满意程度？", "How satisfied are you with our staff?"),
    "product": ("您对产品质量的满意程度？", "How satisfied are you with the product quality?"),
}
CHOICES = ["电话", "邮件", "微信"]
GOOD = ["项目团队很专业，交付准时。", "工程师响应及时，问题很快解决。", "整体满意，希望继续合作。"]
BAD = [
    "现场调试拖了两周，影响了我们的生产计划。",
    "报修后很久才有人联系，沟通不顺畅。",
    "设备到货后有质量问题，更换流程太慢。",
    "项目经理频繁更换，交接不清楚。",
]
COMPETITORS = ["竞品甲公司", "竞品乙公司"]
PROJECTS = ["生产线改造", "数据中心扩容", "智能仓储", "设备升级", "运维外包"]
MILESTONES = ["合同签订", "设备到货", "安装调试", "验收交付"]
WAVES = [
    # name, sent, close, reminders sent to non-responders, mean shift of the answers
    (
        "2026年5月 项目满意度调查",
        datetime(2026, 5, 11, 10, 0, tzinfo=CN),
        datetime(2026, 6, 10, 18, 0, tzinfo=CN),
        1,
        0.0,
    ),
    (
        "2026年10月 项目满意度调查",
        datetime(2026, 10, 12, 10, 0, tzinfo=CN),
        datetime(2026, 12, 15, 18, 0, tzinfo=CN),
        2,
        0.25,
    ),
]
THIRD_PARTY_AT = datetime(2026, 9, 1, 9, 0, tzinfo=CN)


@dataclass
class Built:
    survey: Survey
    questions: dict[str, Question]
    by_id: dict[int, Question]


def _survey(title: str, kind: str, actor_id: int | None, with_text: bool) -> Built:
    survey = Survey(title=title, kind=kind, status="active", created_by_id=actor_id)
    for position, (key, zh, en, weight) in enumerate(INDICATORS):
        survey.indicators.append(
            Indicator(key=key, name_zh=zh, name_en=en, weight=weight, position=position)
        )
    db.session.add(survey)
    db.session.flush()
    survey.family_id = survey.id
    questions: list[Question] = []
    for position, indicator in enumerate(survey.indicators):
        zh, en = RATING_TEXT[indicator.key]
        questions.append(
            Question(
                key=indicator.key,
                type="rating5",
                text_zh=zh,
                text_en=en,
                indicator_id=indicator.id,
                position=position,
            )
        )
    questions.append(
        Question(
            key="nps",
            type="nps",
            text_zh="您有多大可能向同行推荐我们？",
            text_en="How likely are you to recommend us to a colleague?",
            position=10,
        )
    )
    if with_text:
        questions.append(
            Question(
                key="channel",
                type="choice",
                text_zh="您最常用的联系方式？",
                text_en="How do you usually reach us?",
                options=CHOICES,
                required=False,
                position=11,
            )
        )
        questions.append(
            Question(
                key="comment",
                type="text",
                text_zh="还有什么想告诉我们的吗？",
                text_en="Anything else you would like to tell us?",
                required=False,
                position=12,
            )
        )
    for q in questions:
        q.survey_id = survey.id
        db.session.add(q)
    db.session.flush()
    return Built(survey, {q.key: q for q in questions}, {q.id: q for q in questions})


def _audit(
    at: datetime,
    actor: int | None,
    kind: str,
    entity: int,
    action: str,
    changes: dict[str, Any],
    office: int | None,
) -> dict[str, Any]:
    return {
        "at": at,
        "actor_id": actor,
        "entity_type": kind,
        "entity_id": entity,
        "action": action,
        "changes": changes,
        "office_id": office,
    }


def _contacts_and_projects(
    rng: random.Random, fake: Faker, customers: list[Any], done_by: dict[int, int]
) -> dict[int, list[int]]:
    """Contacts of every customer; projects with milestones for about two in five. Returns the
    contact ids of each customer that has a project."""
    rows = []
    for customer_id, _office_id in customers:
        for _ in range(rng.choice([1, 1, 2])):
            rows.append(
                {
                    "customer_id": customer_id,
                    "name": fake.name(),
                    "role": rng.choice(
                        ["项目经理", "采购经理", "技术负责人", "运维主管", "总经理"]
                    ),
                    "email": fake.free_email() if rng.random() < 0.92 else None,
                    "phone": None,
                    "language": "en" if rng.random() < 0.08 else "zh",
                    "active": True,
                    "version": 1,
                }
            )
    ids = list(db.session.scalars(sa.insert(Contact).returning(Contact.id), rows))
    contacts: dict[int, list[int]] = {}
    for contact_id, row in zip(ids, rows, strict=True):
        contacts.setdefault(row["customer_id"], []).append(contact_id)
    project_rows, owners = [], []
    for customer_id, office_id in customers:
        if rng.random() >= 0.4:
            continue
        for n in range(rng.choice([1, 1, 2])):
            project_rows.append(
                {
                    "customer_id": customer_id,
                    "office_id": office_id,
                    "name": f"{rng.choice(PROJECTS)}项目{'' if n == 0 else '二期'}",
                    "version": 1,
                }
            )
            owners.append(customer_id)
    project_ids = list(db.session.scalars(sa.insert(Project).returning(Project.id), project_rows))
    milestone_rows = []
    start = date(2026, 1, 5)
    for project_id, row in zip(project_ids, project_rows, strict=True):
        begin = start + timedelta(days=rng.randrange(0, 240))
        steps = MILESTONES[: rng.choice([3, 4])]
        done_count = rng.randrange(1, len(steps) + 1)
        for i, name in enumerate(steps):
            due = begin + timedelta(days=30 * (i + 1))
            done_on = due + timedelta(days=rng.randrange(-5, 15)) if i < done_count else None
            if done_on is not None and done_on > date(2026, 11, 20):
                done_on = None
            milestone_rows.append(
                {
                    "project_id": project_id,
                    "name": name,
                    "due_date": due,
                    "done_on": done_on,
                    "done_at": None
                    if done_on is None
                    else datetime(done_on.year, done_on.month, done_on.day, 17, 0, tzinfo=CN),
                    "done_by_id": None if done_on is None else done_by.get(row["office_id"]),
                }
            )
    if milestone_rows:
        db.session.execute(sa.insert(Milestone), milestone_rows)
    return {c: contacts.get(c, []) for c in dict.fromkeys(owners)}


def _answers(rng: random.Random, built: Built, mood: float, shift: float) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, *_ in INDICATORS:
        mean = mood + shift + rng.uniform(-0.6, 0.6)
        if rng.random() < 0.05:
            continue  # skipped: counted in no denominator
        values[key] = max(1, min(5, round(rng.gauss(mean, 0.7))))
    rated = list(values.values()) or [3]
    nps = round((sum(rated) / len(rated) - 1) * 2.5 + rng.gauss(0, 1.2))
    values["nps"] = max(0, min(10, nps))
    if rng.random() < 0.6:
        values["channel"] = rng.choice(CHOICES)
    low = any(v <= 2 for k, v in values.items() if k in RATING_TEXT) or values["nps"] <= 6
    if rng.random() < (0.7 if low else 0.2):
        values["comment"] = rng.choice(BAD if low else GOOD)
    return values


def seed_surveys(
    rng: random.Random, fake: Faker, org: DemoOrg, tick: Callable[[int], None]
) -> None:
    customers: list[Any] = list(
        db.session.execute(sa.select(Customer.id, Customer.office_id).order_by(Customer.id))
    )
    if not customers:
        return
    code_of = {office_id: code for code, office_id in org.offices.items()}
    handlers = {
        org.offices[code]: org.users.get(f"handler.{code.lower()}1@demo.local")
        for code in org.offices
    }
    handlers_ok = {k: v for k, v in handlers.items() if v is not None}
    quality = org.users.get("quality1@demo.local")
    per_customer = _contacts_and_projects(rng, fake, customers, handlers_ok)
    tick(1)
    office_of = dict(customers)
    audience = sorted(
        (cid, office_of[customer_id]) for customer_id, ids in per_customer.items() for cid in ids
    )
    emails: dict[int, str] = dict(
        db.session.execute(  # type: ignore[arg-type]
            sa.select(Contact.id, Contact.email).where(Contact.email.is_not(None))
        ).all()
    )
    names = dict(db.session.execute(sa.select(Contact.id, Contact.name)).all())
    # the contacts without an e-mail are listed on each wave as skipped, as the service does
    no_email = [cid for cid, _office in audience if cid not in emails]
    audience = [(cid, office) for cid, office in audience if cid in emails]
    mood = {cid: rng.choice([2.6, 3.4, 3.9, 4.2, 4.5]) for cid, _ in audience}

    built = _survey("项目满意度调查", "project", quality, with_text=True)
    audits = [
        _audit(
            WAVES[0][1] - timedelta(days=7),
            quality,
            "survey",
            built.survey.id,
            "create",
            {"title": built.survey.title},
            None,
        )
    ]
    issues_to_close: list[int] = []
    for wave_no, (name, sent, close_at, reminders, shift) in enumerate(WAVES):
        campaign = Campaign(
            survey_id=built.survey.id,
            name=name,
            office_id=None,
            audience={},
            send_at=sent,
            remind_after_days=7,
            reminders=2,
            close_at=close_at,
            status="closed" if close_at < datetime(2026, 11, 20, tzinfo=CN) else "open",
            last_wave="once",
            last_wave_at=sent,
            created_by_id=quality,
            closed_at=close_at if close_at < datetime(2026, 11, 20, tzinfo=CN) else None,
        )
        campaign.created_at = sent - timedelta(days=3)
        db.session.add(campaign)
        db.session.flush()
        audits.append(
            _audit(
                campaign.created_at,
                quality,
                "campaign",
                campaign.id,
                "create",
                {"name": name},
                None,
            )
        )
        audits.append(
            _audit(
                sent,
                None,
                "campaign",
                campaign.id,
                "send",
                {
                    "wave": "once",
                    "invited": len(audience),
                    "skipped": {"no_email": len(no_email)} if no_email else {},
                },
                None,
            )
        )
        if no_email:
            db.session.execute(
                sa.insert(CampaignSkip),
                [
                    {
                        "campaign_id": campaign.id,
                        "contact_id": cid,
                        "wave": "once",
                        "reason": "no_email",
                        "detail": "",
                        "at": sent,
                    }
                    for cid in no_email
                ],
            )
        _wave(
            rng,
            built,
            campaign,
            audience,
            mood,
            emails,
            names,
            sent,
            close_at,
            reminders,
            shift,
            audits,
            issues_to_close if wave_no == 0 else None,
            code_of,
        )
        tick(1)
        if wave_no == 0:
            _close_loop(rng, issues_to_close, sent + timedelta(days=20))
    db.session.execute(sa.insert(AuditEvent), audits)
    _third_party(rng, quality)
    db.session.execute(
        sa.update(Contact)
        .where(Contact.id.in_([cid for cid, _ in audience]))
        .values(last_surveyed_at=WAVES[-1][1])
    )
    tick(1)


def _stamp_delivered(mails: list[dict[str, Any]]) -> None:
    """What the outbox's mail_sent stamps when it hands an invitation's first e-mail to the
    server (a failed invitation's reminders failed too)."""
    delivered = [
        {"id": int(m["idempotency_key"].split(":")[1]), "delivered_at": m["sent_at"]}
        for m in mails
        if m["sent_at"] is not None and m["idempotency_key"].endswith(":0")
    ]
    if delivered:
        db.session.execute(sa.update(Invitation), delivered)


def _wave(
    rng: random.Random,
    built: Built,
    campaign: Campaign,
    audience: list[tuple[int, int]],
    mood: dict[int, float],
    emails: dict[int, str],
    names: dict[int, str],
    sent: datetime,
    close_at: datetime,
    reminders: int,
    shift: float,
    audits: list[dict[str, Any]],
    to_close: list[int] | None,
    code_of: dict[int, str],
) -> None:
    rows: list[dict[str, Any]] = []
    fates: list[bool] = []
    for contact_id, office_id in audience:
        failed = rng.random() < 0.03
        opened = not failed and rng.random() < 0.75
        answers_it = opened and rng.random() < 0.68
        responded_at = sent + timedelta(hours=rng.uniform(1, 24 * 20)) if answers_it else None
        if responded_at is not None and responded_at > min(
            close_at, datetime(2026, 11, 20, 18, tzinfo=CN)
        ):
            responded_at = sent + timedelta(hours=rng.uniform(1, 48))
        reminded = (
            0
            if failed
            else (
                reminders
                if responded_at is None
                else min(reminders, int((responded_at - sent).days // 7))
            )
        )
        rows.append(
            {
                "purpose": "survey",
                "campaign_id": campaign.id,
                "survey_id": built.survey.id,
                "contact_id": contact_id,
                "office_id": office_id,
                "wave": "once",
                "created_at": sent,
                "sent_at": sent,
                "expires_at": close_at,
                "reminders_sent": reminded,
                "opened_at": None
                if not opened
                else (responded_at or sent + timedelta(hours=rng.uniform(1, 300)))
                - timedelta(minutes=5),
                "responded_at": responded_at,
            }
        )
        fates.append(failed)
    ids = list(db.session.scalars(sa.insert(Invitation).returning(Invitation.id), rows))
    tokens, mails = [], []
    title = built.survey.title
    for inv_id, row, failed in zip(ids, rows, fates, strict=True):
        for number in range(row["reminders_sent"] + 1):
            # real links (random, only their hash stored), so the demo's open wave can be answered
            token = secrets.token_urlsafe(32)
            tokens.append(
                {"invitation_id": inv_id, "token_hash": token_digest(token), "created_at": sent}
            )
            at = sent + timedelta(days=7 * number)
            mails.append(
                {
                    "idempotency_key": f"invitation:{inv_id}:{number}",
                    "created_at": at,
                    "recipient": emails[row["contact_id"]],
                    "subject": f"{'【提醒】' if number else ''}【客户满意度调查】{title}",
                    "body": (
                        f"尊敬的{names[row['contact_id']]}：\n\n"
                        f"诚邀您对我们的服务进行评价，只需几分钟：\n\n{link(token)}\n"
                    ),
                    "status": "failed" if failed else "sent",
                    "attempts": 8 if failed else 1,
                    "next_attempt_at": at,
                    "last_error": "550 5.1.1 mailbox unavailable" if failed else None,
                    "sent_at": None if failed else at + timedelta(seconds=rng.randrange(5, 90)),
                    "entity_type": "campaign",
                    "entity_id": campaign.id,
                }
            )
            if number:
                audits.append(
                    _audit(
                        at,
                        None,
                        "invitation",
                        inv_id,
                        "remind",
                        {"reminders_sent": [number - 1, number]},
                        row["office_id"],
                    )
                )
    db.session.execute(sa.insert(InvitationToken), tokens)
    db.session.execute(sa.insert(OutboxMessage), mails)
    _stamp_delivered(mails)
    answered = [(inv_id, row) for inv_id, row in zip(ids, rows, strict=True) if row["responded_at"]]
    values = [_answers(rng, built, mood[row["contact_id"]], shift) for _, row in answered]
    response_rows = [
        {
            "invitation_id": inv_id,
            "campaign_id": campaign.id,
            "survey_id": built.survey.id,
            "contact_id": row["contact_id"],
            "office_id": row["office_id"],
            "language": "zh",
            "submitted_at": row["responded_at"],
        }
        for inv_id, row in answered
    ]
    if not response_rows:
        return
    response_ids = list(
        db.session.scalars(sa.insert(Response).returning(Response.id), response_rows)
    )
    answer_rows: list[dict[str, Any]] = []
    for response_id, answers, (inv_id, row) in zip(response_ids, values, answered, strict=True):
        for key, value in answers.items():
            q = built.questions[key]
            numeric = value if q.type in ("rating5", "nps") else None
            answer_rows.append(
                {
                    "response_id": response_id,
                    "question_id": q.id,
                    "campaign_id": campaign.id,
                    "question_type": q.type,
                    "indicator_id": q.indicator_id,
                    "value": numeric,
                    "text": None if numeric is not None else value,
                }
            )
        audits.append(
            _audit(
                row["responded_at"],
                None,
                "survey_response",
                response_id,
                "respond",
                {"invitation_id": inv_id, "answers": len(answers)},
                row["office_id"],
            )
        )
    db.session.execute(sa.insert(Answer), answer_rows)
    # the closed loop, through the real path: an issue per dissatisfied answer
    for response_id, answers in zip(response_ids, values, strict=True):
        low = [
            (built.questions[k], v)
            for k, v in answers.items()
            if built.questions[k].type in ("rating5", "nps")
            and scoring.is_dissatisfied(built.questions[k].type, v)
        ]
        if not low:
            continue
        response = db.session.get_one(Response, response_id)
        invitation = db.session.get_one(Invitation, response.invitation_id)
        clean = {
            built.questions[k].id: (
                (v, None) if built.questions[k].type in ("rating5", "nps") else (None, v)
            )
            for k, v in answers.items()
        }
        with db.session.begin_nested():
            _open_issue(response, invitation, low, clean, built.by_id, response.submitted_at)
        if to_close is not None and response.issue_id is not None and rng.random() < 0.7:
            to_close.append(response.issue_id)


def _close_loop(rng: random.Random, issue_ids: list[int], when: datetime) -> None:
    """Handle, resolve and close (rated by the customer) most of the first wave's issues, through
    the issue services, as the office would have done."""
    cause = db.session.scalar(
        sa.select(RootCause.code).where(RootCause.active.is_(True)).order_by(RootCause.id)
    )
    if cause is None:
        return
    for issue_id in issue_ids:
        issue = db.session.get_one(Issue, issue_id)
        handler_id = db.session.scalar(
            sa.select(User.id)
            .where(User.office_id == issue.office_id, User.email.like("handler.%"))
            .order_by(User.id)
        )
        handler = db.session.get(User, handler_id) if handler_id else None
        if handler is None:
            continue
        at = max(when, issue.received_at) + timedelta(hours=rng.randrange(2, 72))
        handle_issue(actor=handler, issue_id=issue_id, owner_id=handler.id, now=at)
        resolve_issue(
            actor=handler,
            issue_id=issue_id,
            resolution="已上门处理并回访客户，问题已解决。",
            root_cause=cause,
            responsible="项目交付组",
            now=at + timedelta(days=2),
        )
        close_issue(
            actor=None,
            issue_id=issue_id,
            rating=rng.choice([3, 4, 4, 5]),
            now=at + timedelta(days=3),
        )


def _third_party(rng: random.Random, quality: int | None) -> None:
    built = _survey("第三方客户满意度调研", "third_party", quality, with_text=False)
    campaign = Campaign(
        survey_id=built.survey.id,
        name="2026年度第三方满意度调研（行业对标）",
        office_id=None,
        audience={},
        status="closed",
        created_by_id=quality,
        closed_at=THIRD_PARTY_AT,
    )
    campaign.created_at = THIRD_PARTY_AT - timedelta(days=14)
    db.session.add(campaign)
    db.session.flush()
    rows = []
    companies: list[tuple[str | None, float, int]] = [
        (None, 3.9, 200),
        (COMPETITORS[0], 3.6, 150),
        (COMPETITORS[1], 4.0, 150),
    ]
    serial = 0
    for company, centre, count in companies:
        for _ in range(count):
            serial += 1
            mood = centre + rng.uniform(-0.8, 0.8)
            rated = []
            for key, *_ in INDICATORS:
                value = max(1, min(5, round(rng.gauss(mood, 0.7))))
                rated.append(value)
                q = built.questions[key]
                rows.append(
                    {
                        "campaign_id": campaign.id,
                        "row_key": f"R{serial:05d}",
                        "company": company,
                        "question_id": q.id,
                        "question_type": "rating5",
                        "indicator_id": q.indicator_id,
                        "value": value,
                        "text": None,
                    }
                )
            nps = max(0, min(10, round((sum(rated) / len(rated) - 1) * 2.5 + rng.gauss(0, 1.2))))
            q = built.questions["nps"]
            rows.append(
                {
                    "campaign_id": campaign.id,
                    "row_key": f"R{serial:05d}",
                    "company": company,
                    "question_id": q.id,
                    "question_type": "nps",
                    "indicator_id": None,
                    "value": nps,
                    "text": None,
                }
            )
    db.session.execute(sa.insert(ThirdPartyAnswer), rows)
    db.session.execute(
        sa.insert(AuditEvent),
        [
            _audit(
                campaign.created_at,
                quality,
                "campaign",
                campaign.id,
                "create",
                {"name": campaign.name},
                None,
            ),
            _audit(
                THIRD_PARTY_AT,
                quality,
                "campaign",
                campaign.id,
                "import",
                {"rows": serial, "companies": [c or "" for c, _, _ in companies]},
                None,
            ),
        ],
    )
