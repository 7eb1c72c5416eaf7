"""Survey jobs: send the due invitations, remind, close campaigns. Each does what is due and
not yet done as of `now` (see app.scheduler.registry), so a double run or a restart never sends
twice and a run after downtime catches up."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from app.core import audit
from app.extensions import db
from app.scheduler.registry import daily, every_n_minutes, register_job
from app.surveys import (
    drafts,
    events,  # noqa: F401  (the milestone receiver, for job-only processes)
    ratelimit,
)
from app.surveys.bounce_mailbox import BounceMailbox, read_mailbox
from app.surveys.campaigns import is_open
from app.surveys.invitations import catch_up_events, close_due, due_wave, send_reminders, send_wave
from app.surveys.models import Campaign
from app.surveys.ratings import send_rating_links

log = logging.getLogger(__name__)


@register_job(
    "send-invitations",
    cron={"minute": "*/5"},
    period=every_n_minutes(5),
    description="Send survey invitations that are due: one-off, recurring and event-triggered.",
)
def send_invitations(now: datetime) -> dict[str, Any]:
    timezone = current_app.config["TIMEZONE"]
    counts: dict[str, Any] = {"campaigns": 0, "invited": 0, "skipped": 0, "errors": 0}
    campaigns = db.session.scalars(
        sa.select(Campaign).where(Campaign.status == "open").order_by(Campaign.id)
    ).all()
    for campaign in campaigns:
        if not is_open(campaign, now):
            continue
        try:
            with db.session.begin_nested():
                if campaign.event:
                    result = catch_up_events(campaign, now)
                    wave = "events"
                else:
                    due = due_wave(campaign, now, timezone)
                    if due is None:
                        continue
                    wave = due[0]
                    result = send_wave(campaign, wave, due[1], now)
                if result.invited or result.skipped or wave != "events":
                    audit.record(
                        actor_id=None,
                        entity_type="campaign",
                        entity_id=campaign.id,
                        action="send",
                        changes={"wave": wave, **result.as_dict()},
                        office_id=campaign.office_id,
                        at=now,
                    )
        except Exception:  # one broken campaign must not stop the others
            counts["errors"] += 1
            log.exception("send-invitations: campaign %s failed", campaign.id)
            continue
        counts["campaigns"] += 1
        counts["invited"] += result.invited
        counts["skipped"] += sum(result.skipped.values())
    return counts


@register_job(
    "send-rating-links",
    cron={"minute": "*/5"},
    period=every_n_minutes(5),
    description="E-mail the customer a link to rate each resolved issue (close and rate).",
)
def send_issue_rating_links(now: datetime) -> dict[str, Any]:
    return dict(send_rating_links(now))


@register_job(
    "send-reminders",
    cron={"minute": "15"},
    period=every_n_minutes(60),
    description="Remind contacts who have not answered (up to two reminders).",
)
def send_survey_reminders(now: datetime) -> dict[str, Any]:
    return dict(send_reminders(now))


@register_job(
    "close-campaigns",
    cron={"minute": "*/5"},
    period=every_n_minutes(5),
    description="Close campaigns whose close date has passed; their links stop working.",
)
def close_campaigns(now: datetime) -> dict[str, Any]:
    closed = close_due(now)
    for campaign in closed:
        audit.record(
            actor_id=None,
            entity_type="campaign",
            entity_id=campaign.id,
            action="close",
            changes={"status": ["open", "closed"]},
            office_id=campaign.office_id,
            at=now,
        )
    return {"closed": len(closed)}


@register_job(
    "read-bounces",
    cron={"minute": "*/10"},
    period=every_n_minutes(10),
    description=(
        "Read late bounces (delivery-status notifications) from BOUNCE_MAILBOX_URL over IMAP"
        " and mark the invitations they are about; nothing to do when it is not set."
    ),
)
def read_bounces(now: datetime) -> dict[str, Any]:
    url = current_app.config.get("BOUNCE_MAILBOX_URL")
    if not url:
        return {"skipped": "BOUNCE_MAILBOX_URL not set"}
    return dict(read_mailbox(BounceMailbox.from_url(url), now))


@register_job(
    "purge-survey-counters",
    cron={"hour": "3", "minute": "47"},
    period=daily,
    description=(
        "Delete the public survey pages' rate-limit counters after a day, and the drafts of"
        " links that can no longer be answered."
    ),
)
def purge_survey_counters(now: datetime) -> dict[str, Any]:
    return {"counters": ratelimit.purge(now - timedelta(days=1)), "drafts": drafts.purge(now)}
