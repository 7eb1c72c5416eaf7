"""unit_of_work(): one commit on success, a rollback on error, callbacks only after commit."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from app.core.uow import after_commit, in_unit_of_work, unit_of_work
from app.extensions import db
from app.org.models import Region

pytestmark = pytest.mark.committing


def committed_codes() -> set[str]:
    """What another connection sees: committed rows only."""
    with db.engine.connect() as conn:
        return set(conn.scalars(sa.select(Region.code)))


def test_commits_once_on_success_then_runs_callbacks() -> None:
    events: list[str] = []
    with unit_of_work():
        db.session.add(Region(code="EAST", name="East"))
        db.session.flush()
        after_commit(lambda: events.append(f"after: {committed_codes()}"))
        assert committed_codes() == set()  # flushed, not committed
        assert in_unit_of_work()
    assert events == ["after: {'EAST'}"]
    assert not in_unit_of_work()


def failing_work(events: list[str], code: str, exc: Exception) -> None:
    with unit_of_work():
        db.session.add(Region(code=code, name=code))
        db.session.flush()
        after_commit(lambda: events.append(f"{code} should not run"))
        raise exc


def test_rolls_back_on_error_and_drops_callbacks() -> None:
    events: list[str] = []
    with pytest.raises(RuntimeError):
        failing_work(events, "EAST", RuntimeError("service failed"))
    assert committed_codes() == set()
    assert events == []
    assert not in_unit_of_work()
    with unit_of_work():  # the session is usable again
        db.session.add(Region(code="WEST", name="West"))
    assert committed_codes() == {"WEST"}


def test_nested_unit_is_a_savepoint() -> None:
    events: list[str] = []
    with unit_of_work():
        db.session.add(Region(code="EAST", name="East"))
        with pytest.raises(ValueError):
            failing_work(events, "BAD", ValueError("inner"))
        with unit_of_work():
            db.session.add(Region(code="WEST", name="West"))
            after_commit(lambda: events.append("inner ok"))
        assert committed_codes() == set()  # inner units do not commit
        after_commit(lambda: events.append("outer"))
    assert committed_codes() == {"EAST", "WEST"}
    assert events == ["inner ok", "outer"]


def test_a_failing_callback_is_logged_and_the_rest_still_run(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Alembic's fileConfig (migrations/env.py) disables loggers that existed before the
    # suite's upgrade; this test needs ours.
    monkeypatch.setattr(logging.getLogger("app.core.uow"), "disabled", False)
    events: list[str] = []

    def broken() -> None:
        raise OSError("notifier down")

    with caplog.at_level(logging.ERROR, logger="app.core.uow"), unit_of_work():
        db.session.add(Region(code="EAST", name="East"))
        after_commit(broken)
        after_commit(lambda: events.append("second"))
    assert committed_codes() == {"EAST"}
    assert events == ["second"]
    assert "notifier down" in caplog.text


def test_failed_commit_rolls_back_and_raises() -> None:
    db.session.add(Region(code="EAST", name="East"))
    db.session.commit()
    events: list[str] = []

    def duplicate() -> None:
        with unit_of_work():
            db.session.add(Region(code="EAST", name="Duplicate"))
            after_commit(lambda: events.append("should not run"))

    with pytest.raises(sa.exc.IntegrityError):
        duplicate()
    assert events == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Region)) == 1


def test_after_commit_needs_a_unit_of_work() -> None:
    with pytest.raises(RuntimeError):
        after_commit(lambda: None)
