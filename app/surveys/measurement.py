"""Survey measurement across campaigns: by calendar period (month, quarter, year or a date range)
and by segment (company, region, office, customer tier, project), inside a report scope.

Counts are aggregated in SQL (GROUP BY in the database; periods are index ranges glued with
UNION ALL by app.core.buckets, the same SQL on SQLite and PostgreSQL); NPS, CSAT and the
weighted index are computed from the counts in Python (app.surveys.scoring), each with its n
and 95 % margin. Denominators count answered questions only.

Three survey types, never merged into one score:
- `project`: the answers to one project-survey questionnaire (every version, every campaign) —
  transactional;
- `issue_rating`: the 1–5 ratings given when issues close (CSAT only) — transactional;
- `third_party`: outside agencies' waves of one questionnaire, our customers and each competitor
  — relationship / benchmark. A wave is dated by its campaign (sent or created).

Our own (transactional) surveys also show their reach: the invitations sent in the period (the
questionnaire's, or the issue-rating links), how many were delivered and how many answered, and
the response rate = responded / delivered (app.surveys.models.delivered). They are counted by
when they were sent, so each period's rate is of its own invitations whenever the answer came.
Third-party waves are imported: nobody was invited, so they have no reach.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from app.contacts.models import Milestone, Project
from app.core.buckets import ZonedEdges, by_bucket
from app.core.errors import NotFound, ValidationFailed
from app.customers.models import Customer
from app.extensions import db
from app.issues.models import Issue
from app.org.models import Office
from app.reports.periods import ReportScope, _midnight
from app.surveys import scoring
from app.surveys.models import (
    Answer,
    Campaign,
    Invitation,
    Response,
    Survey,
    ThirdPartyAnswer,
    delivered,
)
from app.surveys.scoring import Estimate
from app.surveys.segments import Counts, Measures, measure

TYPES = ("project", "issue_rating", "third_party")
FAMILY = {
    "project": "transactional",
    "issue_rating": "transactional",
    "third_party": "relationship",
}
SEGMENTS = ("company", "region", "office", "tier", "project")
THIRD_PARTY_SEGMENTS = ("company", "competitor")
PERIOD_KINDS = ("month", "quarter", "year", "range")
TREND = {"month": 12, "quarter": 8, "year": 3}
MAX_RANGE_DAYS = 3 * 366
NONE_KEY = "none"


# --- periods -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A calendar period [first, end) in local days; `key` names it ("2026-11", "2026-Q4",
    "2026", "2026-01-05..2026-02-20")."""

    kind: str
    key: str
    first: date
    end: date  # exclusive

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def shift(self, n: int) -> Period:
        if self.kind == "month":
            return _month(_add_months(self.first, n))
        if self.kind == "quarter":
            return _quarter(_add_months(self.first, 3 * n))
        if self.kind == "year":
            return _year(self.first.year + n)
        length = self.end - self.first
        first = self.first + n * length
        return _range(first, first + length)

    def trend(self) -> list[Period]:
        """The periods of the trend chart, oldest first, ending with this one: the last 12
        months, 8 quarters or 3 years; for a range, its months (the range's own edges kept)."""
        if self.kind != "range":
            count = TREND[self.kind]
            return [self.shift(i - count + 1) for i in range(count)]
        out: list[Period] = []
        start = self.first
        while start < self.end:
            next_month = _add_months(start.replace(day=1), 1)
            stop = min(next_month, self.end)
            out.append(Period("range", _month_key(start), start, stop))
            start = stop
        return out

    def as_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "key": self.key,
            "from": self.first.isoformat(),
            "to": self.last_day.isoformat(),
        }


def _add_months(day: date, n: int) -> date:
    index = day.year * 12 + day.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def _month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _month(first: date) -> Period:
    return Period("month", _month_key(first), first, _add_months(first, 1))


def _quarter(first: date) -> Period:
    q = (first.month - 1) // 3
    start = date(first.year, 3 * q + 1, 1)
    return Period("quarter", f"{start.year:04d}-Q{q + 1}", start, _add_months(start, 3))


def _year(year: int) -> Period:
    return Period("year", f"{year:04d}", date(year, 1, 1), date(year + 1, 1, 1))


def _range(first: date, end: date) -> Period:
    return Period(
        "range", f"{first.isoformat()}..{(end - timedelta(days=1)).isoformat()}", first, end
    )


def parse_period(
    period: str | None, date_from: str | None = None, date_to: str | None = None, *, today: date
) -> Period:
    """`period` "2026-11", "2026-Q4" or "2026"; or `from` and `to` (ISO dates, inclusive).
    Nothing given: the current month. Malformed → 422."""
    if date_from or date_to:
        try:
            first = date.fromisoformat((date_from or "").strip())
            last = date.fromisoformat((date_to or "").strip())
        except ValueError:
            raise ValidationFailed(
                "Not a date range.", fields={"from": "two dates such as 2026-01-05 and 2026-02-20"}
            ) from None
        if last < first or (last - first).days > MAX_RANGE_DAYS:
            raise ValidationFailed(
                "Not a date range.", fields={"to": "on or after `from`, at most three years on"}
            )
        return _range(first, last + timedelta(days=1))
    text = (period or "").strip().upper()
    if not text:
        return _month(today.replace(day=1))
    try:
        if len(text) == 4 and text.isdigit():
            return _year(int(text))
        if len(text) == 7 and text[4:6] == "-Q" and text[6] in "1234":
            return _quarter(date(int(text[:4]), 3 * (int(text[6]) - 1) + 1, 1))
        if len(text) == 7 and text[4] == "-":
            return _month(date(int(text[:4]), int(text[5:]), 1))
    except ValueError:
        pass
    raise ValidationFailed(
        "Not a period.",
        fields={"period": "a month (2026-11), a quarter (2026-Q4) or a year (2026)"},
    )


def _edges(scope: ReportScope, periods: Sequence[Period]) -> ZonedEdges:
    """Contiguous periods → edges at local midnight in each office's time zone."""
    days = [periods[0].first] + [p.end for p in periods]
    return scope.edges(lambda tz: [_midnight(d, tz) for d in days])


# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    """Invitations sent in a period or segment and what became of them."""

    invited: int = 0
    delivered: int = 0  # the response rate's denominator
    responded: int = 0

    @property
    def response_rate(self) -> float | None:
        return scoring.response_rate(self.responded, self.delivered)

    def as_dict(self) -> dict[str, Any]:
        rate = self.response_rate
        return {
            "invited": self.invited,
            "delivered": self.delivered,
            "responded": self.responded,
            "response_rate": None if rate is None else round(rate, 1),
        }


@dataclass
class Row:
    """One segment or one period with its measures and how many responses (or ratings) it
    rests on; for our own surveys, also the reach of the invitations sent in it (None for
    third-party waves)."""

    key: str
    name: str
    responses: int
    measures: Measures
    reach: Reach | None = None


@dataclass
class Measurement:
    type: str
    family: str  # transactional | relationship
    survey_id: int | None  # the questionnaire's family id (version 1)
    survey_title: str
    period: Period
    segment: str
    weights: dict[str, float]
    indicator_names: dict[str, tuple[str, str]]  # key → (zh, en)
    total: Row
    segments: list[Row] = field(default_factory=list)
    trend: list[Row] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "family": self.family,
            "survey_id": self.survey_id,
            "survey_title": self.survey_title,
            "period": self.period.as_dict(),
            "segment": self.segment,
            "denominators": "answered questions only",
            "indicators": [
                {
                    "key": k,
                    "weight": w,
                    "name_zh": self.indicator_names.get(k, (k, k))[0],
                    "name_en": self.indicator_names.get(k, (k, k))[1],
                }
                for k, w in self.weights.items()
            ],
            "total": row_dict(self.total),
            "segments": [row_dict(r) for r in self.segments],
            "trend": [row_dict(r) for r in self.trend],
        }


def row_dict(row: Row) -> dict[str, Any]:
    m = row.measures
    return {
        "key": row.key,
        "name": row.name,
        "responses": row.responses,
        # invited, delivered, responded, response_rate: own surveys only
        **(row.reach.as_dict() if row.reach is not None else {}),
        "nps": m.nps.as_dict(),
        "csat": m.csat.as_dict(),
        "index": m.index.as_dict(),
        "indicators": {s.key: s.score.as_dict() for s in m.indicators},
    }


# --- the questionnaire -------------------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    id: int
    title: str
    kind: str
    survey_ids: tuple[int, ...]
    weights: dict[str, float]
    indicator_keys: dict[int, str]  # indicator id (any version) → key
    names: dict[str, tuple[str, str]]


def family(kind: str, survey_id: int | None) -> Family | None:
    """Every version of the questionnaire `survey_id` belongs to (of `kind`); without an id, the
    most recently created one of that kind that is in use. None when there is none."""
    if survey_id is not None:
        found = db.session.get(Survey, survey_id)
        if found is None or found.kind != kind:
            raise NotFound()
        family_id = found.family_id or found.id
    else:
        latest_id = db.session.scalar(
            sa.select(sa.func.coalesce(Survey.family_id, Survey.id))
            .where(Survey.kind == kind, Survey.status != "draft")
            .order_by(Survey.id.desc())
            .limit(1)
        )
        if latest_id is None:
            return None
        family_id = int(latest_id)
    versions = list(
        db.session.scalars(
            sa.select(Survey)
            .where(sa.or_(Survey.id == family_id, Survey.family_id == family_id))
            .order_by(Survey.version)
        )
    )
    latest = next((s for s in reversed(versions) if s.status != "draft"), versions[-1])
    keys: dict[int, str] = {}
    names: dict[str, tuple[str, str]] = {}
    for version in versions:
        for indicator in version.indicators:
            keys[indicator.id] = indicator.key
            names[indicator.key] = (indicator.name_zh, indicator.name_en)
    return Family(
        family_id,
        latest.title,
        kind,
        tuple(s.id for s in versions),
        latest.weights(),
        keys,
        names,
    )


# --- segment columns ---------------------------------------------------------------------------


def _project_column(family_: Family, campaign: Any = Response.campaign_id) -> Any:
    """The project a response (or with `campaign` Invitation.campaign_id, an invitation) is
    about: the milestone's (milestone-triggered invitations), else the project a campaign's
    audience names."""
    by_campaign: dict[int, int] = {}
    rows = db.session.execute(
        sa.select(Campaign.id, Campaign.audience).where(Campaign.survey_id.in_(family_.survey_ids))
    )
    for campaign_id, audience in rows:
        project = (audience or {}).get("project")
        if isinstance(project, int) or (isinstance(project, str) and project.isdigit()):
            by_campaign[campaign_id] = int(project)
    if not by_campaign:
        return Milestone.project_id
    return sa.func.coalesce(
        Milestone.project_id, sa.case(by_campaign, value=campaign, else_=sa.null())
    )


def _segment_key(segment: str, family_: Family, office: Any) -> Any:
    if segment == "company":
        return sa.literal("all")
    if segment == "region":
        return Office.region_id
    if segment == "office":
        return office
    if segment == "tier":
        return Customer.tier
    return _project_column(family_)


def _names(segment: str, keys: set[Any], scope: ReportScope) -> dict[Any, str]:
    if segment == "company":
        return {"all": scope.name or "company"}
    if segment == "region":
        return {o.region_id: o.region_name for o in scope.offices}
    if segment == "office":
        return {o.id: o.name for o in scope.offices}
    if segment == "tier":
        return {k: str(k) for k in keys}
    ids = [k for k in keys if k is not None]
    return dict(
        db.session.execute(sa.select(Project.id, Project.name).where(Project.id.in_(ids))).all()
    )  # type: ignore[arg-type]


def _codes(segment: str, scope: ReportScope) -> dict[Any, str]:
    if segment == "region":
        return {o.region_id: o.region_code for o in scope.offices}
    if segment == "office":
        return {o.id: o.code for o in scope.offices}
    return {}


# --- counting ----------------------------------------------------------------------------------


def _answers_select(
    family_: Family, scope: ReportScope, key: Any, segment: str
) -> Callable[[Any], Any]:
    def build(b: Any) -> Any:
        stmt = (
            sa.select(
                key.label("k"),
                b.label("b"),
                Answer.indicator_id,
                Answer.question_type,
                Answer.value,
                sa.func.count(),
            )
            .select_from(Response)
            .join(Answer, Answer.response_id == Response.id)
            .where(
                Response.survey_id.in_(family_.survey_ids),
                scope.office_filter(Response.office_id),
                Answer.value.is_not(None),
            )
            .group_by(key, Answer.indicator_id, Answer.question_type, Answer.value)
        )
        return _joins(stmt, segment)

    return build


def _responses_select(
    family_: Family, scope: ReportScope, key: Any, segment: str
) -> Callable[[Any], Any]:
    def build(b: Any) -> Any:
        stmt = (
            sa.select(key.label("k"), b.label("b"), sa.func.count())
            .select_from(Response)
            .where(
                Response.survey_id.in_(family_.survey_ids), scope.office_filter(Response.office_id)
            )
            .group_by(key)
        )
        return _joins(stmt, segment)

    return build


def _joins(stmt: Any, segment: str) -> Any:
    if segment == "region":
        stmt = stmt.join(Office, Office.id == Response.office_id)
    elif segment == "tier":
        from app.contacts.models import Contact

        stmt = stmt.join(Contact, Contact.id == Response.contact_id).join(
            Customer, Customer.id == Contact.customer_id
        )
    elif segment == "project":
        stmt = stmt.join(Invitation, Invitation.id == Response.invitation_id).outerjoin(
            Milestone,
            Invitation.wave == sa.literal("milestone:") + sa.cast(Milestone.id, sa.String),
        )
    return stmt


def _project_counts(
    family_: Family, scope: ReportScope, periods: Sequence[Period], segment: str
) -> tuple[dict[tuple[Any, int], Counts], dict[tuple[Any, int], int]]:
    edges = _edges(scope, periods)
    key = _segment_key(segment, family_, Response.office_id)
    counts: dict[tuple[Any, int], Counts] = {}
    rows = db.session.execute(
        by_bucket(
            _answers_select(family_, scope, key, segment),
            Response.submitted_at,
            edges,
            Response.office_id,
        )
    )
    for k, b, indicator_id, qtype, value, n in rows:
        counts.setdefault((k, int(b)), Counts()).add(
            family_.indicator_keys.get(indicator_id) if indicator_id else None,
            qtype,
            int(value),
            int(n),
        )
    responses: dict[tuple[Any, int], int] = {}
    rows = db.session.execute(
        by_bucket(
            _responses_select(family_, scope, key, segment),
            Response.submitted_at,
            edges,
            Response.office_id,
        )
    )
    for k, b, n in rows:
        responses[(k, int(b))] = responses.get((k, int(b)), 0) + int(n)
    return counts, responses


def _rating_counts(
    scope: ReportScope, periods: Sequence[Period], segment: str
) -> tuple[dict[tuple[Any, int], Counts], dict[tuple[Any, int], int]]:
    """Issue ratings (1–5) by when the issue closed: CSAT only."""
    if segment == "project":
        raise ValidationFailed(
            "Issue ratings are not about a project.",
            fields={"segment": "company, region, office or tier for issue ratings"},
        )
    edges = _edges(scope, periods)
    key = {
        "company": sa.literal("all"),
        "region": Office.region_id,
        "office": Issue.office_id,
        "tier": Customer.tier,
    }[segment]

    def build(b: Any) -> Any:
        stmt = (
            sa.select(key.label("k"), b.label("b"), Issue.rating, sa.func.count())
            .where(scope.office_filter(Issue.office_id), Issue.rating.is_not(None))
            .group_by(key, Issue.rating)
        )
        if segment == "region":
            stmt = stmt.join(Office, Office.id == Issue.office_id)
        elif segment == "tier":
            stmt = stmt.join(Customer, Customer.id == Issue.customer_id)
        return stmt

    counts: dict[tuple[Any, int], Counts] = {}
    responses: dict[tuple[Any, int], int] = {}
    for k, b, rating, n in db.session.execute(
        by_bucket(build, Issue.closed_at, edges, Issue.office_id)
    ):
        counts.setdefault((k, int(b)), Counts()).add(None, "rating5", int(rating), int(n))
        responses[(k, int(b))] = responses.get((k, int(b)), 0) + int(n)
    return counts, responses


def _third_party_counts(
    family_: Family, scope: ReportScope, periods: Sequence[Period], segment: str
) -> tuple[dict[tuple[Any, int], Counts], dict[tuple[Any, int], int]]:
    """Third-party waves dated by their campaign: our customers ("company") or every company
    measured ("competitor": "" for ours). Waves about an office count only inside the scope;
    company-wide waves count for every scope."""
    if segment not in THIRD_PARTY_SEGMENTS:
        raise ValidationFailed(
            "Third-party waves are measured for the company and its competitors.",
            fields={"segment": "company or competitor for third-party waves"},
        )
    edges = _edges(scope, periods)
    dated = sa.func.coalesce(Campaign.send_at, Campaign.created_at)
    company = sa.func.coalesce(ThirdPartyAnswer.company, "")
    key = sa.literal("all") if segment == "company" else company

    def build(b: Any) -> Any:
        stmt = (
            sa.select(
                key.label("k"),
                b.label("b"),
                ThirdPartyAnswer.indicator_id,
                ThirdPartyAnswer.question_type,
                ThirdPartyAnswer.value,
                sa.func.count(),
            )
            .join(Campaign, Campaign.id == ThirdPartyAnswer.campaign_id)
            .group_by(
                key,
                ThirdPartyAnswer.indicator_id,
                ThirdPartyAnswer.question_type,
                ThirdPartyAnswer.value,
            )
        )
        return _third_party_where(stmt, family_, scope, segment)

    def build_respondents(b: Any) -> Any:
        stmt = (
            sa.select(
                key.label("k"),
                b.label("b"),
                sa.func.count(
                    sa.distinct(
                        ThirdPartyAnswer.campaign_id.op("||")(":").op("||")(
                            ThirdPartyAnswer.row_key
                        )
                    )
                ),
            )
            .join(Campaign, Campaign.id == ThirdPartyAnswer.campaign_id)
            .group_by(key)
        )
        return _third_party_where(stmt, family_, scope, segment)

    counts: dict[tuple[Any, int], Counts] = {}
    for k, b, indicator_id, qtype, value, n in db.session.execute(
        by_bucket(build, dated, edges, Campaign.office_id)
    ):
        counts.setdefault((k, int(b)), Counts()).add(
            family_.indicator_keys.get(indicator_id) if indicator_id else None,
            qtype,
            int(value),
            int(n),
        )
    respondents = {
        (k, int(b)): int(n)
        for k, b, n in db.session.execute(
            by_bucket(build_respondents, dated, edges, Campaign.office_id)
        )
    }
    return counts, respondents


def _third_party_where(stmt: Any, family_: Family, scope: ReportScope, segment: str) -> Any:
    stmt = stmt.where(
        Campaign.survey_id.in_(family_.survey_ids),
        sa.or_(Campaign.office_id.is_(None), scope.office_filter(Campaign.office_id)),
        ThirdPartyAnswer.value.is_not(None),
    )
    if segment == "company":
        stmt = stmt.where(ThirdPartyAnswer.company.is_(None))
    return stmt


def _reach_key(segment: str, family_: Family | None) -> Any:
    if segment == "company":
        return sa.literal("all")
    if segment == "region":
        return Office.region_id
    if segment == "office":
        return Invitation.office_id
    if segment == "tier":
        return Customer.tier
    if family_ is None:
        return sa.null()
    return _project_column(family_, Invitation.campaign_id)


def _reach_joins(stmt: Any, segment: str) -> Any:
    if segment == "region":
        stmt = stmt.join(Office, Office.id == Invitation.office_id)
    elif segment == "tier":
        from app.contacts.models import Contact

        stmt = stmt.join(Contact, Contact.id == Invitation.contact_id).join(
            Customer, Customer.id == Contact.customer_id
        )
    elif segment == "project":
        stmt = stmt.outerjoin(
            Milestone,
            Invitation.wave == sa.literal("milestone:") + sa.cast(Milestone.id, sa.String),
        )
    return stmt


def _reach_counts(
    survey_type: str,
    family_: Family | None,
    scope: ReportScope,
    periods: Sequence[Period],
    segment: str,
) -> dict[tuple[Any, int], Reach]:
    """Invited, delivered and responded per (segment, period) of the invitations sent in each
    period: the questionnaire's (every version), or the issue-rating links (which carry no
    questionnaire, so both use the (survey_id, sent_at) index)."""
    if survey_type == "issue_rating":
        which = sa.and_(Invitation.purpose == "issue_rating", Invitation.survey_id.is_(None))
    elif family_ is not None:
        which = Invitation.survey_id.in_(family_.survey_ids)
    else:
        return {}
    edges = _edges(scope, periods)
    key = _reach_key(segment, family_)

    def build(b: Any) -> Any:
        stmt = (
            sa.select(
                key.label("k"),
                b.label("b"),
                sa.func.count(),
                sa.func.count(sa.case((delivered(), 1))),
                sa.func.count(Invitation.responded_at),
            )
            .select_from(Invitation)
            .where(which, scope.office_filter(Invitation.office_id))
            .group_by(key)
        )
        return _reach_joins(stmt, segment)

    return {
        (k, int(b)): Reach(int(n), int(got), int(answered))
        for k, b, n, got, answered in db.session.execute(
            by_bucket(build, Invitation.sent_at, edges, Invitation.office_id)
        )
    }


# --- the measurement ---------------------------------------------------------------------------


Counted = tuple[dict[tuple[Any, int], Counts], dict[tuple[Any, int], int]]


def _count(
    survey_type: str, fam: Family | None, scope: ReportScope, periods: Sequence[Period], seg: str
) -> Counted:
    if survey_type == "issue_rating":
        return _rating_counts(scope, periods, seg)
    if fam is None:
        return {}, {}
    if survey_type == "third_party":
        return _third_party_counts(fam, scope, periods, seg)
    return _project_counts(fam, scope, periods, seg)


def _segment_rows(
    segment: str,
    counted: Counted,
    scope: ReportScope,
    weights: dict[str, float],
    reach: dict[tuple[Any, int], Reach] | None = None,
) -> list[Row]:
    counts, n = counted
    keys = {k for k, _b in counts} | {k for k, _b in n} | {k for k, _b in reach or {}}
    if segment == "company":
        keys.add("all")
    names = _names(segment, keys, scope) if segment != "competitor" else {}
    codes = _codes(segment, scope)

    def reach_of(k: Any) -> Reach | None:
        return None if reach is None else reach.get((k, 0), Reach())

    rows = [
        Row(
            codes.get(k, NONE_KEY if k is None else str(k)),
            str(k) if segment == "competitor" else names.get(k, ""),
            n.get((k, 0), 0),
            measure(counts.get((k, 0), Counts()), weights),
            reach_of(k),
        )
        for k in keys
    ]
    # every place of the scope is listed, answered or not
    rows += [
        Row(code, names.get(k, code), 0, measure(Counts(), weights), reach_of(k))
        for k, code in codes.items()
        if k not in keys
    ]
    rows.sort(key=lambda r: (r.key == NONE_KEY, r.key))
    return rows


def measurement(
    scope: ReportScope,
    survey_type: str,
    period: Period,
    segment: str | None = None,
    survey_id: int | None = None,
) -> Measurement:
    """The period's figures in total and per segment (default: per office; third-party: per
    company measured), and the trend of the total over the periods up to it (Period.trend)."""
    if segment is None:
        segment = "competitor" if survey_type == "third_party" else "office"
    if survey_type not in TYPES:
        raise ValidationFailed(
            "Unknown survey type.", fields={"type": "one of " + ", ".join(TYPES)}
        )
    allowed = THIRD_PARTY_SEGMENTS if survey_type == "third_party" else SEGMENTS
    if segment not in allowed:
        raise ValidationFailed(
            "Unknown segment.", fields={"segment": "one of " + ", ".join(allowed)}
        )
    trend_periods = period.trend()
    fam = None if survey_type == "issue_rating" else family(survey_type, survey_id)
    weights = fam.weights if fam else {}
    # our own surveys invite; third-party waves are imported (no invitations, no reach)
    invites = FAMILY[survey_type] == "transactional"

    def reach(periods: Sequence[Period], seg: str) -> dict[tuple[Any, int], Reach] | None:
        return _reach_counts(survey_type, fam, scope, periods, seg) if invites else None

    trend_counts, trend_n = _count(survey_type, fam, scope, trend_periods, "company")
    trend_reach = reach(trend_periods, "company")
    trend = [
        Row(
            p.key,
            p.key,
            trend_n.get(("all", i), 0),
            measure(trend_counts.get(("all", i), Counts()), weights),
            None if trend_reach is None else trend_reach.get(("all", i), Reach()),
        )
        for i, p in enumerate(trend_periods)
    ]
    rows = _segment_rows(
        segment,
        _count(survey_type, fam, scope, [period], segment),
        scope,
        weights,
        reach([period], segment),
    )
    if segment == "company":
        total = rows[0]
    elif segment == "competitor":
        total = next((r for r in rows if r.key == ""), Row("", "", 0, measure(Counts(), weights)))
    else:
        total_counts, total_n = _count(survey_type, fam, scope, [period], "company")
        total_reach = reach([period], "company")
        total = Row(
            "all",
            scope.name,
            total_n.get(("all", 0), 0),
            measure(total_counts.get(("all", 0), Counts()), weights),
            None if total_reach is None else total_reach.get(("all", 0), Reach()),
        )
    return Measurement(
        type=survey_type,
        family=FAMILY[survey_type],
        survey_id=fam.id if fam else None,
        survey_title=fam.title if fam else "",
        period=period,
        segment=segment,
        weights=weights,
        indicator_names=fam.names if fam else {},
        total=total,
        segments=rows,
        trend=trend,
    )


def surveys_of(kind: str) -> list[tuple[int, str]]:
    """Questionnaire families of a kind that are or were in use: (family id, latest title)."""
    rows = db.session.execute(
        sa.select(sa.func.coalesce(Survey.family_id, Survey.id), Survey.title, Survey.version)
        .where(Survey.kind == kind, Survey.status != "draft")
        .order_by(Survey.version)
    ).all()
    out: dict[int, str] = {}
    for family_id, title, _version in rows:
        out[int(family_id)] = title
    return sorted(out.items())


def month_period(first: date) -> Period:
    return _month(first.replace(day=1))


def period_counts(
    fam: Family, scope: ReportScope, periods: Sequence[Period]
) -> list[tuple[int, Counts]]:
    """(responses, answer counts) of a questionnaire in each of contiguous `periods`."""
    counts, n = _project_counts(fam, scope, periods, "company")
    return [(n.get(("all", i), 0), counts.get(("all", i), Counts())) for i in range(len(periods))]


def indicator_score(
    family_id: int, key: str, office_ids: list[int] | None, start: datetime, end: datetime
) -> Estimate:
    """One indicator's score (0–100, with n and margin) from the answers submitted in
    [start, end) to any version of the questionnaire, in these offices (None: all) — the
    effect check of an improvement action."""
    fam = family("project", family_id)
    if fam is None:
        return scoring.EMPTY
    ids = [i for i, k in fam.indicator_keys.items() if k == key]
    stmt = (
        sa.select(Answer.value, sa.func.count())
        .join(Response, Response.id == Answer.response_id)
        .where(
            Response.survey_id.in_(fam.survey_ids),
            Response.submitted_at >= start,
            Response.submitted_at < end,
            Answer.indicator_id.in_(ids),
            Answer.value.is_not(None),
        )
        .group_by(Answer.value)
    )
    if office_ids is not None:
        stmt = stmt.where(Response.office_id.in_(office_ids))
    counts = {int(v): int(n) for v, n in db.session.execute(stmt) if v is not None}
    _index, scores = scoring.satisfaction_index({key: 100.0}, {key: counts})
    return scores[0].score
