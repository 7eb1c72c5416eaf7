"""The audit trail: who changed what, when, from what to what. Written in the caller's
transaction, so a change and its audit row land together or not at all."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UTCDateTime, utcnow
from app.extensions import db


class AuditEvent(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index("ix_audit_events_entity", "entity_type", "entity_id", "id"),
        # reports: reopens (and other actions) per office and period
        sa.Index("ix_audit_events_office_action_at", "office_id", "action", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    entity_type: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[int] = mapped_column()
    action: Mapped[str] = mapped_column(sa.String(40))
    # {"field": [old, new], ...}; values are JSON-safe renderings
    changes: Mapped[dict[str, Any]] = mapped_column(sa.JSON(), default=dict)
    # indexed by ix_audit_events_office_action_at's leading column
    office_id: Mapped[int | None] = mapped_column(sa.ForeignKey("offices.id"))


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Field → [old, new] for the fields whose value changed."""
    return {
        key: [_jsonable(old.get(key)), _jsonable(value)]
        for key, value in new.items()
        if old.get(key) != value
    }


def _values(
    actor_id: int | None,
    entity_type: str,
    entity_id: int,
    action: str,
    changes: Mapping[str, Any] | None,
    office_id: int | None,
    at: datetime | None,
) -> dict[str, Any]:
    return {
        "actor_id": actor_id,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "action": action,
        "changes": {
            k: v if isinstance(v, list) else _jsonable(v) for k, v in (changes or {}).items()
        },
        "office_id": office_id,
        "at": at or utcnow(),
    }


def event(
    *,
    actor_id: int | None,
    entity_type: str,
    entity_id: int,
    action: str,
    changes: Mapping[str, Any] | None = None,
    office_id: int | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """An audit row, not yet in any session (see record)."""
    return AuditEvent(**_values(actor_id, entity_type, entity_id, action, changes, office_id, at))


def record(
    *,
    actor_id: int | None,
    entity_type: str,
    entity_id: int,
    action: str,
    changes: Mapping[str, Any] | None = None,
    office_id: int | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Add an audit row to the session; it is written with the caller's next flush."""
    row = event(
        actor_id=actor_id,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        changes=changes,
        office_id=office_id,
        at=at,
    )
    db.session.add(row)
    return row


_INSERT = sa.insert(AuditEvent.__table__)


def write(
    *,
    actor_id: int | None,
    entity_type: str,
    entity_id: int,
    action: str,
    changes: Mapping[str, Any] | None = None,
    office_id: int | None = None,
    at: datetime | None = None,
) -> None:
    """The same row as record, inserted at once on the session's connection (the caller's
    transaction) instead of at the next flush: for hot paths that hold no ORM objects, where
    the unit of work's flush costs more CPU than the insert (the public answer page)."""
    db.session.connection().execute(
        _INSERT, _values(actor_id, entity_type, entity_id, action, changes, office_id, at)
    )


def history(entity_type: str, entity_id: int) -> list[AuditEvent]:
    stmt = (
        sa.select(AuditEvent)
        .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
        .order_by(AuditEvent.id)
    )
    return list(db.session.scalars(stmt))
