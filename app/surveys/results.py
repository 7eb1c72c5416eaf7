"""A campaign's figures, aggregated in SQL: invited, delivered, responded, response rate
(responded / delivered), NPS, CSAT and the weighted satisfaction index, each with its sample size
and 95 % margin (app.surveys.scoring)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from app.contacts.models import Contact
from app.core.outbox import OutboxMessage
from app.extensions import db
from app.issues.models import Issue
from app.surveys import scoring
from app.surveys.models import Answer, Campaign, CampaignSkip, Invitation, Response, delivered


@dataclass
class Figures:
    invited: int
    delivered: int  # the response rate's denominator (app.surveys.models.delivered)
    responded: int
    response_rate: float | None
    nps: scoring.Estimate
    csat: scoring.Estimate
    index: scoring.Estimate
    indicators: list[scoring.IndicatorScore] = field(default_factory=list)
    skipped: int = 0
    nps_counts: dict[int, int] = field(default_factory=dict)
    rating_counts: dict[int, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "invited": self.invited,
            "delivered": self.delivered,
            "responded": self.responded,
            "response_rate": None if self.response_rate is None else round(self.response_rate, 1),
            "nps": self.nps.as_dict()["value"],
            "csat": self.csat.as_dict()["value"],
            "index": self.index.as_dict()["value"],
            "margin_of_error": {
                "nps": self.nps.as_dict()["margin"],
                "csat": self.csat.as_dict()["margin"],
                "index": self.index.as_dict()["margin"],
            },
            "measures": {
                "nps": self.nps.as_dict(),
                "csat": self.csat.as_dict(),
                "index": self.index.as_dict(),
            },
            "indicators": [
                {
                    "key": s.key,
                    "weight": s.weight,
                    "mean": None if s.mean is None else round(s.mean, 2),
                    **s.score.as_dict(),
                }
                for s in self.indicators
            ],
            "skipped": self.skipped,
        }


def campaign_figures(campaign: Campaign) -> Figures:
    # everyone invited, and of them the delivered: an e-mail still queued or retrying, given up
    # on, or bounced back reached nobody, so it is out of the response rate's denominator
    invited, reached = db.session.execute(
        sa.select(sa.func.count(), sa.func.count(sa.case((delivered(), 1))))
        .select_from(Invitation)
        .where(Invitation.campaign_id == campaign.id, Invitation.sent_at.is_not(None))
    ).one()
    responded = db.session.scalar(
        sa.select(sa.func.count()).select_from(Response).where(Response.campaign_id == campaign.id)
    )
    skipped = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(CampaignSkip)
        .where(CampaignSkip.campaign_id == campaign.id)
    )
    # one scan of the (campaign, indicator, value) index: numeric answers without an
    # indicator are the NPS answers (ratings always have one; text and choices have no value)
    keys = {i.id: i.key for i in campaign.survey.indicators}
    by_indicator: dict[str, dict[int, int]] = {}
    nps_counts: dict[int, int] = {}
    rating_counts: dict[int, int] = {}
    rows = db.session.execute(
        sa.select(Answer.indicator_id, Answer.value, sa.func.count())
        .where(Answer.campaign_id == campaign.id, Answer.value.is_not(None))
        .group_by(Answer.indicator_id, Answer.value)
    )
    for indicator_id, value, n in rows:
        if value is None:
            continue
        if indicator_id is None:
            nps_counts[int(value)] = nps_counts.get(int(value), 0) + int(n)
            continue
        per = by_indicator.setdefault(keys.get(indicator_id, str(indicator_id)), {})
        per[int(value)] = per.get(int(value), 0) + int(n)
        rating_counts[int(value)] = rating_counts.get(int(value), 0) + int(n)
    index, indicators = scoring.satisfaction_index(campaign.survey.weights(), by_indicator)
    return Figures(
        invited=int(invited or 0),
        delivered=int(reached or 0),
        responded=int(responded or 0),
        response_rate=scoring.response_rate(int(responded or 0), int(reached or 0)),
        nps=scoring.nps(nps_counts),
        csat=scoring.csat(rating_counts),
        index=index,
        indicators=indicators,
        skipped=int(skipped or 0),
        nps_counts=nps_counts,
        rating_counts=rating_counts,
    )


def skipped_contacts(campaign_id: int, limit: int = 200) -> list[CampaignSkip]:
    return list(
        db.session.scalars(
            sa.select(CampaignSkip)
            .where(CampaignSkip.campaign_id == campaign_id)
            .order_by(CampaignSkip.id.desc())
            .limit(limit)
        )
    )


def recent_comments(campaign_id: int, limit: int = 20) -> list[str]:
    """The latest free-text answers (shown escaped)."""
    return list(
        db.session.scalars(
            sa.select(Answer.text)
            .where(
                Answer.campaign_id == campaign_id,
                Answer.question_type == "text",
                Answer.text.is_not(None),
                Answer.text != "",
            )
            .order_by(Answer.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class Progress:
    """Where a campaign's invitations are: invited; delivered (app.surveys.models.delivered:
    an e-mail was handed to the mail server and did not bounce back, or the contact answered);
    of the others, failed (the outbox gave up on the invitation's e-mail), pending (it is queued
    or retrying) and bounced (a late bounce, not answered); opened, answered, and the reminders
    sent. Delivered, failed, pending and bounced add up to invited."""

    invited: int
    delivered: int
    failed: int
    pending: int
    opened: int
    answered: int
    reminders: int
    bounced: int = 0


def _message_key(invitation_id: Any, number: int) -> Any:
    return sa.literal("invitation:") + sa.cast(invitation_id, sa.String) + f":{number}"


def progress(campaign_id: int) -> Progress:
    return progress_of([campaign_id])[campaign_id]


def progress_of(campaign_ids: list[int]) -> dict[int, Progress]:
    """One pass over the campaigns' invitations, each joined to its first e-mail by its
    idempotency key (unique index); every id gets a Progress, zero when nothing was sent."""
    sent_status = OutboxMessage.status
    reached = delivered()
    bounced = sa.and_(Invitation.bounced_at.is_not(None), Invitation.responded_at.is_(None))
    # not delivered yet: a reminder that got through delivers an invitation whose first
    # e-mail failed, so the kinds never overlap
    waiting = sa.and_(sa.not_(reached), sa.not_(bounced))
    rows = db.session.execute(
        sa.select(
            Invitation.campaign_id,
            sa.func.count(Invitation.id),
            sa.func.count(sa.case((reached, 1))),
            sa.func.count(sa.case((sa.and_(waiting, sent_status == "failed"), 1))),
            sa.func.count(
                sa.case(
                    (sa.and_(waiting, sa.or_(sent_status.is_(None), sent_status != "failed")), 1)
                )
            ),
            sa.func.count(Invitation.opened_at),
            sa.func.count(Invitation.responded_at),
            sa.func.coalesce(sa.func.sum(Invitation.reminders_sent), 0),
            sa.func.count(sa.case((bounced, 1))),
        )
        .outerjoin(OutboxMessage, OutboxMessage.idempotency_key == _message_key(Invitation.id, 0))
        .where(Invitation.campaign_id.in_(campaign_ids), Invitation.sent_at.is_not(None))
        .group_by(Invitation.campaign_id)
    ).all()
    out = {campaign_id: Progress(0, 0, 0, 0, 0, 0, 0, 0) for campaign_id in campaign_ids}
    for campaign_id, *values in rows:
        out[int(campaign_id or 0)] = Progress(*(int(v or 0) for v in values))
    return out


@dataclass(frozen=True)
class FailedMail:
    contact_name: str
    recipient: str
    reminder: int  # 0: the invitation itself
    attempts: int
    error: str


def failed_mails(campaign_id: int, limit: int = 50) -> list[FailedMail]:
    """Invitation and reminder e-mails of the campaign the outbox gave up on, per invitation."""
    keys = [_message_key(Invitation.id, n) for n in range(3)]
    rows = db.session.execute(
        sa.select(Contact.name, OutboxMessage)
        .select_from(Invitation)
        .join(Contact, Contact.id == Invitation.contact_id)
        .join(OutboxMessage, sa.or_(*(OutboxMessage.idempotency_key == k for k in keys)))
        .where(Invitation.campaign_id == campaign_id, OutboxMessage.status == "failed")
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    ).all()
    return [
        FailedMail(
            contact_name=name,
            recipient=message.recipient,
            reminder=int(message.idempotency_key.rsplit(":", 1)[-1]),
            attempts=message.attempts,
            error=(message.last_error or "")[:300],
        )
        for name, message in rows
    ]


@dataclass(frozen=True)
class CustomerResponse:
    response_id: int
    submitted_at: Any
    contact_name: str
    campaign_name: str | None
    purpose: str
    nps: int | None
    rating_mean: float | None
    ratings: int
    issue_id: int | None
    issue_number: str | None


def customer_responses(customer_id: int, scope: Any, limit: int = 10) -> list[CustomerResponse]:
    """The customer's latest survey answers (newest first, at most `limit`), with the NPS given,
    the mean of the ratings, and the issue a dissatisfied answer raised; within `scope`."""
    nps = sa.func.max(sa.case((Answer.question_type == "nps", Answer.value)))
    is_rating = Answer.question_type == "rating5"
    mean = sa.func.avg(sa.case((is_rating, Answer.value)))
    ratings = sa.func.count(sa.case((is_rating, Answer.value)))
    latest = (
        sa.select(Response.id)
        .join(Contact, Contact.id == Response.contact_id)
        .where(Contact.customer_id == customer_id, scope.office_filter(Response.office_id))
        .order_by(Response.submitted_at.desc(), Response.id.desc())
        .limit(limit)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(
            Response.id,
            Response.submitted_at,
            Contact.name,
            Campaign.name,
            Invitation.purpose,
            nps,
            mean,
            ratings,
            Issue.id,
            Issue.number,
        )
        .join(latest, latest.c.id == Response.id)
        .join(Contact, Contact.id == Response.contact_id)
        .join(Invitation, Invitation.id == Response.invitation_id)
        .outerjoin(Campaign, Campaign.id == Response.campaign_id)
        .outerjoin(Issue, Issue.id == Response.issue_id)
        .outerjoin(Answer, Answer.response_id == Response.id)
        .group_by(
            Response.id,
            Response.submitted_at,
            Contact.name,
            Campaign.name,
            Invitation.purpose,
            Issue.id,
            Issue.number,
        )
        .order_by(Response.submitted_at.desc(), Response.id.desc())
    ).all()
    return [
        CustomerResponse(
            response_id=r[0],
            submitted_at=r[1],
            contact_name=r[2],
            campaign_name=r[3],
            purpose=r[4],
            nps=None if r[5] is None else int(r[5]),
            rating_mean=None if r[6] is None else float(r[6]),
            ratings=int(r[7] or 0),
            issue_id=r[8],
            issue_number=r[9],
        )
        for r in rows
    ]
