"""Declarative base, portable column types and mixins shared by every domain."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names let Alembic's batch mode (SQLite) alter constraints it can name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Timezone-aware datetimes stored as UTC on every engine.

    SQLite keeps no zone, so naive values coming back are UTC by construction; naive values
    going in are refused because they are almost always a bug in SLA arithmetic.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused; pass an aware datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


def check_in(column: str, values: Any) -> str:
    """SQL text for a CHECK constraint restricting a string column to an enum's values."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """For Alembic autogenerate (and the migrations test): skip objects that migrations build
    per dialect on purpose and the models cannot describe (full-text tables, trigram indexes);
    domains list them in `metadata.info`."""
    if name is None:
        return True
    info = Base.metadata.info
    if type_ == "table":
        return not any(name.startswith(p) for p in info.get("unmanaged_prefixes", ()))
    if type_ == "index":
        return name not in info.get("unmanaged_indexes", ())
    return True
