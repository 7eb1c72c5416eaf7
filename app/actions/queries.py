"""Reading improvement actions: scoped lists (keyset), one action, its links, its effect, and
the actions a report shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from app.actions.models import OPEN_STATUSES, ActionLink, ImprovementAction
from app.core.errors import NotFound
from app.core.pagination import Page, keyset_page
from app.core.scoping import Scope
from app.extensions import db
from app.issues.models import Issue
from app.org.models import Office
from app.surveys import measurement as survey_measurement
from app.surveys.models import Campaign, Response
from app.voice.models import Voice

EFFECT_WINDOW = timedelta(days=90)


def visible(scope: Scope) -> sa.ColumnElement[bool]:
    """Actions whose place lies inside the scope: all for company roles; a region's own and its
    offices' for its manager; an office's own for office roles."""
    if scope.is_company:
        return sa.true()
    if scope.kind == "region":
        offices = sa.select(Office.id).where(Office.region_id == scope.region_id)
        return sa.or_(
            ImprovementAction.region_id == scope.region_id,
            ImprovementAction.office_id.in_(offices),
        )
    if scope.kind == "office":
        clause: sa.ColumnElement[bool] = ImprovementAction.office_id == scope.office_id
        return clause
    return sa.false()


def in_offices(office_ids: list[int], region_ids: list[int], company: bool) -> Any:
    """Actions placed in these offices or regions (and the company-wide ones if `company`)."""
    clauses: list[Any] = [
        ImprovementAction.office_id.in_(office_ids),
        ImprovementAction.region_id.in_(region_ids),
    ]
    if company:
        clauses.append(
            sa.and_(ImprovementAction.office_id.is_(None), ImprovementAction.region_id.is_(None))
        )
    return sa.or_(*clauses)


def get_action(scope: Scope, action_id: int) -> ImprovementAction:
    action = db.session.scalars(
        sa.select(ImprovementAction).where(ImprovementAction.id == action_id, visible(scope))
    ).first()
    if action is None:
        raise NotFound()
    return action


@dataclass
class ActionFilters:
    status: str | None = None
    overdue: bool = False


def list_actions(
    scope: Scope, f: ActionFilters, *, today: date, limit: int, cursor: str | None
) -> Page[ImprovementAction]:
    stmt = sa.select(ImprovementAction).where(visible(scope))
    if f.status:
        stmt = stmt.where(ImprovementAction.status == f.status)
    if f.overdue:
        stmt = stmt.where(
            ImprovementAction.status.in_(OPEN_STATUSES), ImprovementAction.due_on < today
        )
    return keyset_page(
        stmt, order=[ImprovementAction.id], key=lambda a: [a.id], limit=limit, cursor=cursor
    )


def is_overdue(action: ImprovementAction, today: date) -> bool:
    return action.status in OPEN_STATUSES and action.due_on < today


@dataclass
class LinkedItem:
    type: str  # issue | voice | campaign | response
    id: int
    label: str  # issue number, voice reference, campaign name, response number
    text: str  # title, the voice's text, the campaign's indicator, the response's date
    indicator: str | None = None  # a campaign link: the indicator that caused the action


def links_of(action: ImprovementAction) -> list[LinkedItem]:
    links = list(
        db.session.execute(
            sa.select(ActionLink.target_type, ActionLink.target_id, ActionLink.indicator)
            .where(ActionLink.action_id == action.id)
            .order_by(ActionLink.id)
        )
    )
    issue_ids = [i for t, i, _k in links if t == "issue"]
    voice_ids = [i for t, i, _k in links if t == "voice"]
    indicators = {i: k for t, i, k in links if t == "campaign"}
    response_ids = [i for t, i, _k in links if t == "response"]
    items = [
        LinkedItem("issue", r.id, r.number, r.title)
        for r in db.session.execute(
            sa.select(Issue.id, Issue.number, Issue.title).where(Issue.id.in_(issue_ids))
        )
    ]
    items += [
        LinkedItem("voice", r.id, r.reference, r.text[:200])
        for r in db.session.execute(
            sa.select(Voice.id, Voice.reference, Voice.text).where(Voice.id.in_(voice_ids))
        )
    ]
    items += [
        LinkedItem("campaign", r.id, r.name, indicators.get(r.id) or "", indicators.get(r.id))
        for r in db.session.execute(
            sa.select(Campaign.id, Campaign.name).where(Campaign.id.in_(list(indicators)))
        )
    ]
    items += [
        LinkedItem("response", r.id, f"#{r.id}", r.submitted_at.isoformat()[:10])
        for r in db.session.execute(
            sa.select(Response.id, Response.submitted_at).where(Response.id.in_(response_ids))
        )
    ]
    return items


# --- the effect check --------------------------------------------------------------------------


@dataclass
class Measure:
    value: float | None  # per 30 days (volume), a share (CSAT) or a score 0–100 (indicator)
    n: int  # issues counted (volume), ratings (CSAT) or the indicator's answers
    start: datetime
    end: datetime


@dataclass
class Effect:
    metric: str
    before: Measure
    after: Measure | None  # None until the action is done
    improved: bool | None

    @property
    def change(self) -> float | None:
        if self.after is None or self.after.value is None or self.before.value is None:
            return None
        return round(self.after.value - self.before.value, 4)


def _place_offices(action: ImprovementAction) -> sa.ColumnElement[bool]:
    if action.office_id is not None:
        clause: sa.ColumnElement[bool] = Issue.office_id == action.office_id
        return clause
    if action.region_id is not None:
        return Issue.office_id.in_(sa.select(Office.id).where(Office.region_id == action.region_id))
    return sa.true()


def _place_office_ids(action: ImprovementAction) -> list[int] | None:
    if action.office_id is not None:
        return [action.office_id]
    if action.region_id is not None:
        return list(
            db.session.scalars(sa.select(Office.id).where(Office.region_id == action.region_id))
        )
    return None


def measure(action: ImprovementAction, start: datetime, end: datetime) -> Measure:
    if action.metric == "indicator_score":
        score = survey_measurement.indicator_score(
            action.metric_survey_id or 0,
            action.metric_indicator or "",
            _place_office_ids(action),
            start,
            end,
        )
        value = None if score.value is None else round(score.value, 1)
        return Measure(value, score.n, start, end)
    place = _place_offices(action)
    if action.metric == "category_volume":
        n = db.session.scalar(
            sa.select(sa.func.count(Issue.id)).where(
                place,
                Issue.category_id == action.metric_category_id,
                Issue.received_at >= start,
                Issue.received_at < end,
            )
        )
        days = max((end - start).total_seconds() / 86400, 1.0)
        return Measure(round((n or 0) * 30 / days, 2), int(n or 0), start, end)
    rated, satisfied = db.session.execute(
        sa.select(
            sa.func.count(Issue.rating),
            sa.func.coalesce(sa.func.sum(sa.case((Issue.rating >= 4, 1), else_=0)), 0),
        ).where(place, Issue.closed_at >= start, Issue.closed_at < end)
    ).one()
    share = round(satisfied / rated, 4) if rated else None
    return Measure(share, int(rated or 0), start, end)


def effect(action: ImprovementAction, now: datetime) -> Effect:
    """The metric over the 90 days before the action was recorded, and from when it was done
    (up to 90 days, or until now)."""
    before = measure(action, action.created_at - EFFECT_WINDOW, action.created_at)
    after = None
    if action.done_at is not None and action.done_at < now:
        after = measure(action, action.done_at, min(action.done_at + EFFECT_WINDOW, now))
    improved = None
    if after is not None and after.value is not None and before.value is not None:
        if action.metric == "category_volume":
            improved = after.value < before.value
        else:
            improved = after.value > before.value
    return Effect(action.metric, before, after, improved)


def for_report(
    office_ids: list[int],
    region_ids: list[int],
    company: bool,
    *,
    overdue_on: date | None = None,
    done_since: datetime | None = None,
    limit: int = 50,
) -> list[ImprovementAction]:
    """Actions of a report's scope: open ones due before `overdue_on` (the overdue list), or
    all open ones plus those done since `done_since` (the monthly review), overdue first."""
    place = in_offices(office_ids, region_ids, company)
    if overdue_on is not None:
        which: Any = sa.and_(
            ImprovementAction.status.in_(OPEN_STATUSES), ImprovementAction.due_on < overdue_on
        )
    else:
        which = sa.or_(
            ImprovementAction.status.in_(OPEN_STATUSES),
            ImprovementAction.done_at >= (done_since or datetime(1970, 1, 1, tzinfo=UTC)),
        )
    stmt = (
        sa.select(ImprovementAction)
        .where(place, which)
        .order_by(ImprovementAction.due_on, ImprovementAction.id)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))
