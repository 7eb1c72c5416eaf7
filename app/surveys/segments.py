"""Results by segment and over time, aggregated in SQL, every figure with its n and margin:

- by office and by region within one campaign (the respondent's office), inside the viewer's
  scope;
- by wave: each campaign of the same survey family, oldest first. A family is one kind of
  survey, so transactional results (project and issue-rating surveys) and relationship or
  benchmark results (third-party waves) are never merged into one score;
- third-party: each company measured (ours and competitors), indicator by indicator.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from app.core.scoping import Scope
from app.extensions import db
from app.org.models import Office, Region
from app.surveys import scoring
from app.surveys.models import (
    Answer,
    Campaign,
    Indicator,
    Invitation,
    Response,
    Survey,
    ThirdPartyAnswer,
    delivered,
)

TREND_WAVES = 12


@dataclass
class Counts:
    """Answer counts of one segment: NPS values, rating values, rating values per indicator."""

    nps: dict[int, int] = field(default_factory=dict)
    ratings: dict[int, int] = field(default_factory=dict)
    by_indicator: dict[str, dict[int, int]] = field(default_factory=dict)

    def add(self, indicator: str | None, question_type: str, value: int, n: int) -> None:
        if question_type == "nps":
            self.nps[value] = self.nps.get(value, 0) + n
        elif question_type == "rating5":
            self.ratings[value] = self.ratings.get(value, 0) + n
            if indicator is not None:
                per = self.by_indicator.setdefault(indicator, {})
                per[value] = per.get(value, 0) + n

    def merge(self, other: Counts) -> None:
        for value, n in other.nps.items():
            self.add(None, "nps", value, n)
        for key, per in other.by_indicator.items():
            for value, n in per.items():
                self.add(key, "rating5", value, n)
        # ratings without an indicator cannot exist (a rating5 always has one)


@dataclass(frozen=True)
class Measures:
    nps: scoring.Estimate
    csat: scoring.Estimate
    index: scoring.Estimate
    indicators: list[scoring.IndicatorScore]


def measure(counts: Counts, weights: Mapping[str, float]) -> Measures:
    index, indicators = scoring.satisfaction_index(weights, counts.by_indicator)
    return Measures(scoring.nps(counts.nps), scoring.csat(counts.ratings), index, indicators)


@dataclass(frozen=True)
class Segment:
    kind: str  # "region" | "office"
    code: str
    name: str
    invited: int
    delivered: int  # the response rate's denominator
    responded: int
    response_rate: float | None
    measures: Measures


def _indicator_keys(survey: Survey) -> dict[int, str]:
    return {i.id: i.key for i in survey.indicators}


def _kind(indicator_id: int | None) -> str:
    # numeric answers without an indicator are the NPS answers (a rating always has one)
    return "nps" if indicator_id is None else "rating5"


def by_office_and_region(campaign: Campaign, scope: Scope) -> list[Segment]:
    """Regions, each followed by its offices, for the offices in `scope` that were invited."""
    keys = _indicator_keys(campaign.survey)
    counts: dict[int, Counts] = {}
    rows = db.session.execute(
        sa.select(Response.office_id, Answer.indicator_id, Answer.value, sa.func.count())
        .join(Response, Response.id == Answer.response_id)
        .where(
            Answer.campaign_id == campaign.id,
            Answer.value.is_not(None),
            scope.office_filter(Response.office_id),
        )
        .group_by(Response.office_id, Answer.indicator_id, Answer.value)
    )
    for office_id, indicator_id, value, n in rows:
        if value is None:
            continue
        counts.setdefault(office_id, Counts()).add(
            keys.get(indicator_id) if indicator_id else None, _kind(indicator_id), int(value), n
        )
    invited: dict[int, int] = {}
    reached: dict[int, int] = {}
    for office_id, n, n_delivered in db.session.execute(
        sa.select(Invitation.office_id, sa.func.count(), sa.func.count(sa.case((delivered(), 1))))
        .where(Invitation.campaign_id == campaign.id, Invitation.sent_at.is_not(None))
        .where(scope.office_filter(Invitation.office_id))
        .group_by(Invitation.office_id)
    ):
        invited[office_id], reached[office_id] = int(n), int(n_delivered)
    responded = dict(
        db.session.execute(  # type: ignore[arg-type]
            sa.select(Response.office_id, sa.func.count())
            .where(Response.campaign_id == campaign.id, scope.office_filter(Response.office_id))
            .group_by(Response.office_id)
        ).all()
    )
    office_ids = set(invited) | set(responded)
    if not office_ids:
        return []
    offices = db.session.execute(
        sa.select(Office, Region)
        .join(Region, Region.id == Office.region_id)
        .where(Office.id.in_(office_ids))
        .order_by(Region.code, Office.code)
    ).all()
    weights = campaign.survey.weights()
    out: list[Segment] = []
    by_region: dict[int, list[Office]] = {}
    regions: dict[int, Region] = {}
    for office, region in offices:
        by_region.setdefault(region.id, []).append(office)
        regions[region.id] = region
    for region_id, members in by_region.items():
        region = regions[region_id]
        total = Counts()
        for office in members:
            total.merge(counts.get(office.id, Counts()))
        inv = sum(invited.get(o.id, 0) for o in members)
        got = sum(reached.get(o.id, 0) for o in members)
        resp = sum(int(responded.get(o.id, 0)) for o in members)
        out.append(
            Segment(
                "region",
                region.code,
                region.name,
                inv,
                got,
                resp,
                scoring.response_rate(resp, got),
                measure(total, weights),
            )
        )
        for office in members:
            inv, got = invited.get(office.id, 0), reached.get(office.id, 0)
            resp = int(responded.get(office.id, 0))
            out.append(
                Segment(
                    "office",
                    office.code,
                    office.name,
                    inv,
                    got,
                    resp,
                    scoring.response_rate(resp, got),
                    measure(counts.get(office.id, Counts()), weights),
                )
            )
    return out


@dataclass(frozen=True)
class Wave:
    campaign_id: int
    name: str
    at: datetime | None
    version: int
    measures: Measures


def trend(campaign: Campaign, limit: int = TREND_WAVES) -> list[Wave]:
    """The campaigns of this survey's family (every version; same kind), oldest first, the
    latest `limit` of them, each measured on its own answers."""
    survey = campaign.survey
    family = survey.family_id or survey.id
    # the same place only: an office's waves, or the company-wide ones
    same_office = (
        Campaign.office_id.is_(None)
        if campaign.office_id is None
        else Campaign.office_id == campaign.office_id
    )
    waves = list(
        db.session.execute(
            sa.select(Campaign, Survey.version)
            .join(Survey, Survey.id == Campaign.survey_id)
            .where(
                sa.or_(Survey.family_id == family, Survey.id == family),
                Survey.kind == survey.kind,
                same_office,
            )
            .order_by(sa.func.coalesce(Campaign.send_at, Campaign.created_at).desc(), Campaign.id)
            .limit(limit)
        ).all()
    )
    waves.reverse()
    ids = [c.id for c, _v in waves]
    if survey.kind == "third_party":
        return [
            Wave(c.id, c.name, c.send_at or c.created_at, v, _third_party_ours(c)) for c, v in waves
        ]
    counts: dict[int, Counts] = {i: Counts() for i in ids}
    names = dict(
        db.session.execute(  # type: ignore[arg-type]
            sa.select(Indicator.id, Indicator.key)
            .join(Survey, Survey.id == Indicator.survey_id)
            .where(sa.or_(Survey.family_id == family, Survey.id == family))
        ).all()
    )
    rows = db.session.execute(
        sa.select(Answer.campaign_id, Answer.indicator_id, Answer.value, sa.func.count())
        .where(Answer.campaign_id.in_(ids), Answer.value.is_not(None))
        .group_by(Answer.campaign_id, Answer.indicator_id, Answer.value)
    )
    for campaign_id, indicator_id, value, n in rows:
        if value is None or campaign_id is None:
            continue
        counts[campaign_id].add(
            names.get(indicator_id) if indicator_id else None, _kind(indicator_id), int(value), n
        )
    return [
        Wave(c.id, c.name, c.send_at or c.created_at, v, measure(counts[c.id], c.survey.weights()))
        for c, v in waves
    ]


def _company_counts(campaign_id: int) -> dict[str, Counts]:
    counts: dict[str, Counts] = {}
    rows = db.session.execute(
        sa.select(
            ThirdPartyAnswer.company,
            ThirdPartyAnswer.question_type,
            Indicator.key,
            ThirdPartyAnswer.value,
            sa.func.count(),
        )
        .outerjoin(Indicator, Indicator.id == ThirdPartyAnswer.indicator_id)
        .where(ThirdPartyAnswer.campaign_id == campaign_id, ThirdPartyAnswer.value.is_not(None))
        .group_by(
            ThirdPartyAnswer.company,
            ThirdPartyAnswer.question_type,
            Indicator.key,
            ThirdPartyAnswer.value,
        )
    )
    for company, qtype, key, value, n in rows:
        if value is None:
            continue
        counts.setdefault(company or "", Counts()).add(key, qtype, int(value), n)
    return counts


def _third_party_ours(campaign: Campaign) -> Measures:
    return measure(_company_counts(campaign.id).get("", Counts()), campaign.survey.weights())


def companies(campaign: Campaign) -> dict[str, Measures]:
    """Each company a third-party wave measured ("" for our customers), indicator by indicator."""
    weights = campaign.survey.weights()
    return {name: measure(c, weights) for name, c in sorted(_company_counts(campaign.id).items())}


def indicator_names(surveys: Iterable[Indicator], locale: str) -> dict[str, str]:
    return {i.key: (i.name_en if locale == "en" else i.name_zh) or i.key for i in surveys}


def as_dict(m: Measures) -> dict[str, Any]:
    return {
        "nps": m.nps.as_dict(),
        "csat": m.csat.as_dict(),
        "index": m.index.as_dict(),
        "indicators": {s.key: s.score.as_dict() for s in m.indicators},
    }
