"""Version stamps: written with the change that causes them, random, created when missing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core import versions
from app.extensions import db
from app.issues.models import RootCause, SlaTarget
from app.issues.reference import STAMP

pytestmark = pytest.mark.committing


def test_bump_creates_a_missing_stamp_then_replaces_it():
    assert versions.read("test_stamp") is None
    first = versions.bump("test_stamp")
    assert versions.read("test_stamp") == first
    second = versions.bump("test_stamp")
    assert second != first and versions.read("test_stamp") == second
    db.session.commit()
    rows = db.session.scalars(
        sa.select(versions.VersionStamp).where(versions.VersionStamp.name == "test_stamp")
    ).all()
    assert [r.stamp for r in rows] == [second]


def test_a_watched_change_bumps_in_its_own_transaction():
    target = SlaTarget(priority="normal", response_hours=4, resolve_hours=45)
    db.session.add(target)
    db.session.commit()
    stamp = versions.read(STAMP)
    assert stamp is not None

    assert target.resolve_hours == 45  # loaded, so the ORM knows the old value
    target.resolve_hours = 45  # set to the value it has: not a change
    db.session.flush()
    assert versions.read(STAMP) == stamp

    target.resolve_hours = 40
    db.session.flush()
    changed = versions.read(STAMP)
    assert changed != stamp
    db.session.rollback()
    assert versions.read(STAMP) == stamp  # the rolled-back change took its stamp with it

    db.session.delete(db.session.get(SlaTarget, target.id))
    db.session.commit()
    assert versions.read(STAMP) not in (stamp, None)


def test_unwatched_models_leave_stamps_alone():
    versions.bump(STAMP)
    db.session.commit()
    stamp = versions.read(STAMP)
    db.session.add(RootCause(code="weather", name_zh="天气", name_en="Weather"))
    db.session.commit()
    assert versions.read(STAMP) == stamp
