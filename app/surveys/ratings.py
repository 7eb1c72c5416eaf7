"""Close and rate by link: when an issue is resolved, its customer's first active contact with an
e-mail gets a link (purpose issue_rating, bound to the issue) to rate the handling 1–5; the
rating closes the issue through app.issues.services.close_issue, by the system for them, and a
low rating follows the low-rating policy like any other. Rating links are service messages,
not surveys: the contact-frequency rule does not hold them back.

One resolution gets at most one link (wave "rating:<n>", n = the issue's reopen count, unique per
issue). When the issue is reopened, the link still pending is withdrawn in the same transaction
(`withdraw_rating_links`, on app.issues' `issue_reopened` signal): from then on it is as dead as
an expired link, also after the issue is resolved again, when the new resolution gets its own."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.contacts.models import Contact
from app.core import audit
from app.core.errors import ValidationFailed
from app.core.outbox_service import cancel_pending, enqueue_email
from app.extensions import db
from app.issues.models import Issue
from app.issues.services import close_issue
from app.surveys.answers import CONTROL, MAX_TEXT, AlreadyAnswered, Link, LinkInvalid
from app.surveys.invitations import new_token
from app.surveys.models import Invitation

RATING_LINK_DAYS = 14
LOOKBACK = timedelta(days=RATING_LINK_DAYS)


def rating_url(token: str) -> str:
    return f"{current_app.config['BASE_URL']}/s/rate/{token}"


def _message(issue: Issue, contact: Contact, token: str, until: datetime) -> tuple[str, str]:
    day = until.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%Y-%m-%d")
    title = " ".join(issue.title.split())
    if contact.language == "en":
        return (
            f"Issue {issue.number} is resolved: how did we do?",
            f"Dear {contact.name},\n\nyour issue {issue.number} ({title}) has been resolved. "
            f"Please rate how we handled it:\n\n{rating_url(token)}\n\n"
            f"The link works until {day}.\n",
        )
    return (
        f"问题 {issue.number} 已解决，请您评价",
        f"尊敬的{contact.name}：\n\n您反映的问题 {issue.number}（{title}）已解决。"
        f"请对我们的处理进行评价：\n\n{rating_url(token)}\n\n此链接有效期至 {day}。\n",
    )


def send_rating_links(now: datetime) -> dict[str, int]:
    """Every issue resolved within the last two weeks and still resolved gets one link per
    resolution (a reopened and again resolved issue gets a new one); repeats are no-ops."""
    counts = {"sent": 0, "no_contact": 0}
    issues = db.session.scalars(
        sa.select(Issue)
        .where(Issue.status == "resolved", Issue.resolved_at >= now - LOOKBACK)
        .order_by(Issue.id)
    ).all()
    for issue in issues:
        wave = f"rating:{issue.reopen_count}"
        exists = db.session.scalar(
            sa.select(Invitation.id).where(Invitation.issue_id == issue.id, Invitation.wave == wave)
        )
        if exists is not None:
            continue
        contact = db.session.scalars(
            sa.select(Contact)
            .where(
                Contact.customer_id == issue.customer_id,
                Contact.active.is_(True),
                Contact.email.is_not(None),
            )
            .order_by(Contact.id)
            .limit(1)
        ).first()
        if contact is None:
            counts["no_contact"] += 1
            continue
        if _send(issue, contact, wave, now):
            counts["sent"] += 1
    return counts


def _send(issue: Issue, contact: Contact, wave: str, now: datetime) -> bool:
    expires = now + LOOKBACK
    try:
        with db.session.begin_nested():
            invitation = Invitation(
                purpose="issue_rating",
                issue_id=issue.id,
                contact_id=contact.id,
                office_id=issue.office_id,
                wave=wave,
                sent_at=now,
                expires_at=expires,
            )
            db.session.add(invitation)
            db.session.flush()
            token = new_token(invitation)
            subject, body = _message(issue, contact, token, expires)
            enqueue_email(
                key=_mail_key(invitation.id),
                to=contact.email or "",
                subject=subject,
                body=body,
                entity_type="issue",
                entity_id=issue.id,
            )
    except (IntegrityError, ValidationFailed):
        return False  # taken by a concurrent run, or an address that cannot be used
    return True


def _mail_key(invitation_id: int) -> str:
    """The outbox key of a rating link's e-mail: one message per invitation."""
    return f"rating:{invitation_id}"


def withdraw_rating_links(issue: Issue, now: datetime) -> int:
    """Take back the issue's rating links not used yet (its status left `resolved`: what they
    would rate is no longer the resolution they were sent for); audited per link. Returns how
    many. An answered link stays as it is: its rating is part of the record."""
    withdrawn = db.session.execute(
        sa.update(Invitation)
        .where(
            Invitation.issue_id == issue.id,
            Invitation.purpose == "issue_rating",
            Invitation.responded_at.is_(None),
            Invitation.withdrawn_at.is_(None),
        )
        .values(withdrawn_at=now)
        .returning(Invitation.id, Invitation.wave)
        .execution_options(synchronize_session=False)
    ).all()
    # the e-mail of a link not sent yet goes nowhere: it would carry a dead link
    unsent = set(cancel_pending([_mail_key(i) for i, _ in withdrawn], "issue reopened", now))
    for invitation_id, wave in withdrawn:
        changes = {"issue_id": issue.id, "wave": wave, "reason": "issue reopened"}
        if _mail_key(invitation_id) in unsent:
            changes["email"] = "cancelled before sending"
        audit.record(
            actor_id=None,
            entity_type="invitation",
            entity_id=invitation_id,
            action="withdraw",
            changes=changes,
            office_id=issue.office_id,
            at=now,
        )
    return len(withdrawn)


def rate_issue(link: Link, raw: dict[str, Any], *, now: datetime) -> Issue:
    """Close the issue with the customer's rating; once (a second rating is AlreadyAnswered)."""
    invitation = link.invitation
    if invitation.purpose != "issue_rating" or invitation.issue_id is None:
        raise LinkInvalid()
    if invitation.responded_at is not None:
        raise AlreadyAnswered()
    value = raw.get("rating")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    comment = raw.get("comment")
    errors: dict[str, str] = {}
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        errors["rating"] = "1 to 5"
    if comment is not None and not isinstance(comment, str):
        errors["comment"] = "text"
    elif isinstance(comment, str) and len(comment) > MAX_TEXT:
        errors["comment"] = f"at most {MAX_TEXT} characters"
    if errors or not isinstance(value, int):
        raise ValidationFailed(fields=errors)
    # the claim also loses to a withdrawal committed since the link was read (a reopen)
    claimed = db.session.execute(
        sa.update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.responded_at.is_(None),
            Invitation.withdrawn_at.is_(None),
        )
        .values(responded_at=now)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(claimed, "rowcount", 0) or 0) != 1:
        answered = db.session.scalar(
            sa.select(Invitation.responded_at).where(Invitation.id == invitation.id)
        )
        raise AlreadyAnswered() if answered is not None else LinkInvalid()
    text = CONTROL.sub("", comment).strip() if isinstance(comment, str) else None
    issue = close_issue(
        actor=None, issue_id=invitation.issue_id, rating=value, comment=text, now=now
    )
    audit.record(
        actor_id=None,
        entity_type="issue",
        entity_id=issue.id,
        action="rated_by_link",
        changes={"invitation_id": invitation.id, "rating": value},
        office_id=issue.office_id,
        at=now,
    )
    return issue
