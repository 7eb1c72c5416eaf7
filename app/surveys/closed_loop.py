"""Closed loop after a dissatisfied answer: the answer opened an issue (contacted); the issue
closed (fixed); the contact answered a later wave of the same survey (re-measured).

A contact whose issue has closed and who has not answered that survey since is *marked for
re-measurement*: the next wave of any campaign of that survey family invites them even when the
campaign's audience would not (the contact-frequency rule still applies). The mark is a query,
not a flag: app.issues knows nothing of surveys, and closing the issue is all it takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.contacts.models import Contact
from app.extensions import db
from app.issues.models import Issue
from app.surveys.models import Campaign, Response, Survey


def family_of(survey: Survey) -> int:
    return survey.family_id or survey.id


def _family_surveys(family_id: int) -> sa.Select[Any]:
    return sa.select(Survey.id).where(sa.func.coalesce(Survey.family_id, Survey.id) == family_id)


def _remeasured(family_id: int) -> sa.ColumnElement[bool]:
    """A later answer of the same contact (of the outer Response) to the same survey family,
    after the issue (the outer Issue) closed."""
    later = aliased(Response)
    return sa.exists().where(
        later.contact_id == Response.contact_id,
        later.survey_id.in_(_family_surveys(family_id)),
        later.submitted_at > Issue.closed_at,
    )


def awaiting_remeasure(family_id: int) -> sa.Select[Any]:
    """Contact ids marked for re-measurement in the next wave of this survey family."""
    return (
        sa.select(Response.contact_id)
        .join(Issue, Issue.id == Response.issue_id)
        .where(
            Response.survey_id.in_(_family_surveys(family_id)),
            Issue.status == "closed",
            ~_remeasured(family_id),
        )
    )


@dataclass(frozen=True)
class LoopFigures:
    detractors: int  # responses of this campaign with a dissatisfied answer that opened an issue
    fixed: int  # of which the issue is closed
    remeasured: int  # of which the contact answered the survey again after the close
    awaiting: int  # fixed, not re-measured yet: invited with the next wave


def loop_figures(campaign: Campaign) -> LoopFigures:
    family_id = family_of(campaign.survey)
    closed = Issue.status == "closed"
    again = _remeasured(family_id)
    row = db.session.execute(
        sa.select(
            sa.func.count(Response.id),
            sa.func.coalesce(sa.func.sum(sa.case((closed, 1), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((sa.and_(closed, again), 1), else_=0)), 0),
        )
        .join(Issue, Issue.id == Response.issue_id)
        .where(Response.campaign_id == campaign.id)
    ).one()
    detractors, fixed, remeasured = (int(v or 0) for v in row)
    return LoopFigures(detractors, fixed, remeasured, fixed - remeasured)


def awaiting_contacts(campaign: Campaign, limit: int = 50) -> list[tuple[Contact, Issue]]:
    """This campaign's fixed detractors not yet re-measured, with the issue that was closed."""
    family_id = family_of(campaign.survey)
    rows = db.session.execute(
        sa.select(Contact, Issue)
        .join(Response, Response.contact_id == Contact.id)
        .join(Issue, Issue.id == Response.issue_id)
        .where(
            Response.campaign_id == campaign.id,
            Issue.status == "closed",
            ~_remeasured(family_id),
        )
        .order_by(Response.id.desc())
        .limit(limit)
    ).all()
    return [(contact, issue) for contact, issue in rows]
