"""Improvement actions and their links to the issues and voices that caused them.

An action belongs to a place: an office, a region, or the company (neither), and is seen by
whoever's scope covers that place. Its effect metric is measured over the same place.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import TimestampMixin, UTCDateTime, check_in, utcnow
from app.extensions import db

DIMENSIONS = ("product", "service", "brand")
STATUSES = ("planned", "in_progress", "done", "verified")
OPEN_STATUSES = ("planned", "in_progress")
METRICS = ("category_volume", "csat", "indicator_score")
# what caused an action: an issue, a voice, a survey campaign (with the indicator it is about,
# if any) or one survey response
LINK_TYPES = ("issue", "voice", "campaign", "response")


class ImprovementAction(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "improvement_actions"
    __table_args__ = (
        sa.CheckConstraint(check_in("dimension", DIMENSIONS), name="dimension_valid"),
        sa.CheckConstraint(check_in("status", STATUSES), name="status_valid"),
        sa.CheckConstraint(check_in("metric", METRICS), name="metric_valid"),
        sa.CheckConstraint(
            "metric <> 'category_volume' OR metric_category_id IS NOT NULL",
            name="volume_has_category",
        ),
        sa.CheckConstraint(
            "metric <> 'indicator_score' OR "
            "(metric_survey_id IS NOT NULL AND metric_indicator IS NOT NULL)",
            name="score_has_indicator",
        ),
        sa.CheckConstraint("office_id IS NULL OR region_id IS NULL", name="one_place"),
        sa.CheckConstraint(
            "status NOT IN ('done', 'verified') OR done_at IS NOT NULL", name="done_has_time"
        ),
        # lists: newest first within a place; the reports: open actions by due date
        sa.Index("ix_improvement_actions_office_id", "office_id", "id"),
        sa.Index("ix_improvement_actions_region_id", "region_id", "id"),
        sa.Index("ix_improvement_actions_status_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text(), default="")
    dimension: Mapped[str] = mapped_column(sa.String(16))
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    due_on: Mapped[date] = mapped_column(sa.Date())
    status: Mapped[str] = mapped_column(sa.String(16), default="planned")
    office_id: Mapped[int | None] = mapped_column(sa.ForeignKey("offices.id"))
    region_id: Mapped[int | None] = mapped_column(sa.ForeignKey("regions.id"))
    # the effect check: a metric over the action's place, before it and after it was done
    metric: Mapped[str] = mapped_column(sa.String(24))
    metric_category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id"))
    # indicator score: the questionnaire (its family id: every version) and the indicator's key
    metric_survey_id: Mapped[int | None] = mapped_column(sa.ForeignKey("surveys.id"))
    metric_indicator: Mapped[str | None] = mapped_column(sa.String(40))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}

    owner: Mapped[Any] = relationship("User", foreign_keys=[owner_id])
    office: Mapped[Any] = relationship("Office")
    region: Mapped[Any] = relationship("Region")
    metric_category: Mapped[Any] = relationship("Category")
    metric_survey: Mapped[Any] = relationship("Survey")


class ActionLink(db.Model):  # type: ignore[name-defined,misc]
    """An issue, a voice, a survey campaign (and indicator) or a survey response that caused
    the action."""

    __tablename__ = "improvement_action_links"
    __table_args__ = (
        sa.UniqueConstraint("action_id", "target_type", "target_id"),
        sa.CheckConstraint(check_in("target_type", LINK_TYPES), name="target_type_valid"),
        sa.Index("ix_improvement_action_links_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(
        sa.ForeignKey("improvement_actions.id", ondelete="CASCADE")
    )
    target_type: Mapped[str] = mapped_column(sa.String(8))
    target_id: Mapped[int] = mapped_column()
    # for a campaign: the indicator (key) whose result caused the action, if one
    indicator: Mapped[str | None] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
