"""Kept report snapshots: one per (kind, scope, period), written by the scheduled jobs.

The unique constraint is what makes a snapshot exist once, whatever runs twice: two
schedulers, a repeated `flask jobs run`, a catch-up after downtime.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UTCDateTime, check_in, utcnow
from app.extensions import db

SNAPSHOT_KINDS = ("weekly", "monthly")


class ReportSnapshot(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "report_snapshots"
    __table_args__ = (
        sa.UniqueConstraint("kind", "scope_key", "period"),
        sa.CheckConstraint(check_in("kind", SNAPSHOT_KINDS), name="kind_valid"),
        sa.Index("ix_report_snapshots_scope_created", "scope_key", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    # "office:SH", "region:EAST" or "company"
    scope_key: Mapped[str] = mapped_column(sa.String(80))
    period: Mapped[str] = mapped_column(sa.String(16))  # "2026-W47" or "2026-11"
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
