"""Customers and their phone numbers (normalised for search as the agent types)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import TimestampMixin, check_in
from app.extensions import db
from app.org.models import Office

TIERS = ("A", "B", "C", "D")


class Customer(TimestampMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "customers"
    __table_args__ = (
        sa.CheckConstraint(check_in("tier", TIERS), name="tier_valid"),
        sa.Index("ix_customers_office_id_id", "office_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), index=True)
    company: Mapped[str | None] = mapped_column(sa.String(200), index=True)
    email: Mapped[str | None] = mapped_column(sa.String(254))
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("offices.id"))
    tier: Mapped[str] = mapped_column(sa.String(1), default="C")
    contract_end: Mapped[date | None] = mapped_column(sa.Date())
    notes: Mapped[str] = mapped_column(sa.Text(), default="")
    version: Mapped[int] = mapped_column(default=1)

    office: Mapped[Office] = relationship()
    phones: Mapped[list[CustomerPhone]] = relationship(
        back_populates="customer",
        cascade="all, delete-orphan",
        order_by="CustomerPhone.id",
        lazy="selectin",
    )

    __mapper_args__ = {"version_id_col": version}


class CustomerPhone(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "customer_phones"
    __table_args__ = (sa.UniqueConstraint("customer_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[str] = mapped_column(sa.String(32), index=True)  # digits only, no +86
    raw: Mapped[str] = mapped_column(sa.String(64))  # as typed, for display

    customer: Mapped[Customer] = relationship(back_populates="phones")
