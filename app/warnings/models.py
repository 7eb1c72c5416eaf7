"""A warning is one reason one customer is at risk, from the day the `early-warning` job first
saw it until the day it no longer holds (cleared). At most one active warning per customer and
reason, enforced by a partial unique index, so a repeated run cannot raise it twice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, check_in, utcnow
from app.extensions import db

REASONS = (
    "contract_expiring",
    "falling_ratings",
    "issue_burst",
    "escalations",
    "volume_drop",
    "silence",
)


class CustomerWarning(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "customer_warnings"
    __table_args__ = (
        sa.CheckConstraint(check_in("reason", REASONS), name="reason_valid"),
        sa.Index(
            "uq_customer_warnings_active",
            "customer_id",
            "reason",
            unique=True,
            sqlite_where=sa.text("cleared_at IS NULL"),
            postgresql_where=sa.text("cleared_at IS NULL"),
        ),
        # the watch list: an office's active warnings, by customer
        sa.Index("ix_customer_warnings_office_active", "office_id", "cleared_at", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    # the customer's office when last seen, so scoping is one indexed column
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("offices.id"))
    reason: Mapped[str] = mapped_column(sa.String(24))
    # the figures behind the reason (counts, means, dates), as last computed
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON(), default=dict)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    acknowledge_note: Mapped[str | None] = mapped_column(sa.String(500))

    acknowledged_by: Mapped[Any] = relationship("User")
