"""Inviting contacts: waves of a campaign, event-triggered invitations, reminders, closing.

Each invitation is created, its link's token hashed and stored, its e-mail queued in the outbox
and `sent_at` set in one transaction, so a double run or a restart never sends twice: the
invitation is unique per (campaign, contact, wave), a reminder is claimed by a compare-and-set on
`reminders_sent`, and each outbox message has its own key. The contact-frequency rule is a
compare-and-set on `contacts.last_surveyed_at`, so two campaigns cannot both survey one person
within the interval, whichever runs first.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.contacts.models import Contact, Milestone, Project
from app.core import audit
from app.core.errors import ValidationFailed
from app.core.outbox_service import enqueue_email
from app.customers.models import Customer
from app.extensions import db
from app.issues.models import Issue
from app.surveys import closed_loop
from app.surveys.campaigns import (
    audience_filter,
    check_cron,
    invitation_expiry,
    is_open,
    reach_filter,
)
from app.surveys.models import Campaign, CampaignSkip, Invitation, InvitationToken

TOKEN_BYTES = 32  # 256 random bits per link
EVENT_LOOKBACK = timedelta(hours=1)  # events committed late by a slow transaction
BATCH = 500


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(invitation: Invitation) -> str:
    """A fresh link secret for `invitation`; only its sha256 is stored."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    db.session.add(InvitationToken(invitation_id=invitation.id, token_hash=token_digest(token)))
    return token


def link(token: str) -> str:
    return f"{current_app.config['BASE_URL']}/s/{token}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _message(
    campaign: Campaign, invitation: Invitation, token: str, reminder: int
) -> tuple[str, str]:
    title = _one_line(campaign.survey.title)
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    until = invitation.expires_at.astimezone(zone).strftime("%Y-%m-%d")
    name = invitation.contact.name
    if invitation.contact.language == "en":
        subject = f"{'Reminder: ' if reminder else ''}Your opinion on our service: {title}"
        body = (
            f"Dear {name},\n\nwe would value your opinion. The survey takes a few minutes:\n\n"
            f"{link(token)}\n\nThe link is personal and works until {until}.\n"
        )
    else:
        subject = f"{'【提醒】' if reminder else ''}【客户满意度调查】{title}"
        body = (
            f"尊敬的{name}：\n\n诚邀您对我们的服务进行评价，只需几分钟：\n\n{link(token)}\n\n"
            f"此链接仅供您本人使用，有效期至 {until}。\n"
        )
    return subject, body


@dataclass
class WaveResult:
    invited: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        return {"invited": self.invited, "skipped": dict(self.skipped)}


def _skip(campaign: Campaign, contact_id: int, wave: str, reason: str, detail: str) -> None:
    # a contact already listed for this wave keeps its first reason
    with contextlib.suppress(IntegrityError), db.session.begin_nested():
        db.session.add(
            CampaignSkip(
                campaign_id=campaign.id,
                contact_id=contact_id,
                wave=wave,
                reason=reason,
                detail=detail[:200],
            )
        )


def _claim_contact(contact_id: int, now: datetime) -> bool:
    """Take the contact for a survey unless one was sent within the interval."""
    days = int(current_app.config.get("SURVEY_CONTACT_INTERVAL_DAYS", 30))
    result = db.session.execute(
        sa.update(Contact)
        .where(
            Contact.id == contact_id,
            sa.or_(
                Contact.last_surveyed_at.is_(None),
                Contact.last_surveyed_at <= now - timedelta(days=days),
            ),
        )
        .values(last_surveyed_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


# why a contact of the audience was not invited (CampaignSkip.reason), in the order checked
SKIP_REASONS = ("inactive", "no_email", "surveyed_recently", "invalid_email")


def _unreachable(contact: Contact) -> str | None:
    """A reason the contact cannot be invited at all, before the frequency rule is asked (so
    the rule's clock is not taken for somebody nobody writes to)."""
    if not contact.active:
        return "inactive"
    if not (contact.email or "").strip():
        return "no_email"
    return None


def invite(campaign: Campaign, contact: Contact, office_id: int, wave: str, now: datetime) -> str:
    """Invite one contact for one wave. Returns "invited", "already" or a skip reason (one of
    SKIP_REASONS, also listed on the campaign)."""
    exists = db.session.scalar(
        sa.select(Invitation.id).where(
            Invitation.campaign_id == campaign.id,
            Invitation.contact_id == contact.id,
            Invitation.wave == wave,
        )
    )
    if exists is not None:
        return "already"
    unreachable = _unreachable(contact)
    if unreachable is not None:
        # listed once per wave: the event catch-up reads the same event on several runs
        listed = db.session.scalar(
            sa.select(CampaignSkip.id).where(
                CampaignSkip.campaign_id == campaign.id,
                CampaignSkip.contact_id == contact.id,
                CampaignSkip.wave == wave,
            )
        )
        if listed is not None:
            return "already"
        _skip(campaign, contact.id, wave, unreachable, "")
        return unreachable
    try:
        with db.session.begin_nested():
            if not _claim_contact(contact.id, now):
                raise _Skipped("surveyed_recently", _last_survey(contact.id))
            invitation = Invitation(
                purpose="survey",
                campaign_id=campaign.id,
                survey_id=campaign.survey_id,
                contact_id=contact.id,
                office_id=office_id,
                wave=wave,
                sent_at=now,
                expires_at=invitation_expiry(campaign, now),
            )
            db.session.add(invitation)
            db.session.flush()
            token = new_token(invitation)
            subject, body = _message(campaign, invitation, token, 0)
            try:
                enqueue_email(
                    key=f"invitation:{invitation.id}:0",
                    to=contact.email or "",
                    subject=subject,
                    body=body,
                    entity_type="campaign",
                    entity_id=campaign.id,
                )
            except ValidationFailed as exc:
                raise _Skipped("invalid_email", "; ".join(exc.fields.values())) from exc
    except _Skipped as skipped:
        _skip(campaign, contact.id, wave, skipped.reason, skipped.detail)
        return skipped.reason
    except IntegrityError:
        return "already"  # a concurrent run invited this contact for this wave first
    return "invited"


class _Skipped(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(reason)
        self.reason, self.detail = reason, detail


def _last_survey(contact_id: int) -> str:
    last = db.session.scalar(sa.select(Contact.last_surveyed_at).where(Contact.id == contact_id))
    return f"last surveyed {last.date().isoformat()}" if last else ""


def invite_audience(
    campaign: Campaign,
    wave: str,
    now: datetime,
    extra: sa.ColumnElement[bool] | None = None,
    *,
    also: sa.ColumnElement[bool] | None = None,
) -> WaveResult:
    """Invite every contact of the audience (narrowed by `extra`) for `wave`, in id batches;
    `also` adds contacts outside the audience (re-measurement). Whoever cannot be invited is
    listed as skipped with the reason, none silently left out."""
    result = WaveResult()
    last_id = 0
    condition = audience_filter(campaign)
    if extra is not None:
        condition = sa.and_(condition, extra)
    if also is not None:
        condition = sa.or_(condition, also)
    while True:
        rows = db.session.execute(
            sa.select(Contact, Customer.office_id)
            .join(Customer, Customer.id == Contact.customer_id)
            .where(condition, Contact.id > last_id)
            .order_by(Contact.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for contact, office_id in rows:
            outcome = invite(campaign, contact, office_id, wave, now)
            if outcome == "invited":
                result.invited += 1
            elif outcome != "already":
                result.skip(outcome)
        last_id = rows[-1][0].id
    return result


def due_wave(campaign: Campaign, now: datetime, timezone: str) -> tuple[str, datetime] | None:
    """The wave to send now: the one-off at send_at, or the latest cron occurrence not sent
    yet (after downtime, missed occurrences collapse into the latest: nobody gets three)."""
    if campaign.event or not is_open(campaign, now):
        return None
    if campaign.cron:
        trigger = check_cron(campaign.cron, timezone)
        if trigger is None:
            return None
        start = campaign.last_wave_at or campaign.created_at
        fire = trigger.get_next_fire_time(None, start + timedelta(seconds=1))
        latest = None
        while fire is not None and fire <= now:
            latest = fire
            fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
        if latest is None:
            return None
        return latest.astimezone(now.tzinfo).strftime("%Y-%m-%dT%H:%M"), latest
    if campaign.last_wave is None and campaign.send_at is not None and campaign.send_at <= now:
        return "once", campaign.send_at
    return None


def send_wave(campaign: Campaign, wave: str, at: datetime, now: datetime) -> WaveResult:
    """Invite the audience, and the contacts marked for re-measurement by this survey's closed
    loop (their issue closed since their dissatisfied answer; app.surveys.closed_loop) within
    the offices the campaign is about."""
    remeasure = closed_loop.awaiting_remeasure(closed_loop.family_of(campaign.survey))
    also = sa.and_(Contact.id.in_(remeasure), reach_filter(campaign))
    result = invite_audience(campaign, wave, now, also=also)
    campaign.last_wave, campaign.last_wave_at = wave, at
    return result


# --- events ------------------------------------------------------------------------------------


def _event_campaigns(event: str, now: datetime) -> list[Campaign]:
    return [
        c
        for c in db.session.scalars(
            sa.select(Campaign).where(Campaign.status == "open", Campaign.event == event)
        )
        if is_open(c, now)
    ]


def invite_for_milestone(campaign: Campaign, milestone: Milestone, now: datetime) -> WaveResult:
    """The active contacts of the milestone's customer who are in the campaign's audience."""
    if milestone.done_at is None or milestone.done_at < campaign.created_at:
        return WaveResult()
    customer = sa.select(Project.customer_id).where(Project.id == milestone.project_id)
    return invite_audience(
        campaign, f"milestone:{milestone.id}", now, extra=Contact.customer_id.in_(customer)
    )


def invite_for_issue(campaign: Campaign, issue: Issue, now: datetime) -> WaveResult:
    if issue.resolved_at is None or issue.resolved_at < campaign.created_at:
        return WaveResult()
    return invite_audience(
        campaign, f"issue:{issue.id}", now, extra=Contact.customer_id == issue.customer_id
    )


def on_milestone_done(milestone: Milestone, now: datetime) -> int:
    """Receiver of `milestone_done`: invite at once, in the transaction that marked it."""
    invited = 0
    for campaign in _event_campaigns("milestone_done", now):
        invited += invite_for_milestone(campaign, milestone, now).invited
    return invited


def catch_up_events(campaign: Campaign, now: datetime) -> WaveResult:
    """Events since the campaign last looked (less a margin for late commits): milestones
    done and issues resolved, so nothing is missed after downtime; repeats are no-ops."""
    total = WaveResult()
    since = (campaign.events_seen_until or campaign.created_at) - EVENT_LOOKBACK
    since = max(since, campaign.created_at)
    if campaign.event == "milestone_done":
        rows = db.session.scalars(
            sa.select(Milestone)
            .where(Milestone.done_at >= since, Milestone.done_at <= now)
            .order_by(Milestone.id)
        )
        results = [invite_for_milestone(campaign, m, now) for m in rows]
    else:
        rows_i = db.session.scalars(
            sa.select(Issue)
            .where(
                Issue.status.in_(("resolved", "closed")),
                Issue.resolved_at >= since,
                Issue.resolved_at <= now,
            )
            .order_by(Issue.id)
        )
        results = [invite_for_issue(campaign, i, now) for i in rows_i]
    for r in results:
        total.invited += r.invited
        for reason, n in r.skipped.items():
            total.skipped[reason] = total.skipped.get(reason, 0) + n
    campaign.events_seen_until = now
    return total


# --- reminders and closing ---------------------------------------------------------------------


def send_reminders(now: datetime) -> dict[str, int]:
    """Remind who has not answered, `remind_after_days` after the invitation (and again after
    twice that), while the campaign is open and the link valid."""
    counts = {"reminded": 0, "taken": 0, "failed": 0}
    campaigns = [
        c
        for c in db.session.scalars(
            sa.select(Campaign).where(Campaign.status == "open", Campaign.reminders > 0)
        )
        if is_open(c, now)
    ]
    for campaign in campaigns:
        days = timedelta(days=campaign.remind_after_days or 0)
        due = db.session.scalars(
            sa.select(Invitation)
            .where(
                Invitation.campaign_id == campaign.id,
                Invitation.responded_at.is_(None),
                Invitation.sent_at.is_not(None),
                Invitation.reminders_sent < campaign.reminders,
                Invitation.expires_at > now,
                # a hard bounce: the address does not work (app.surveys.bounces)
                sa.or_(Invitation.bounce_kind.is_(None), Invitation.bounce_kind != "hard"),
            )
            .order_by(Invitation.id)
        ).all()
        for invitation in due:
            number = invitation.reminders_sent + 1
            if invitation.sent_at is None or invitation.sent_at + days * number > now:
                continue
            counts[_remind(campaign, invitation, number)] += 1
    return counts


def _remind(campaign: Campaign, invitation: Invitation, number: int) -> str:
    claimed = db.session.execute(
        sa.update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.reminders_sent == number - 1)
        .values(reminders_sent=number)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(claimed, "rowcount", 0) or 0) != 1:
        return "taken"
    db.session.refresh(invitation)
    token = new_token(invitation)
    subject, body = _message(campaign, invitation, token, number)
    try:
        with db.session.begin_nested():
            enqueue_email(
                key=f"invitation:{invitation.id}:{number}",
                to=invitation.contact.email or "",
                subject=subject,
                body=body,
                entity_type="campaign",
                entity_id=campaign.id,
            )
    except ValidationFailed:
        return "failed"
    audit.record(
        actor_id=None,
        entity_type="invitation",
        entity_id=invitation.id,
        action="remind",
        changes={"reminders_sent": [number - 1, number]},
        office_id=invitation.office_id,
    )
    return "reminded"


def close_due(now: datetime) -> list[Campaign]:
    """Open campaigns whose close date has passed."""
    due = list(
        db.session.scalars(
            sa.select(Campaign).where(
                Campaign.status == "open",
                Campaign.close_at.is_not(None),
                Campaign.close_at <= now,
            )
        )
    )
    for campaign in due:
        campaign.status = "closed"
        campaign.closed_at = now
    return due
