"""Kept snapshots: storing one per (kind, scope, period) and reading them within a scope."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.core.errors import NotFound
from app.core.scoping import Scope
from app.extensions import db
from app.org.models import Office, Region
from app.reports.models import ReportSnapshot

RECENT = 30


def store_snapshot(
    kind: str, scope_key: str, period: str, data: dict[str, Any], now: datetime
) -> ReportSnapshot | None:
    """Insert the snapshot unless one exists: None when (kind, scope, period) is taken already,
    also when a concurrent transaction took it first (the unique constraint decides)."""
    exists = sa.select(ReportSnapshot.id).where(
        ReportSnapshot.kind == kind,
        ReportSnapshot.scope_key == scope_key,
        ReportSnapshot.period == period,
    )
    if db.session.scalar(exists) is not None:
        return None
    snapshot = ReportSnapshot(
        kind=kind, scope_key=scope_key, period=period, data=data, created_at=now
    )
    try:
        with db.session.begin_nested():
            db.session.add(snapshot)
    except IntegrityError:
        return None
    return snapshot


def find_snapshot(kind: str, scope_key: str, period: str) -> ReportSnapshot | None:
    return db.session.scalars(
        sa.select(ReportSnapshot).where(
            ReportSnapshot.kind == kind,
            ReportSnapshot.scope_key == scope_key,
            ReportSnapshot.period == period,
        )
    ).first()


def visible_keys(scope: Scope) -> sa.ColumnElement[bool]:
    """Snapshots whose scope lies inside the user's: their office, or their region and its
    offices; company roles see all."""
    if scope.is_company:
        return sa.true()
    if scope.kind == "office":
        code = db.session.scalar(sa.select(Office.code).where(Office.id == scope.office_id))
        return ReportSnapshot.scope_key == f"office:{code}"
    if scope.kind == "region":
        region = db.session.scalar(sa.select(Region.code).where(Region.id == scope.region_id))
        offices = db.session.scalars(
            sa.select(Office.code).where(Office.region_id == scope.region_id)
        )
        keys = [f"region:{region}"] + [f"office:{c}" for c in offices]
        return ReportSnapshot.scope_key.in_(keys)
    return sa.false()


def recent_snapshots(scope: Scope, limit: int = RECENT) -> list[ReportSnapshot]:
    return list(
        db.session.scalars(
            sa.select(ReportSnapshot)
            .where(visible_keys(scope))
            .order_by(ReportSnapshot.created_at.desc(), ReportSnapshot.id.desc())
            .limit(limit)
        )
    )


def get_snapshot(scope: Scope, snapshot_id: int) -> ReportSnapshot:
    snapshot = db.session.scalars(
        sa.select(ReportSnapshot).where(ReportSnapshot.id == snapshot_id, visible_keys(scope))
    ).first()
    if snapshot is None:
        raise NotFound()
    return snapshot
