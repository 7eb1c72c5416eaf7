"""Issues (非技术问题) and everything that hangs off them.

The database backs the state model: CHECK constraints on status, priority, escalation level and
rating, and a version column so that concurrent edits fail instead of overwriting.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import TimestampMixin, UTCDateTime, check_in, utcnow
from app.extensions import db

STATUSES = ("accepted", "handling", "waiting", "escalated", "resolved", "closed", "reopened")
PRIORITIES = ("low", "normal", "high", "urgent")
DIMENSIONS = ("product", "service", "brand")
CHANNELS = (
    # passive (被动)
    "hotline",
    "service_request",
    "sales_report",
    "return",
    "web",
    # active (主动)
    "interview",
    "problem_team",
    "survey",
    "partner_interview",
    "observation",
    "market_research",
)
PASSIVE_CHANNELS = frozenset(CHANNELS[:5])
CONTACT_DIRECTIONS = ("in", "out")


class Category(db.Model):  # type: ignore[name-defined,misc]
    """Configurable issue category; each belongs to one dimension (product/service/brand)."""

    __tablename__ = "categories"
    __table_args__ = (
        sa.CheckConstraint(check_in("dimension", DIMENSIONS), name="dimension_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(sa.String(120))
    name_en: Mapped[str] = mapped_column(sa.String(120))
    dimension: Mapped[str] = mapped_column(sa.String(16))
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)


class RootCause(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "root_causes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(sa.String(120))
    name_en: Mapped[str] = mapped_column(sa.String(120))
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)


class SlaTarget(db.Model):  # type: ignore[name-defined,misc]
    """Targets in working hours. The most specific row wins: (priority, category, tier), then
    (priority, category), (priority, tier), (priority)."""

    __tablename__ = "sla_targets"
    __table_args__ = (
        sa.CheckConstraint(check_in("priority", PRIORITIES), name="priority_valid"),
        sa.CheckConstraint("response_hours > 0 AND resolve_hours > 0", name="positive"),
        sa.UniqueConstraint("priority", "category_id", "tier"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    priority: Mapped[str] = mapped_column(sa.String(16))
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id"))
    tier: Mapped[str | None] = mapped_column(sa.String(1))
    response_hours: Mapped[float] = mapped_column(sa.Float())
    resolve_hours: Mapped[float] = mapped_column(sa.Float())


class IssueCounter(db.Model):  # type: ignore[name-defined,misc]
    """Last number given per office and year; incremented in the accepting transaction."""

    __tablename__ = "issue_counters"

    office_id: Mapped[int] = mapped_column(sa.ForeignKey("offices.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)


class Issue(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "issues"
    __table_args__ = (
        sa.CheckConstraint(check_in("status", STATUSES), name="status_valid"),
        sa.CheckConstraint(check_in("priority", PRIORITIES), name="priority_valid"),
        sa.CheckConstraint(check_in("channel", CHANNELS), name="channel_valid"),
        sa.CheckConstraint("escalation_level BETWEEN 0 AND 3", name="escalation_level_range"),
        sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
        sa.CheckConstraint("status <> 'closed' OR closed_at IS NOT NULL", name="closed_has_time"),
        sa.CheckConstraint(
            "status <> 'resolved' OR resolved_at IS NOT NULL", name="resolved_has_time"
        ),
        # queues: an office's issues by status, newest first; keyset on id
        sa.Index("ix_issues_office_status_id", "office_id", "status", "id"),
        sa.Index("ix_issues_office_id_id", "office_id", "id"),
        sa.Index("ix_issues_owner_status_id", "owner_id", "status", "id"),
        sa.Index("ix_issues_customer_id_id", "customer_id", "id"),
        # the escalate job and "due soon" lists scan open issues by deadline
        sa.Index("ix_issues_status_resolve_due", "status", "resolve_due_at"),
        # reports (app.reports.queries): per office and period, by each time column
        # (covering: the columns the report queries read come with the index entries)
        sa.Index("ix_issues_office_closed", "office_id", "closed_at", "rating"),
        sa.Index(
            "ix_issues_office_resolved",
            "office_id",
            "resolved_at",
            "received_at",
            "resolve_due_at",
            "root_cause_id",
            "responsible",
        ),
        sa.Index(
            "ix_issues_office_first_response", "office_id", "first_response_at", "response_due_at"
        ),
        # improvement actions: a category's volume before and after
        sa.Index("ix_issues_category_received", "category_id", "received_at"),
        # reports: categories of the issues received in a period (covering); and an office's
        # issues by date received (the dates filter), as its leading columns
        sa.Index("ix_issues_office_received_category", "office_id", "received_at", "category_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("offices.id"))
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"))
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text(), default="")
    channel: Mapped[str] = mapped_column(sa.String(32))
    # indexed by ix_issues_category_received's leading column
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id"))
    priority: Mapped[str] = mapped_column(sa.String(16), default="normal")
    status: Mapped[str] = mapped_column(sa.String(16), default="accepted")
    escalation_level: Mapped[int] = mapped_column(default=0)
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    # SLA: the clock starts when the customer called (received_at), not when it was typed in
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    response_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolve_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # the 80 % points of the targets, precomputed with the deadlines so that the escalate
    # job finds what to warn about with an indexed comparison instead of business-time math
    response_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolve_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response_target_minutes: Mapped[int] = mapped_column()
    resolve_target_minutes: Mapped[int] = mapped_column()
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response_minutes: Mapped[int | None] = mapped_column()  # working minutes
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolve_minutes: Mapped[int | None] = mapped_column()  # working minutes, pauses excluded
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # the commitment (契约化交付): what was promised and by when
    commitment_text: Mapped[str | None] = mapped_column(sa.Text())
    commitment_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # resolve (分清责任) and close-and-rate
    resolution: Mapped[str | None] = mapped_column(sa.Text())
    root_cause_id: Mapped[int | None] = mapped_column(sa.ForeignKey("root_causes.id"))
    responsible: Mapped[str | None] = mapped_column(sa.String(120))
    rating: Mapped[int | None] = mapped_column()
    rating_comment: Mapped[str | None] = mapped_column(sa.Text())
    callback_done: Mapped[bool | None] = mapped_column()
    reopen_count: Mapped[int] = mapped_column(default=0)

    # the customer voice that raised it, when there is one
    voice_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("voices.id", ondelete="SET NULL"), index=True
    )

    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}

    customer: Mapped[Any] = relationship("Customer")
    office: Mapped[Any] = relationship("Office")
    category: Mapped[Category] = relationship()
    root_cause: Mapped[RootCause | None] = relationship()
    owner: Mapped[Any] = relationship("User", foreign_keys=[owner_id])
    created_by: Mapped[Any] = relationship("User", foreign_keys=[created_by_id])


class IssuePause(db.Model):  # type: ignore[name-defined,misc]
    """A time the issue waited on the customer; the SLA clock does not run inside it."""

    __tablename__ = "issue_pauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(
        sa.ForeignKey("issues.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(sa.Text(), default="")


class IssueNote(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "issue_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(
        sa.ForeignKey("issues.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(sa.Text())
    internal: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[Any] = relationship("User")


class IssueContact(db.Model):  # type: ignore[name-defined,misc]
    """One exchange with the customer while the issue is handled (管理过程中客户的声音)."""

    __tablename__ = "issue_contacts"
    __table_args__ = (
        sa.CheckConstraint(check_in("direction", CONTACT_DIRECTIONS), name="direction_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(
        sa.ForeignKey("issues.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    direction: Mapped[str] = mapped_column(sa.String(3))
    channel: Mapped[str] = mapped_column(sa.String(32))
    text: Mapped[str] = mapped_column(sa.Text())
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[Any] = relationship("User")


class Escalation(db.Model):  # type: ignore[name-defined,misc]
    """Escalation history. Unique (issue, level): two job runs cannot escalate twice."""

    __tablename__ = "escalations"
    __table_args__ = (
        sa.UniqueConstraint("issue_id", "level"),
        sa.CheckConstraint("level BETWEEN 1 AND 3", name="level_range"),
        sa.Index("ix_escalations_at", "at"),  # reports: escalations per period
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(sa.ForeignKey("issues.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column()
    reason: Mapped[str] = mapped_column(sa.Text())
    automatic: Mapped[bool] = mapped_column(default=False)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    actor: Mapped[Any] = relationship("User")


class Setting(db.Model):  # type: ignore[name-defined,misc]
    """Small policy settings edited by admins (e.g. what a low rating does)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    value: Mapped[Any] = mapped_column(sa.JSON())
