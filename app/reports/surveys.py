"""The survey sections of the monthly quality review, from app.surveys.measurement:

- per transactional questionnaire (project surveys, every version and campaign): satisfaction
  index, NPS and CSAT with n and margins, and each indicator's score, against the previous month
  and the same month last year, with the 12-month trend;
- the latest third-party wave up to the month's end: our score against each competitor,
  indicator by indicator, and ours in the wave before (relationship / benchmark results, kept
  apart from the transactional ones).

A month without answers gives empty estimates (value None, n 0), never an error.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.reports.dto import (
    CompetitorRow,
    Estimate,
    SurveyFigure,
    SurveyMonth,
    SurveySection,
    ThirdPartySection,
)
from app.reports.periods import Month, ReportScope
from app.surveys import measurement, segments
from app.surveys.models import Campaign
from app.surveys.segments import Measures

TREND_MONTHS = 12
HEADLINE = (("index", "满意度指数", "Satisfaction index"), ("nps", "NPS", "NPS"))
CSAT_NAMES = ("CSAT（4–5 分占比）", "CSAT (ratings 4–5)")


def _by_key(m: Measures) -> dict[str, Estimate]:
    out = {
        "index": Estimate.of(m.index),
        "nps": Estimate.of(m.nps),
        "csat": Estimate.of(m.csat),
    }
    for s in m.indicators:
        out[f"indicator:{s.key}"] = Estimate.of(s.score)
    return out


def survey_sections(scope: ReportScope, month: Month) -> list[SurveySection]:
    sections = []
    first = month.shift(-(TREND_MONTHS - 1))
    periods = [measurement.month_period(first.shift(i).first) for i in range(TREND_MONTHS)]
    last_year = [measurement.month_period(month.shift(-12).first)]
    for family_id, _title in measurement.surveys_of("project"):
        fam = measurement.family("project", family_id)
        if fam is None:
            continue
        trend_counts = measurement.period_counts(fam, scope, periods)
        ly_responses, ly_counts = measurement.period_counts(fam, scope, last_year)[0]
        measured = [segments.measure(c, fam.weights) for _n, c in trend_counts]
        if not any(n for n, _c in trend_counts) and not ly_responses:
            continue  # a questionnaire nobody in this scope answered within the year
        now_, before = _by_key(measured[-1]), _by_key(measured[-2])
        then = _by_key(segments.measure(ly_counts, fam.weights))
        names = [(k, zh, en) for k, zh, en in HEADLINE]
        names.append(("csat", *CSAT_NAMES))
        names += [(f"indicator:{k}", *fam.names.get(k, (k, k))) for k in fam.weights]
        figures = [
            SurveyFigure(
                key,
                zh,
                en,
                now_.get(key, Estimate()),
                before.get(key, Estimate()),
                then.get(key, Estimate()),
            )
            for key, zh, en in names
        ]
        trend = [
            SurveyMonth(
                p.key,
                n,
                Estimate.of(m.index),
                Estimate.of(m.nps),
                Estimate.of(m.csat),
                {s.key: Estimate.of(s.score) for s in m.indicators},
            )
            for p, (n, _c), m in zip(periods, trend_counts, measured, strict=True)
        ]
        sections.append(
            SurveySection(fam.id, fam.title, "transactional", trend_counts[-1][0], figures, trend)
        )
    return sections


def _waves(survey_ids: tuple[int, ...], scope: ReportScope, before: datetime) -> list[Campaign]:
    dated = sa.func.coalesce(Campaign.send_at, Campaign.created_at)
    return list(
        db.session.scalars(
            sa.select(Campaign)
            .where(
                Campaign.survey_id.in_(survey_ids),
                dated < before,
                sa.or_(Campaign.office_id.is_(None), scope.office_filter(Campaign.office_id)),
            )
            .order_by(dated.desc(), Campaign.id.desc())
            .limit(2)
        )
    )


def third_party_sections(scope: ReportScope, month: Month) -> list[ThirdPartySection]:
    sections = []
    end = month.end(scope.timezone)
    for family_id, _title in measurement.surveys_of("third_party"):
        fam = measurement.family("third_party", family_id)
        if fam is None:
            continue
        waves = _waves(fam.survey_ids, scope, end)
        if not waves:
            continue
        latest = waves[0]
        companies = segments.companies(latest)  # "" = our customers
        ours = _by_key(companies.get("", segments.measure(segments.Counts(), fam.weights)))
        previous = (
            _by_key(segments.companies(waves[1]).get("", segments.measure(segments.Counts(), {})))
            if len(waves) > 1
            else {}
        )
        competitors = sorted(name for name in companies if name)
        theirs = {name: _by_key(companies[name]) for name in competitors}
        keys = [("index", *HEADLINE[0][1:])]
        keys += [(f"indicator:{k}", *fam.names.get(k, (k, k))) for k in fam.weights]
        rows = [
            CompetitorRow(
                key,
                zh,
                en,
                ours.get(key, Estimate()),
                previous.get(key, Estimate()),
                {name: theirs[name].get(key, Estimate()) for name in competitors},
            )
            for key, zh, en in keys
        ]
        at = latest.send_at or latest.created_at
        sections.append(
            ThirdPartySection(
                fam.id,
                fam.title,
                latest.name,
                at.date().isoformat(),
                waves[1].name if len(waves) > 1 else None,
                competitors,
                rows,
            )
        )
    return sections
