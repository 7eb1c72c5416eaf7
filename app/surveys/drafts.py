"""The questionnaire in pages, and the answers kept page by page until it is sent.

A phone shows a few questions at a time: the answer page splits the questionnaire into pages of
PAGE_SIZE questions in their order. Each "next" or "back" keeps the answers of the page in a
draft tied to the invitation (one row per invitation, `survey_drafts`), so a customer who closes
the phone and opens the link again finds them filled in and continues on the page where they
left off. The draft is no response: nothing is counted until the last page is sent, and the
response and the draft's deletion are one transaction (app.surveys.answers.record_answers).

A draft comes with the link's lookup (app.surveys.answers.find_link), which hands it out only
for a link that may still be answered, so the drafts of expired, closed or used links are out of
reach; the daily purge deletes them.
A draft holds only valid answers to the questionnaire's own questions (at most 20,000
characters of text each), so its size is bounded by the questionnaire.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from app.core import audit
from app.extensions import db
from app.surveys.answers import AskedQuestion, Link, check_answers
from app.surveys.models import Campaign, Draft, Invitation

PAGE_SIZE = 3  # questions per page: a phone screen or two, never a long scroll
KEEP_UNTOUCHED = timedelta(days=90)  # a draft nobody came back to is purged after this


def paginate(questions: Sequence[AskedQuestion]) -> list[tuple[AskedQuestion, ...]]:
    """The pages, in order; one page for an empty questionnaire."""
    pages = [tuple(questions[i : i + PAGE_SIZE]) for i in range(0, len(questions), PAGE_SIZE)]
    return pages or [()]


def clamp(page: Any, pages: int) -> int:
    """A page number from a form or an address: 1 … pages, 1 when it is no number."""
    try:
        number = int(str(page)[:4])
    except ValueError:
        return 1
    return min(max(number, 1), pages)


@dataclass(frozen=True)
class Kept:
    answers: dict[str, str]
    page: int


def kept(link: Link) -> Kept:
    """What the customer has answered so far and where they continue (page 1 if nothing): the
    draft the link's lookup brought in the same round trip."""
    if link.draft is None:
        return Kept({}, 1)
    answers, page = link.draft
    if not isinstance(answers, dict):
        answers = {}
    return Kept({str(k): str(v) for k, v in answers.items()}, page)


def _as_posted(number: int | None, text: str | None) -> str:
    return str(number) if number is not None else (text or "")


@cache
def _upsert(dialect: str) -> Any:
    """One upsert, so two tabs sending pages at once end with the later one, never an error;
    built once per dialect (building it per request cost more CPU than sending it)."""
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Draft.__table__)
    return insert.on_conflict_do_update(
        index_elements=[Draft.__table__.c.invitation_id],
        set_={name: insert.excluded[name] for name in ("answers", "page", "updated_at")},
    )


def save_page(
    link: Link,
    kept: Kept,
    page_questions: Sequence[AskedQuestion],
    raw: Mapping[str, Any],
    *,
    go_to: int,
    require: bool,
    now: datetime,
) -> dict[str, str]:
    """Keep the valid answers of one page and move the customer to page `go_to`; returns the
    errors by question key (then the customer stays on this page). `require` (going forward)
    makes a missing required answer an error; going back keeps what there is. Writes at once;
    the caller commits."""
    clean, errors = check_answers(page_questions, raw, strict=False, require=require)
    answers = dict(kept.answers)
    for q in page_questions:
        if q.id in clean:
            answers[q.key] = _as_posted(*clean[q.id])
        elif q.key not in errors:
            answers.pop(q.key, None)  # left blank (a text cleared): no longer an answer
    page = kept.page if errors else go_to
    if answers == kept.answers and page == kept.page:
        return errors
    invitation = link.invitation
    db.session.connection().execute(
        _upsert(db.engine.dialect.name),
        {"invitation_id": invitation.id, "answers": answers, "page": page, "updated_at": now},
    )
    audit.write(
        actor_id=None,
        entity_type="survey_draft",
        entity_id=invitation.id,
        action="save",
        # how far the customer got, not what they answered: the answers belong to the response
        changes={"page": [kept.page, page], "answered": [len(kept.answers), len(answers)]},
        office_id=invitation.office_id,
        at=now,
    )
    return errors


def merged(
    kept: Kept, page_questions: Sequence[AskedQuestion] | None, raw: Mapping[str, Any]
) -> dict[str, Any]:
    """The whole questionnaire's answers at the final submit: the draft, with the posted page's
    questions taken from the form (`page_questions` None: a form with every question)."""
    if page_questions is None:
        return {**kept.answers, **raw}
    answers: dict[str, Any] = dict(kept.answers)
    for q in page_questions:
        answers.pop(q.key, None)
        if q.key in raw:
            answers[q.key] = raw[q.key]
    return answers


def first_page_with(
    pages: Sequence[Sequence[AskedQuestion]], keys: Mapping[str, Any]
) -> int | None:
    """The first page holding one of `keys` (the page an error is shown on)."""
    for number, questions in enumerate(pages, start=1):
        if any(q.key in keys for q in questions):
            return number
    return None


def purge(now: datetime) -> int:
    """Delete the drafts that can no longer be sent: their link expired, their campaign
    closed, their invitation answered, or nobody touched them for KEEP_UNTOUCHED."""
    dead = (
        sa.select(Invitation.id)
        .outerjoin(Campaign, Campaign.id == Invitation.campaign_id)
        .where(
            sa.or_(
                Invitation.expires_at <= now,
                Invitation.responded_at.is_not(None),
                Campaign.status == "closed",
            )
        )
    )
    result = db.session.execute(
        sa.delete(Draft).where(
            sa.or_(Draft.invitation_id.in_(dead), Draft.updated_at < now - KEEP_UNTOUCHED)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
