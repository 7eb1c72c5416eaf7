"""A campaign's figures, aggregated in SQL: invited, responded, response rate, NPS, CSAT and the
weighted satisfaction index, each with its sample size and 95 % margin (app.surveys.scoring)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.surveys import scoring
from app.surveys.models import Answer, Campaign, CampaignSkip, Invitation, Response


@dataclass
class Figures:
    invited: int
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
    invited = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Invitation)
        .where(Invitation.campaign_id == campaign.id, Invitation.sent_at.is_not(None))
    )
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
        responded=int(responded or 0),
        response_rate=scoring.response_rate(int(responded or 0), int(invited or 0)),
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
