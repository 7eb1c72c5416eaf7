"""Contacts of a customer, its projects and their milestones."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.customers.models import Customer
from app.db import TimestampMixin, UTCDateTime, check_in
from app.extensions import db
from app.org.models import Office

LANGUAGES = ("zh", "en")


class Contact(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """A person at a customer; the one a survey invitation goes to."""

    __tablename__ = "contacts"
    __table_args__ = (
        sa.CheckConstraint(check_in("language", LANGUAGES), name="language_valid"),
        sa.Index("ix_contacts_customer_id_id", "customer_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(120))
    role: Mapped[str | None] = mapped_column(sa.String(120))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(64))
    language: Mapped[str] = mapped_column(sa.String(2), default="zh")
    active: Mapped[bool] = mapped_column(default=True)
    # when a survey invitation last went to this person: the contact-frequency rule claims it
    # with a compare-and-set, so two campaigns cannot both survey someone within the interval
    last_surveyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    customer: Mapped[Customer] = relationship()


class Project(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """A customer's project, delivered by an office."""

    __tablename__ = "projects"
    __table_args__ = (sa.Index("ix_projects_customer_id_id", "customer_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("offices.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))

    office: Mapped[Office] = relationship()
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="project",
        cascade="all, delete-orphan",
        order_by="(Milestone.due_date, Milestone.id)",
        lazy="selectin",
    )


class Milestone(db.Model):  # type: ignore[name-defined,misc]
    """A delivery step; marking it done (once) is what triggers project-based surveys."""

    __tablename__ = "milestones"
    __table_args__ = (
        sa.CheckConstraint("(done_at IS NULL) = (done_on IS NULL)", name="done_has_date_and_time"),
        # the send-invitations job finds milestones done since a campaign started
        sa.Index("ix_milestones_done_at", "done_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        sa.ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    due_date: Mapped[date | None] = mapped_column(sa.Date())
    done_on: Mapped[date | None] = mapped_column(sa.Date())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    project: Mapped[Project] = relationship(back_populates="milestones")
