"""A claim on (job, period): the unique constraint is what makes a period run once, on SQLite
and PostgreSQL alike, across processes and hosts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UTCDateTime, check_in, utcnow
from app.extensions import db

JOB_RUN_STATUSES = ("running", "done", "failed")


class JobRun(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "job_runs"
    __table_args__ = (
        sa.UniqueConstraint("job_name", "period_key"),
        sa.CheckConstraint(check_in("status", JOB_RUN_STATUSES), name="status_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_name: Mapped[str] = mapped_column(sa.String(64))
    period_key: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(16), default="running")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result: Mapped[dict[str, Any]] = mapped_column(sa.JSON(), default=dict)
    error: Mapped[str | None] = mapped_column(sa.Text())
