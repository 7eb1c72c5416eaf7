"""Answering: find the invitation behind a link, check the answers, record them once, and open
an issue for a dissatisfied answer (closed loop).

Links are looked up by the sha256 of their token through one indexed query whatever the
outcome, and every kind of bad link (unknown, expired, closed, already used, withdrawn, meant for
something else) ends in the same `LinkInvalid`, so neither the page nor its timing tells them apart.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value

from app.contacts.models import Contact
from app.core import audit
from app.core.errors import DomainError, NotFound, ValidationFailed
from app.customers.models import Customer
from app.extensions import db
from app.issues.models import Category, Issue
from app.issues.services import accept_issue
from app.surveys import scoring
from app.surveys.invitations import token_digest
from app.surveys.models import (
    Answer,
    Campaign,
    Draft,
    Invitation,
    InvitationToken,
    Question,
    Response,
    Survey,
)

log = logging.getLogger(__name__)

MAX_TEXT = 20_000
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
ISSUE_CATEGORY = "other"


class LinkInvalid(NotFound):
    """Unknown, expired, closed, used, withdrawn or for another purpose: the caller cannot tell
    which."""

    code = "link_invalid"
    default_message = "This link is not valid."


class AlreadyAnswered(DomainError):
    status = 409
    code = "already_answered"
    default_message = "This survey has already been answered with this link. Thank you."


@dataclass(frozen=True)
class LinkedContact:
    """The contact behind a link: what the page greets and the closed loop files under."""

    id: int
    name: str
    language: str
    customer_id: int


@dataclass(frozen=True)
class LinkedInvitation:
    """The invitation behind a link, a plain copy of its row: the page only reads it, and
    loading the ORM object with its contact cost more CPU than rendering the page."""

    id: int
    purpose: str
    campaign_id: int | None
    survey_id: int | None
    issue_id: int | None
    contact_id: int
    office_id: int
    expires_at: datetime
    opened_at: datetime | None
    responded_at: datetime | None
    contact: LinkedContact


@dataclass(frozen=True)
class Link:
    invitation: LinkedInvitation
    token_hash: str
    # the customer's draft (answers as stored, page), read in the link's round trip; None
    # when there is none (app.surveys.drafts.kept reads it)
    draft: tuple[Any, int] | None = None


_invitations = Invitation.__table__
_contacts = Contact.__table__
_campaigns = Campaign.__table__
_issues = Issue.__table__
_drafts = Draft.__table__

# Built once, Core: one round trip brings the invitation, its contact, the campaign's and the
# issue's state and the draft, whatever the outcome; not the survey: loading that (and its
# questions) only for real links would make a valid-but-used link slower to refuse
_LINK_QUERY = (
    sa.select(
        _invitations.c.id,
        _invitations.c.purpose,
        _invitations.c.campaign_id,
        _invitations.c.survey_id,
        _invitations.c.issue_id,
        _invitations.c.contact_id,
        _invitations.c.office_id,
        _invitations.c.expires_at,
        _invitations.c.opened_at,
        _invitations.c.responded_at,
        _invitations.c.withdrawn_at,
        _contacts.c.name,
        _contacts.c.language,
        _contacts.c.customer_id,
        _campaigns.c.status.label("campaign_status"),
        _campaigns.c.close_at,
        _issues.c.status.label("issue_status"),
        _drafts.c.answers.label("draft_answers"),
        _drafts.c.page.label("draft_page"),
    )
    .select_from(InvitationToken.__table__)
    .join(_invitations, _invitations.c.id == InvitationToken.__table__.c.invitation_id)
    .join(_contacts, _contacts.c.id == _invitations.c.contact_id)
    .outerjoin(_campaigns, _campaigns.c.id == _invitations.c.campaign_id)
    .outerjoin(_issues, _issues.c.id == _invitations.c.issue_id)
    .outerjoin(_drafts, _drafts.c.invitation_id == _invitations.c.id)
    .where(InvitationToken.__table__.c.token_hash == sa.bindparam("token_hash"))
)


def find_link(
    token_hash: str, now: datetime, *, purpose: str = "survey", allow_answered: bool = False
) -> Link:
    """The invitation behind a token's hash, if it may be answered now (else LinkInvalid)."""
    row = db.session.connection().execute(_LINK_QUERY, {"token_hash": token_hash}).first()
    valid = (
        row is not None
        and row.purpose == purpose
        and row.expires_at > now
        and (row.campaign_status is None or row.campaign_status == "open")
        and (row.close_at is None or row.close_at > now)
        and (allow_answered or row.responded_at is None)
        # withdrawn (a rating link whose issue was reopened): dead, even once the issue is
        # resolved again and even for a cookie taken before
        and row.withdrawn_at is None
        # a rating link rates a resolved issue; closed meanwhile (by phone), it is spent. Only
        # an answered link is let through whatever the status (`allow_answered`: a retry of the
        # rating that closed or reopened the issue gets its thank-you page)
        and (
            row.issue_status is None
            or row.issue_status == "resolved"
            or (allow_answered and row.responded_at is not None)
        )
    )
    if not valid or row is None:
        raise LinkInvalid()
    invitation = LinkedInvitation(
        id=row.id,
        purpose=row.purpose,
        campaign_id=row.campaign_id,
        survey_id=row.survey_id,
        issue_id=row.issue_id,
        contact_id=row.contact_id,
        office_id=row.office_id,
        expires_at=row.expires_at,
        opened_at=row.opened_at,
        responded_at=row.responded_at,
        contact=LinkedContact(
            id=row.contact_id, name=row.name, language=row.language, customer_id=row.customer_id
        ),
    )
    draft = None if row.draft_page is None else (row.draft_answers, int(row.draft_page))
    return Link(invitation, token_hash, draft)


@dataclass(frozen=True)
class AskedQuestion:
    """A question as the answer page asks it: a plain copy, shared by requests and workers'
    threads, so that no page reads the questionnaire from the database twice."""

    id: int
    key: str
    type: str
    text_zh: str
    text_en: str
    options: tuple[str, ...]
    required: bool
    indicator_id: int | None


@dataclass(frozen=True)
class Questionnaire:
    id: int
    title: str
    questions: tuple[AskedQuestion, ...]


_QUESTIONNAIRES: OrderedDict[int, Questionnaire] = OrderedDict()
_QUESTIONNAIRES_LOCK = threading.Lock()
QUESTIONNAIRE_CACHE = 64


def questionnaire(survey_id: int) -> Questionnaire:
    """The questions of a survey that invitations lead to, kept per process (the 64 latest).

    Safe to keep: only a survey's draft is edited in place, campaigns send active surveys only,
    and editing an active one makes a new version with its own id (app.surveys.services), so
    the questions behind an id that has invitations never change."""
    with _QUESTIONNAIRES_LOCK:
        found = _QUESTIONNAIRES.get(survey_id)
        if found is not None:
            _QUESTIONNAIRES.move_to_end(survey_id)
            return found
    survey = db.session.get(Survey, survey_id)
    if survey is None or survey.status == "draft":
        raise LinkInvalid()
    made = Questionnaire(
        id=survey.id,
        title=survey.title,
        questions=tuple(
            AskedQuestion(
                id=q.id,
                key=q.key,
                type=q.type,
                text_zh=q.text_zh,
                text_en=q.text_en,
                options=tuple(str(o) for o in q.options or ()),
                required=q.required,
                indicator_id=q.indicator_id,
            )
            for q in survey.questions
        ),
    )
    with _QUESTIONNAIRES_LOCK:
        _QUESTIONNAIRES[survey_id] = made
        while len(_QUESTIONNAIRES) > QUESTIONNAIRE_CACHE:
            _QUESTIONNAIRES.popitem(last=False)
    return made


def forget_questionnaires() -> None:
    """Empty this process's copies (tests, whose database is emptied and ids reused)."""
    with _QUESTIONNAIRES_LOCK:
        _QUESTIONNAIRES.clear()


def link_for_token(token: str, now: datetime, **kw: Any) -> Link:
    # bounded before hashing: a 10 MB "token" costs nothing and is just invalid
    return find_link(token_digest(token[:200]), now, **kw)


def _integer(value: Any, low: int, high: int) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,2}\s*", value):
        value = int(value)
    if isinstance(value, int) and low <= value <= high:
        return value
    return None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _one(
    question: AskedQuestion | Question, value: Any
) -> tuple[int | None, str | None, str | None]:
    """(number, text, error) for one answer."""
    if question.type in ("rating5", "nps"):
        low, high = (1, 5) if question.type == "rating5" else (0, 10)
        number = _integer(value, low, high)
        return (number, None, None) if number is not None else (None, None, f"{low} to {high}")
    if question.type == "choice":
        if isinstance(value, str) and value in question.options:
            return None, value, None
        return None, None, "one of the options"
    if not isinstance(value, str):
        return None, None, "text"
    text = CONTROL.sub("", value).strip()
    if len(text) > MAX_TEXT:
        return None, None, f"at most {MAX_TEXT} characters"
    return None, text, None


def check_answers(
    questions: Sequence[AskedQuestion | Question],
    raw: Mapping[str, Any],
    *,
    strict: bool,
    require: bool = True,
) -> tuple[dict[int, tuple[int | None, str | None]], dict[str, str]]:
    """Clean answers by question id, or errors by question key. `strict` (JSON) refuses keys
    that are no question; a form carries other fields too. Without `require` (a page kept on
    the way back) a missing answer is no error, a wrong one still is."""
    errors: dict[str, str] = {}
    clean: dict[int, tuple[int | None, str | None]] = {}
    by_key = {q.key: q for q in questions}
    if strict:
        for key in raw:
            if key not in by_key:
                errors[str(key)[:40]] = "no such question"
    for q in questions:
        value = raw.get(q.key)
        if _blank(value):
            if q.required and require:
                errors[q.key] = "required"
            continue
        number, text, error = _one(q, value)
        if error:
            errors[q.key] = error
        elif text == "" and number is None:
            if q.required and require:
                errors[q.key] = "required"
        else:
            clean[q.id] = (number, text)
    return clean, errors


@cache
def _insert_response(dialect: str) -> Any:
    """INSERT … ON CONFLICT (invitation_id) DO NOTHING RETURNING id, built once per dialect
    (building it per request cost more CPU than sending it); values come as parameters."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = Response.__table__
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=[table.c.invitation_id])
        .returning(table.c.id)
    )


def record_response(
    link: Link, raw: Mapping[str, Any], *, language: str, now: datetime, strict: bool = False
) -> Response:
    """record_answers, returning the stored response (for callers that need more than its
    id; the answer page does not, and saves the read)."""
    response_id = record_answers(link, raw, language=language, now=now, strict=strict)
    return db.session.get_one(Response, response_id)


def record_answers(
    link: Link, raw: Mapping[str, Any], *, language: str, now: datetime, strict: bool = False
) -> int:
    """Store the answers once and open an issue for a dissatisfied answer; the customer's draft
    goes in the same transaction. The unique invitation makes a second submit AlreadyAnswered
    and changes nothing (INSERT … ON CONFLICT DO NOTHING: no savepoint round trips). Returns
    the response id; the caller commits."""
    invitation = link.invitation
    if invitation.survey_id is None:
        raise LinkInvalid()
    asked = questionnaire(invitation.survey_id)
    questions = asked.questions
    clean, errors = check_answers(questions, raw, strict=strict)
    if errors:
        raise ValidationFailed("Some answers are missing or not valid.", fields=errors)
    # Core statements on the session's connection (same transaction): the ORM's handling of a
    # statement costs more CPU than running it, and nothing here needs the ORM's objects
    connection = db.session.connection()
    response_id = connection.execute(
        _insert_response(db.engine.dialect.name),
        {
            "invitation_id": invitation.id,
            "campaign_id": invitation.campaign_id,
            "survey_id": invitation.survey_id,
            "contact_id": invitation.contact_id,
            "office_id": invitation.office_id,
            "language": language if language in ("zh", "en") else "zh",
            "submitted_at": now,
        },
    ).scalar()
    if response_id is None:
        raise AlreadyAnswered()
    by_id = {q.id: q for q in questions}
    if clean:  # one executemany of the table's insert (the ORM's splits rows by their Nones)
        connection.execute(
            _INSERT_ANSWER,
            [
                {
                    "response_id": response_id,
                    "question_id": qid,
                    "campaign_id": invitation.campaign_id,
                    "question_type": by_id[qid].type,
                    "indicator_id": by_id[qid].indicator_id,
                    "value": number,
                    "text": text,
                }
                for qid, (number, text) in clean.items()
            ],
        )
    drafts = connection.execute(_DELETE_DRAFT, {"invitation_id": invitation.id})
    connection.execute(_RESPONDED, {"invitation_id": invitation.id, "at": now})
    audit.write(
        actor_id=None,
        entity_type="survey_response",
        entity_id=response_id,
        action="respond",
        changes={
            "invitation_id": invitation.id,
            "answers": len(clean),
            "draft_discarded": bool(getattr(drafts, "rowcount", 0)),
        },
        office_id=invitation.office_id,
        at=now,
    )
    dissatisfied = [
        (by_id[qid], number)
        for qid, (number, _text) in clean.items()
        if number is not None and scoring.is_dissatisfied(by_id[qid].type, number)
    ]
    if dissatisfied:
        try:
            with db.session.begin_nested():
                _open_issue_for(
                    response_id, asked.title, invitation, dissatisfied, clean, by_id, now
                )
        except DomainError:
            # the answer is kept whatever happens; the failure is logged for the staff
            log.exception("survey response %s: the closed-loop issue failed", response_id)
    return int(response_id)


def _category() -> str:
    codes = list(
        db.session.scalars(
            sa.select(Category.code).where(Category.active.is_(True)).order_by(Category.position)
        )
    )
    return ISSUE_CATEGORY if ISSUE_CATEGORY in codes else (codes[0] if codes else ISSUE_CATEGORY)


def _open_issue(
    response: Response,
    invitation: Invitation,
    dissatisfied: Sequence[tuple[AskedQuestion | Question, int]],
    clean: Mapping[int, tuple[int | None, str | None]],
    by_id: Mapping[int, AskedQuestion | Question],
    now: datetime,
) -> None:
    """_open_issue_for a loaded response (the demo data's path), which it keeps up to date."""
    title = invitation.campaign.survey.title if invitation.campaign else ""
    issue_id = _open_issue_for(response.id, title, invitation, dissatisfied, clean, by_id, now)
    set_committed_value(response, "issue_id", issue_id)


def _open_issue_for(
    response_id: int,
    title: str,
    invitation: Invitation | LinkedInvitation,
    dissatisfied: Sequence[tuple[AskedQuestion | Question, int]],
    clean: Mapping[int, tuple[int | None, str | None]],
    by_id: Mapping[int, AskedQuestion | Question],
    now: datetime,
) -> int:
    """受理 an issue in the contact's office, by the system (actor None), linked both ways."""
    contact: Contact | LinkedContact = invitation.contact
    lines = [f"{contact.name}: {q.text_zh} → {n}" for q, n in dissatisfied]
    comments = [f"{by_id[qid].text_zh}: {text}" for qid, (_n, text) in clean.items() if text]
    description = "\n".join([*lines, *comments])[:19_000]
    customer = db.session.get(Customer, contact.customer_id)
    issue = accept_issue(
        actor=None,
        customer_id=contact.customer_id,
        title=f"调查不满意 · {' '.join(title.split())}"[:200],
        description=description,
        channel="survey",
        category=_category(),
        priority="high",
        office_code=customer.office.code if customer else None,
        now=now,
    )
    db.session.execute(
        sa.update(Response).where(Response.id == response_id).values(issue_id=issue.id),
        execution_options={"synchronize_session": False},
    )
    audit.record(
        actor_id=None,
        entity_type="survey_response",
        entity_id=response_id,
        action="issue",
        changes={"issue_id": [None, issue.id], "number": [None, issue.number]},
        office_id=issue.office_id,
        at=now,
    )
    return int(issue.id)


_INSERT_ANSWER = sa.insert(Answer.__table__)
# one UPDATE each, without the unit of work (the page holds no ORM invitation to flush)
_OPENED = (
    sa.update(_invitations)
    .where(_invitations.c.id == sa.bindparam("invitation_id"), _invitations.c.opened_at.is_(None))
    .values(opened_at=sa.bindparam("at", type_=_invitations.c.opened_at.type))
)
_RESPONDED = (
    sa.update(_invitations)
    .where(_invitations.c.id == sa.bindparam("invitation_id"))
    .values(responded_at=sa.bindparam("at", type_=_invitations.c.responded_at.type))
)
_DELETE_DRAFT = sa.delete(_drafts).where(_drafts.c.invitation_id == sa.bindparam("invitation_id"))


def mark_opened(invitation: LinkedInvitation, now: datetime) -> None:
    if invitation.opened_at is None:
        db.session.connection().execute(_OPENED, {"invitation_id": invitation.id, "at": now})
