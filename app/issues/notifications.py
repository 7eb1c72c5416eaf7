"""Who hears about an issue, through the outbox (sent after commit, once per key).

Every message names the issue as its entity, and its key says what it is: `escalation:ISSUE:
LEVEL:USER`, `low-rating:ISSUE:REOPENS:USER`, `sla-warning:ISSUE:TARGET:REOPENS:USER`, and the
customer's rating link `rating:INVITATION` (app.surveys.ratings). kind_of() reads them back for
the issue page."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from app.auth.models import User
from app.core.outbox_service import enqueue_email
from app.extensions import db
from app.issues.models import Issue
from app.org.models import Office

LEVEL_ROLES = {1: "office_manager", 2: "regional_manager", 3: "quality_admin"}
ESCALATION, LOW_RATING, SLA_WARNING = "escalation", "low-rating", "sla-warning"
RATING_LINK = "rating"  # the key app.surveys.ratings gives the customer's rating link


@dataclass(frozen=True)
class Kind:
    """What an issue's message is: `code` one of escalation, low_rating, sla_warning,
    rating_link, other; with the level of an escalation or the target of a warning."""

    code: str
    level: int | None = None
    target: str | None = None


def kind_of(key: str) -> Kind:
    parts = key.split(":")
    prefix = parts[0]
    if prefix == ESCALATION and len(parts) >= 3 and parts[2].isdigit():
        return Kind("escalation", level=int(parts[2]))
    if prefix == LOW_RATING:
        return Kind("low_rating")
    if prefix == SLA_WARNING and len(parts) >= 3:
        return Kind("sla_warning", target=parts[2])
    if prefix == RATING_LINK:
        return Kind("rating_link")
    return Kind("other")


def managers_for_level(issue: Issue, level: int) -> list[User]:
    role = LEVEL_ROLES[level]
    stmt = sa.select(User).where(User.role == role, User.active.is_(True))
    if level == 1:
        stmt = stmt.where(User.office_id == issue.office_id)
    elif level == 2:
        region_id = sa.select(Office.region_id).where(Office.id == issue.office_id)
        stmt = stmt.where(User.region_id == region_id.scalar_subquery())
    return list(db.session.scalars(stmt.order_by(User.id)))


def _link(issue: Issue) -> str:
    return f"{current_app.config['BASE_URL']}/issues/{issue.id}"


def _send(users: list[User], key: str, subject: str, body: str, issue: Issue) -> int:
    count = 0
    for user in users:
        message = enqueue_email(
            key=f"{key}:{user.id}",
            to=user.email,
            subject=subject,
            body=body,
            entity_type="issue",
            entity_id=issue.id,
        )
        count += message is not None
    return count


def notify_escalation(issue: Issue, level: int, reason: str) -> int:
    subject = f"[升级 L{level}] {issue.number} {issue.title}"[:300]
    body = (
        f"问题 {issue.number} 已升级到第 {level} 级。\n"
        f"Issue {issue.number} was escalated to level {level}.\n\n"
        f"原因 / Reason: {reason}\n"
        f"客户 / Customer: {issue.customer.name}\n"
        f"解决时限 / Resolve by: {issue.resolve_due_at.isoformat()}\n\n{_link(issue)}\n"
    )
    return _send(
        managers_for_level(issue, level), f"{ESCALATION}:{issue.id}:{level}", subject, body, issue
    )


def notify_low_rating(issue: Issue, rating: int, comment: str | None) -> int:
    subject = f"[低评分 {rating}/5] {issue.number} {issue.title}"[:300]
    body = (
        f"客户对问题 {issue.number} 的评分为 {rating}/5。\n"
        f"The customer rated issue {issue.number} {rating}/5.\n\n"
        f"{comment or ''}\n\n{_link(issue)}\n"
    )
    key = f"{LOW_RATING}:{issue.id}:{issue.reopen_count}"
    return _send(managers_for_level(issue, 1), key, subject, body, issue)


def notify_sla_warning(issue: Issue, target: str, fraction: float) -> int:
    if issue.owner is None:
        return 0
    subject = f"[SLA {int(fraction * 100)}%] {issue.number} {issue.title}"[:300]
    body = (
        f"问题 {issue.number} 的{'首次响应' if target == 'response' else '解决'}时限已用去"
        f" {int(fraction * 100)}%。\nIssue {issue.number} has used {int(fraction * 100)}% of its "
        f"{target} target.\n\n{_link(issue)}\n"
    )
    key = f"{SLA_WARNING}:{issue.id}:{target}:{issue.reopen_count}"
    return _send([issue.owner], key, subject, body, issue)
