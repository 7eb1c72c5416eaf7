"""One scoping rule for every read of an office's data.

An office role sees its office, a regional role its region's offices, company roles everything.
Objects outside the caller's scope are reported as not found, never as forbidden, so ids
cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import sqlalchemy as sa

from app.auth.roles import place_kind
from app.core.errors import NotFound
from app.extensions import db
from app.org.models import Office

if TYPE_CHECKING:
    from app.auth.models import User

T = TypeVar("T")


KINDS = ("company", "region", "office", "none")


class Placed(Protocol):
    """Whatever carries a role and a place: a User, or the API's token principal."""

    @property
    def role(self) -> str: ...
    @property
    def office_id(self) -> int | None: ...
    @property
    def region_id(self) -> int | None: ...


@dataclass(frozen=True)
class Scope:
    kind: str  # "company" | "region" | "office"; "none" for a role without its place
    region_id: int | None = None
    office_id: int | None = None

    @classmethod
    def for_user(cls, user: User | Placed) -> Scope:
        kind = place_kind(user.role)
        if kind == "office":
            if user.office_id is None:
                return cls(kind="none")
            return cls(kind="office", office_id=user.office_id)
        if kind == "region":
            if user.region_id is None:
                return cls(kind="none")
            return cls(kind="region", region_id=user.region_id)
        return cls(kind="company")

    @property
    def is_company(self) -> bool:
        return self.kind == "company"

    def office_filter(self, office_column: Any) -> sa.ColumnElement[bool]:
        """A WHERE clause restricting rows whose office is `office_column` to this scope."""
        if self.kind == "company":
            return sa.true()
        if self.kind == "office":
            return office_column == self.office_id  # type: ignore[no-any-return]
        if self.kind == "region":
            offices = sa.select(Office.id).where(Office.region_id == self.region_id)
            return office_column.in_(offices)  # type: ignore[no-any-return]
        return sa.false()

    @staticmethod
    def bound_office_filter(kind: str, office_column: Any) -> sa.ColumnElement[bool]:
        """The same rule as office_filter(), for a scope of this kind, with its place left
        as the bound parameters that params() fills: for statements built once and run many
        times (tests/core/test_scoping.py holds the two to the same answers)."""
        if kind == "company":
            return sa.true()
        if kind == "office":
            return office_column == sa.bindparam("scope_office")  # type: ignore[no-any-return]
        if kind == "region":
            offices = sa.select(Office.id).where(Office.region_id == sa.bindparam("scope_region"))
            return office_column.in_(offices)  # type: ignore[no-any-return]
        return sa.false()

    def params(self) -> dict[str, int | None]:
        """The parameters of bound_office_filter()."""
        return {"scope_office": self.office_id, "scope_region": self.region_id}

    def covers_office(self, office: Office | None) -> bool:
        if office is None:
            return False
        if self.kind == "company":
            return True
        if self.kind == "office":
            return office.id == self.office_id
        if self.kind == "region":
            return office.region_id == self.region_id
        return False

    def office_ids(self) -> list[int]:
        stmt = sa.select(Office.id).where(self.office_filter(Office.id)).order_by(Office.code)
        return list(db.session.scalars(stmt))


def get_scoped(
    model: type[T],
    object_id: int,
    scope: Scope,
    *,
    office_attr: str = "office_id",
    for_update: bool = False,
) -> T:
    """Load one row by id through the scope; out of scope and missing look the same.

    `for_update` locks the row until commit (PostgreSQL), so concurrent changes queue and the
    later one sees the earlier one's result; SQLite writers already queue on BEGIN IMMEDIATE.
    """
    column = getattr(model, office_attr)
    stmt = sa.select(model).where(model.id == object_id, scope.office_filter(column))  # type: ignore[attr-defined]
    if for_update:
        stmt = stmt.with_for_update(of=model)
    obj = db.session.scalars(stmt).first()
    if obj is None:
        raise NotFound()
    return obj
