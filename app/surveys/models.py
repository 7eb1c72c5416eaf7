"""Surveys (questionnaires) with their indicators and questions.

A survey belongs to a family of versions: only a draft is edited in place (no campaign sends a
draft, so it has no answers); editing an active or retired survey creates the next version, so
answers always refer to the exact questions that were asked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.contacts.models import Contact
from app.db import TimestampMixin, UTCDateTime, check_in, utcnow
from app.extensions import db

SURVEY_KINDS = ("project", "third_party")
SURVEY_STATUSES = ("draft", "active", "retired")
QUESTION_TYPES = ("rating5", "nps", "choice", "text")


class Survey(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "surveys"
    __table_args__ = (
        sa.CheckConstraint(check_in("kind", SURVEY_KINDS), name="kind_valid"),
        sa.CheckConstraint(check_in("status", SURVEY_STATUSES), name="status_valid"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
        sa.UniqueConstraint("family_id", "version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # the id of version 1; every version of one questionnaire shares it
    family_id: Mapped[int | None] = mapped_column(sa.ForeignKey("surveys.id"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    title: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16), default="draft")
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    indicators: Mapped[list[Indicator]] = relationship(
        back_populates="survey",
        cascade="all, delete-orphan",
        order_by="Indicator.position",
        lazy="selectin",
    )
    questions: Mapped[list[Question]] = relationship(
        back_populates="survey",
        cascade="all, delete-orphan",
        order_by="Question.position",
        lazy="selectin",
    )

    def weights(self) -> dict[str, float]:
        return {i.key: i.weight for i in self.indicators}


class Indicator(db.Model):  # type: ignore[name-defined,misc]
    """What satisfaction is measured by (用什么样的指标来衡量), with its weight in percent."""

    __tablename__ = "survey_indicators"
    __table_args__ = (
        sa.UniqueConstraint("survey_id", "key"),
        sa.CheckConstraint("weight > 0 AND weight <= 100", name="weight_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(sa.ForeignKey("surveys.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(40))
    name_zh: Mapped[str] = mapped_column(sa.String(120))
    name_en: Mapped[str] = mapped_column(sa.String(120))
    weight: Mapped[float] = mapped_column(sa.Float())
    position: Mapped[int] = mapped_column(default=0)

    survey: Mapped[Survey] = relationship(back_populates="indicators")


class Question(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "survey_questions"
    __table_args__ = (
        sa.UniqueConstraint("survey_id", "key"),
        sa.CheckConstraint(check_in("type", QUESTION_TYPES), name="type_valid"),
        sa.CheckConstraint(
            "(type = 'rating5') = (indicator_id IS NOT NULL)", name="rating5_has_indicator"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(sa.ForeignKey("surveys.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(40))
    type: Mapped[str] = mapped_column(sa.String(16))
    text_zh: Mapped[str] = mapped_column(sa.String(1000))
    text_en: Mapped[str] = mapped_column(sa.String(1000))
    indicator_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("survey_indicators.id", ondelete="CASCADE"), index=True
    )
    options: Mapped[list[Any]] = mapped_column(sa.JSON(), default=list)
    required: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)

    survey: Mapped[Survey] = relationship(back_populates="questions")
    indicator: Mapped[Indicator | None] = relationship()


# --- campaigns and invitations -----------------------------------------------------------------

CAMPAIGN_STATUSES = ("open", "closed")
EVENTS = ("milestone_done", "issue_resolved")
PURPOSES = ("survey", "issue_rating")


class Campaign(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """A scheduled sending of a survey to an audience: once at `send_at`, on each `cron`
    occurrence, or on each event (a milestone done, an issue resolved); up to two reminders
    `remind_after_days` apart; no answers after `close_at`."""

    __tablename__ = "campaigns"
    __table_args__ = (
        sa.CheckConstraint(check_in("status", CAMPAIGN_STATUSES), name="status_valid"),
        sa.CheckConstraint("reminders BETWEEN 0 AND 2", name="reminders_range"),
        sa.CheckConstraint(
            "remind_after_days IS NULL OR remind_after_days BETWEEN 1 AND 60",
            name="remind_after_days_range",
        ),
        sa.CheckConstraint(
            "event IS NULL OR event IN ('milestone_done', 'issue_resolved')", name="event_valid"
        ),
        sa.Index("ix_campaigns_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(sa.ForeignKey("surveys.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # the office the campaign is about (None: company-wide); scoping of its results
    office_id: Mapped[int | None] = mapped_column(sa.ForeignKey("offices.id"), index=True)
    # {"office", "region", "tier", "project", "customer_ids", "contact_ids"} (all optional)
    audience: Mapped[dict[str, Any]] = mapped_column(sa.JSON(), default=dict)
    event: Mapped[str | None] = mapped_column(sa.String(20))
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cron: Mapped[str | None] = mapped_column(sa.String(100))
    remind_after_days: Mapped[int | None] = mapped_column()
    reminders: Mapped[int] = mapped_column(default=0)
    close_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(sa.String(8), default="open")
    # the last wave sent ("once", a cron occurrence) and how far events have been read
    last_wave: Mapped[str | None] = mapped_column(sa.String(40))
    last_wave_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    events_seen_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    survey: Mapped[Survey] = relationship()


class Invitation(db.Model):  # type: ignore[name-defined,misc]
    """One person's link. One per contact per campaign wave (`wave`: "once", a cron
    occurrence, "milestone:<id>", "issue:<id>"), so a repeated run invites nobody twice."""

    __tablename__ = "invitations"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "contact_id", "wave"),
        # one rating link per issue and resolution ("rating:<n>", n = times reopened)
        sa.UniqueConstraint("issue_id", "wave"),
        sa.CheckConstraint(check_in("purpose", PURPOSES), name="purpose_valid"),
        sa.CheckConstraint(
            "(purpose = 'survey' AND campaign_id IS NOT NULL AND survey_id IS NOT NULL)"
            " OR (purpose = 'issue_rating' AND issue_id IS NOT NULL)",
            name="target_bound",
        ),
        sa.Index("ix_invitations_contact_sent", "contact_id", "sent_at"),
        sa.Index("ix_invitations_reminders", "campaign_id", "responded_at", "reminders_sent"),
        # the reach of a questionnaire (or of the rating links, survey_id NULL) by period
        # (app.surveys.measurement)
        sa.Index("ix_invitations_survey_sent", "survey_id", "sent_at", "office_id"),
        sa.CheckConstraint(
            "bounce_kind IS NULL OR bounce_kind IN ('hard', 'soft')", name="bounce_kind_valid"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(sa.String(16), default="survey")
    campaign_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("campaigns.id", ondelete="CASCADE")
    )
    survey_id: Mapped[int | None] = mapped_column(sa.ForeignKey("surveys.id"))
    issue_id: Mapped[int | None] = mapped_column(sa.ForeignKey("issues.id"), index=True)
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"))
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("offices.id"), index=True)
    wave: Mapped[str] = mapped_column(sa.String(40), default="once")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reminders_sent: Mapped[int] = mapped_column(default=0)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # when one of its e-mails (the invitation or a reminder) was first handed to the mail
    # server; None while it is queued or retrying, or when the outbox gave up (app.surveys.bounces)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # a late bounce of one of its e-mails (app.surveys.bounces): not delivered, unless answered
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    bounce_kind: Mapped[str | None] = mapped_column(sa.String(4))
    # a rating link taken back before it was used: its issue was reopened (app.surveys.ratings);
    # the link is then as dead as an expired one, and the next resolution gets a link of its own
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    campaign: Mapped[Campaign | None] = relationship()
    contact: Mapped[Contact] = relationship()


class InvitationToken(db.Model):  # type: ignore[name-defined,misc]
    """The sha256 of a link's secret (256 random bits). Each e-mail (the invitation and each
    reminder) carries a fresh secret; all of an invitation's links lead to the same answer."""

    __tablename__ = "invitation_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invitations.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CampaignSkip(db.Model):  # type: ignore[name-defined,misc]
    """A contact of the audience who was not invited, and why (surveyed recently, no e-mail)."""

    __tablename__ = "campaign_skips"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "contact_id", "wave"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"))
    wave: Mapped[str] = mapped_column(sa.String(40))
    reason: Mapped[str] = mapped_column(sa.String(40))
    detail: Mapped[str] = mapped_column(sa.String(200), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    contact: Mapped[Contact] = relationship()


# --- responses ---------------------------------------------------------------------------------


class Response(db.Model):  # type: ignore[name-defined,misc]
    """One submitted questionnaire. Unique per invitation: a second submit, a double click or
    a retry finds it there and changes nothing."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        sa.Index("ix_survey_responses_campaign_id_id", "campaign_id", "id"),
        # a customer's answers (customer page) and a contact's later answers (closed loop)
        sa.Index("ix_survey_responses_contact_submitted", "contact_id", "submitted_at"),
        # measurement by period across campaigns (app.surveys.measurement)
        sa.Index("ix_survey_responses_survey_submitted", "survey_id", "submitted_at", "office_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invitations.id", ondelete="CASCADE"), unique=True
    )
    campaign_id: Mapped[int | None] = mapped_column(sa.ForeignKey("campaigns.id"))
    survey_id: Mapped[int] = mapped_column(sa.ForeignKey("surveys.id"))
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"))
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("offices.id"), index=True)
    language: Mapped[str] = mapped_column(sa.String(2), default="zh")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # the issue a dissatisfied answer opened (closed loop)
    issue_id: Mapped[int | None] = mapped_column(sa.ForeignKey("issues.id"), index=True)

    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan", order_by="Answer.id"
    )


class Answer(db.Model):  # type: ignore[name-defined,misc]
    """One answer; numbers in `value`, text in `text`. Campaign, type and indicator are copied
    from the question so that results are one GROUP BY on an index."""

    __tablename__ = "survey_answers"
    __table_args__ = (
        sa.UniqueConstraint("response_id", "question_id"),
        sa.CheckConstraint(
            "(question_type <> 'rating5' OR value BETWEEN 1 AND 5)"
            " AND (question_type <> 'nps' OR value BETWEEN 0 AND 10)",
            name="value_range",
        ),
        sa.Index("ix_survey_answers_campaign_type_value", "campaign_id", "question_type", "value"),
        sa.Index("ix_survey_answers_campaign_indicator", "campaign_id", "indicator_id", "value"),
        # measurement across campaigns reaches answers through their response: covering, so the
        # counts never read the table rows
        sa.Index(
            "ix_survey_answers_response_measure",
            "response_id",
            "question_type",
            "indicator_id",
            "value",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        sa.ForeignKey("survey_responses.id", ondelete="CASCADE")
    )
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("survey_questions.id"))
    campaign_id: Mapped[int | None] = mapped_column(sa.ForeignKey("campaigns.id"))
    question_type: Mapped[str] = mapped_column(sa.String(16))
    indicator_id: Mapped[int | None] = mapped_column(sa.ForeignKey("survey_indicators.id"))
    value: Mapped[int | None] = mapped_column()
    text: Mapped[str | None] = mapped_column(sa.Text())

    response: Mapped[Response] = relationship(back_populates="answers")


class Draft(db.Model):  # type: ignore[name-defined,misc]
    """The answers a customer has given so far on the pages of the questionnaire, kept against
    the invitation (not a response: nothing is counted until the last page is sent). One per
    invitation; written page by page, deleted in the transaction that records the response."""

    __tablename__ = "survey_drafts"

    invitation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invitations.id", ondelete="CASCADE"), primary_key=True
    )
    # question key -> the answer as the form posts it (a number as text, an option, a text)
    answers: Mapped[dict[str, Any]] = mapped_column(sa.JSON(), default=dict)
    page: Mapped[int] = mapped_column(default=1)  # where the customer continues
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class PublicRateCounter(db.Model):  # type: ignore[name-defined,misc]
    """Requests per client and window on the public survey pages (not the login throttle's)."""

    __tablename__ = "survey_rate_counters"

    key: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


class ThirdPartyAnswer(db.Model):  # type: ignore[name-defined,misc]
    """An answer from an outside agency's results file (第三方满意度调查): `company` is None for
    our own customers' answers, or the competitor the agency measured. Unique per campaign,
    row key and question, so importing the same file again changes nothing."""

    __tablename__ = "third_party_answers"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "row_key", "question_id"),
        sa.Index("ix_third_party_answers_campaign_type", "campaign_id", "company", "question_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    row_key: Mapped[str] = mapped_column(sa.String(100))
    company: Mapped[str | None] = mapped_column(sa.String(120))
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("survey_questions.id"))
    question_type: Mapped[str] = mapped_column(sa.String(16))
    indicator_id: Mapped[int | None] = mapped_column(sa.ForeignKey("survey_indicators.id"))
    value: Mapped[int | None] = mapped_column()
    text: Mapped[str | None] = mapped_column(sa.Text())


def delivered() -> sa.ColumnElement[bool]:
    """An invitation counted as delivered, the denominator of the response rate: one of its
    e-mails was handed to the mail server (not merely queued: `sent_at` is set when the e-mail
    is queued, and an e-mail still retrying or given up on reached nobody), no late bounce came
    back, and it was not withdrawn (a rating link whose issue was reopened asks for nothing any
    more). An answer counts whatever the rest says: it proves a link arrived, and keeps the rate
    at most 100 %."""
    return sa.or_(
        Invitation.responded_at.is_not(None),
        sa.and_(
            Invitation.delivered_at.is_not(None),
            Invitation.bounced_at.is_(None),
            Invitation.withdrawn_at.is_(None),
        ),
    )
