"""Surveys (questionnaires) with their indicators and questions.

A survey belongs to a family of versions: only a draft is edited in place (no campaign sends a
draft, so it has no answers); editing an active or retired survey creates the next version, so
answers always refer to the exact questions that were asked.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import TimestampMixin, check_in
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
