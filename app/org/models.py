"""Company → region → representative office. The company is the installation itself."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import TimestampMixin
from app.extensions import db


class Region(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))

    offices: Mapped[list[Office]] = relationship(back_populates="region", order_by="Office.code")


class Office(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    """A representative office (代表处): owns customers, issues, voices and surveys."""

    __tablename__ = "offices"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("regions.id"), index=True)
    timezone: Mapped[str] = mapped_column(sa.String(64), default="Asia/Shanghai")
    # working hours for SLA arithmetic, "HH:MM" in the office's time zone
    work_start: Mapped[str] = mapped_column(sa.String(5), default="09:00", server_default="09:00")
    work_end: Mapped[str] = mapped_column(sa.String(5), default="18:00", server_default="18:00")
    # admins edit the name, zone and hours: a stale edit is a 409, not a silent overwrite
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}

    region: Mapped[Region] = relationship(back_populates="offices")
