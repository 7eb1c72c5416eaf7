"""Declarative base, portable column types and mixins shared by every domain."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import (
    MANYTOONE,
    DeclarativeBase,
    Mapped,
    Mapper,
    Session,
    make_transient_to_detached,
    mapped_column,
)

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


@cache
def _insert_plan(cls: Any) -> tuple[Any, Any, tuple[Any, ...], tuple[Any, ...]]:
    """What insert_loaded needs of a mapped class, worked out once: its INSERT statement,
    primary key, columns (with their defaults) and many-to-one relationships."""
    mapper: Mapper[Any] = sa.inspect(cls)
    table: Any = mapper.local_table
    (pk,) = table.primary_key.columns
    columns = []
    for column in table.columns:
        if mapper.get_property_by_column(column).key != column.key:
            raise TypeError(f"{cls.__name__}.{column.key}: attribute and column names differ")
        default = column.default
        python_default = isinstance(default, sa.ColumnDefault) and (
            default.is_scalar or default.is_callable
        )
        # a default the database computes (server or SQL expression) is left to it
        db_default = column.server_default is not None or (
            default is not None and not python_default
        )
        if column is not pk:
            columns.append((column.key, default if python_default else None, db_default))
    relations = tuple(
        (rel.key, tuple((local.key, remote.key) for local, remote in rel.local_remote_pairs))
        for rel in mapper.relationships
        if rel.direction is MANYTOONE
    )
    return sa.insert(table).returning(pk), pk, tuple(columns), relations


def insert_loaded(session: Session, obj: Any) -> None:
    """INSERT a new object with one Core statement and attach it to `session` as if it had
    just been loaded from its row.

    For hot paths only: the unit-of-work flush of a wide row with several relationships and a
    version counter costs several times the INSERT itself (the issue at intake). The values
    are those a flush would write: the object's attributes (a many-to-one relationship set on
    it gives its foreign key), else the column's Python default, as for an attribute left
    unset or None; the primary key comes back through RETURNING. A column left to a default
    the database computes stays unloaded, so reading it later asks the database. Unlike a
    flush, no mapper events run and nothing cascades: related objects must already be in the
    database, a relationship set on the object must not populate a collection on the other
    side (back_populates), and the class must not be one that app.core.versions watches.
    """
    state = sa.inspect(obj)
    if state.key is not None or state.session_id is not None:
        raise ValueError("insert_loaded() takes a new object that no session holds")
    cls: Any = type(obj)
    insert, pk, columns, relations = _insert_plan(cls)
    loaded = state.dict
    given = dict(loaded)
    for rel_key, pairs in relations:
        related = given.get(rel_key)
        if related is not None:
            for local, remote in pairs:
                if given.get(local) is None:
                    given[local] = getattr(related, remote)
    values: dict[str, Any] = {}
    for key, default, db_default in columns:
        value = given.get(key)
        if value is None:
            if db_default:
                continue
            if default is not None:
                value = default.arg(None) if default.is_callable else default.arg
        values[key] = value
    values[pk.key] = session.connection().execute(insert, values).scalar_one()
    # the row as written, straight into the instance's dict as a load does (no history to
    # keep: make_transient_to_detached marks all of it as loaded)
    loaded.update(values)
    make_transient_to_detached(obj)
    session.add(obj)
