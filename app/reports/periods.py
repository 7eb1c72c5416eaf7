"""Report periods (ISO weeks, months) and report scopes (an office, a region, the company).

Period keys come from users ("2026-W47", "2026-11"); a malformed key is a 422. Edges are
computed in each office's time zone (app.core.buckets carries them to SQL).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.core import timeutils
from app.core.buckets import ZonedEdges
from app.core.errors import NotFound, ValidationFailed
from app.core.scoping import Scope
from app.extensions import db
from app.org.models import Office, Region


@dataclass(frozen=True)
class Week:
    key: str
    monday: date

    @classmethod
    def parse(cls, key: str, *, field: str = "week") -> Week:
        try:
            monday = timeutils.parse_iso_week(key.strip())
        except (ValueError, AttributeError):
            raise ValidationFailed(
                "Not an ISO week.", fields={field: "an ISO week such as 2026-W47"}
            ) from None
        return cls(timeutils.iso_week_key(monday), monday)

    @classmethod
    def of(cls, day: date) -> Week:
        monday = day - timedelta(days=day.weekday())
        return cls(timeutils.iso_week_key(monday), monday)

    @classmethod
    def last_complete(cls, now: datetime, tz: str) -> Week:
        return cls.of(timeutils.local(now, tz).date()).shift(-1)

    def shift(self, weeks: int) -> Week:
        return Week.of(self.monday + timedelta(days=7 * weeks))

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    def start(self, tz: str) -> datetime:
        return _midnight(self.monday, tz)

    def end(self, tz: str) -> datetime:
        return _midnight(self.monday + timedelta(days=7), tz)


@dataclass(frozen=True)
class Month:
    key: str
    first: date

    @classmethod
    def parse(cls, key: str, *, field: str = "month") -> Month:
        try:
            first = timeutils.parse_month(key.strip())
        except (ValueError, AttributeError):
            raise ValidationFailed(
                "Not a month.", fields={field: "a month such as 2026-11"}
            ) from None
        return cls(timeutils.month_key(first), first)

    @classmethod
    def of(cls, day: date) -> Month:
        first = day.replace(day=1)
        return cls(timeutils.month_key(first), first)

    @classmethod
    def last_complete(cls, now: datetime, tz: str) -> Month:
        return cls.of(timeutils.local(now, tz).date()).shift(-1)

    def shift(self, months: int) -> Month:
        index = self.first.year * 12 + self.first.month - 1 + months
        return Month.of(date(index // 12, index % 12 + 1, 1))

    @property
    def last_day(self) -> date:
        return self.shift(1).first - timedelta(days=1)

    def start(self, tz: str) -> datetime:
        return _midnight(self.first, tz)

    def end(self, tz: str) -> datetime:
        return _midnight(self.shift(1).first, tz)


def _midnight(day: date, tz: str) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz)).astimezone(UTC)


@dataclass(frozen=True)
class OfficeInfo:
    id: int
    code: str
    name: str
    region_id: int
    region_code: str
    region_name: str
    timezone: str


@dataclass(frozen=True)
class ReportScope:
    """What a report covers: one office, one region's offices, or the whole company."""

    kind: str  # office | region | company
    code: str | None
    name: str
    offices: tuple[OfficeInfo, ...]
    region_id: int | None = None  # set for a region scope

    @property
    def key(self) -> str:
        return self.kind if self.kind == "company" else f"{self.kind}:{self.code}"

    @property
    def office_ids(self) -> list[int]:
        return [o.id for o in self.offices]

    def office_filter(self, column: Any) -> sa.ColumnElement[bool]:
        """`column` among this scope's offices: an equality for one office; for several, the
        ids (ints read from the database, never user text) written into the SQL, which spares
        expanding a bound list on every execution of the cached statement."""
        if not self.offices:
            return sa.false()
        if len(self.offices) == 1:
            equal: sa.ColumnElement[bool] = column == self.offices[0].id
            return equal
        ids = ", ".join(str(int(i)) for i in self.office_ids)
        listed: sa.ColumnElement[bool] = column.op("IN")(sa.literal_column(f"({ids})"))
        return listed

    @property
    def timezone(self) -> str:
        """The zone named on the page: the offices' zone (the most common one)."""
        zones = [o.timezone for o in self.offices]
        return max(set(zones), key=zones.count) if zones else "Asia/Shanghai"

    def edges(self, make: Callable[[str], list[datetime]]) -> ZonedEdges:
        """`make(tz)` per time zone among the offices; one group when they share a zone."""
        by_zone: dict[str, list[int]] = defaultdict(list)
        for office in self.offices:
            by_zone[office.timezone].append(office.id)
        if len(by_zone) <= 1:
            return ZonedEdges.single(make(self.timezone))
        return ZonedEdges(
            tuple((tuple(ids), tuple(make(tz))) for tz, ids in sorted(by_zone.items()))
        )


def _offices(where: sa.ColumnElement[bool]) -> tuple[OfficeInfo, ...]:
    rows = db.session.execute(
        sa.select(Office, Region)
        .join(Region, Office.region_id == Region.id)
        .where(where)
        .order_by(Office.code)
    ).all()
    return tuple(
        OfficeInfo(o.id, o.code, o.name, r.id, r.code, r.name, o.timezone or "Asia/Shanghai")
        for o, r in rows
    )


def resolve_scope(
    user_scope: Scope, *, office: str | None = None, region: str | None = None
) -> ReportScope:
    """The report scope asked for, within what the user may see.

    No office and no region: the user's own place (their office, their region, the company).
    Unknown codes and codes outside the user's scope are both 404.
    """
    if office and region:
        raise ValidationFailed(
            "Ask for an office or a region, not both.", fields={"office": "office or region"}
        )
    if not office and not region:
        if user_scope.kind == "office" and user_scope.office_id is not None:
            return _office_scope(Office.id == user_scope.office_id)
        if user_scope.kind == "region" and user_scope.region_id is not None:
            return _region_scope(Region.id == user_scope.region_id)
        if user_scope.is_company:
            return ReportScope("company", None, "", _offices(sa.true()))
        raise NotFound()
    if office:
        found = _office_scope(Office.code == office.strip().upper())
        if user_scope.kind == "office" and found.offices[0].id != user_scope.office_id:
            raise NotFound()
        if user_scope.kind == "region" and found.offices[0].region_id != user_scope.region_id:
            raise NotFound()
        if user_scope.kind not in ("office", "region", "company"):
            raise NotFound()
        return found
    found = _region_scope(Region.code == (region or "").strip().upper())
    if user_scope.is_company or (
        user_scope.kind == "region" and found.region_id == user_scope.region_id
    ):
        return found
    raise NotFound()


def _office_scope(where: sa.ColumnElement[bool]) -> ReportScope:
    offices = _offices(where)
    if not offices:
        raise NotFound()
    o = offices[0]
    return ReportScope("office", o.code, o.name, offices)


def _region_scope(where: sa.ColumnElement[bool]) -> ReportScope:
    region = db.session.scalars(sa.select(Region).where(where)).first()
    if region is None:
        raise NotFound()
    offices = _offices(Office.region_id == region.id)
    return ReportScope("region", region.code, region.name, offices, region.id)


def all_scopes() -> list[ReportScope]:
    """Every office, every region and the company: what the scheduled snapshots cover."""
    offices = _offices(sa.true())
    scopes = [ReportScope("office", o.code, o.name, (o,)) for o in offices]
    regions = db.session.scalars(sa.select(Region).order_by(Region.code))
    for region in regions:
        members = tuple(o for o in offices if o.region_id == region.id)
        scopes.append(ReportScope("region", region.code, region.name, members, region.id))
    scopes.append(ReportScope("company", None, "", offices))
    return scopes


def resolve_review_scope(user_scope: Scope, *, region: str | None = None) -> ReportScope:
    """The monthly quality review is per region and for the company: a region asked for (404
    when unknown or outside the user's scope), else the user's region or the company. Office
    roles have no review of their own (403)."""
    from app.core.errors import Forbidden

    if region:
        return resolve_scope(user_scope, region=region)
    if user_scope.kind in ("region", "company"):
        return resolve_scope(user_scope)
    raise Forbidden("The monthly quality review is held per region and for the company.")
