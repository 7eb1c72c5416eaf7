"""The scope rule written twice (with values, and with bound parameters for prebuilt
statements) gives the same rows for every kind of scope."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.scoping import KINDS, Scope
from app.extensions import db
from app.org.models import Office


@pytest.fixture
def offices(make_region, make_office):
    east, south = make_region("EAST"), make_region("SOUTH")
    sh, hz = make_office("SH", region=east), make_office("HZ", region=east)
    gz = make_office("GZ", region=south)
    return east, sh, hz, gz


def test_bound_filter_matches_office_filter(offices):
    east, sh, _hz, _gz = offices
    scopes = [
        Scope("company"),
        Scope("region", region_id=east.id),
        Scope("office", office_id=sh.id),
        Scope("none"),
    ]
    assert {s.kind for s in scopes} == set(KINDS)
    for scope in scopes:
        plain = db.session.scalars(
            sa.select(Office.code).where(scope.office_filter(Office.id)).order_by(Office.code)
        ).all()
        bound = db.session.scalars(
            sa.select(Office.code)
            .where(Scope.bound_office_filter(scope.kind, Office.id))
            .order_by(Office.code),
            scope.params(),
        ).all()
        assert bound == plain, scope
    assert db.session.scalars(
        sa.select(Office.code)
        .where(Scope.bound_office_filter("region", Office.id))
        .order_by(Office.code),
        Scope("region", region_id=east.id).params(),
    ).all() == ["HZ", "SH"]
