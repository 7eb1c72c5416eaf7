"""Request counters shared through the database: sliding window, bounded storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.core.ratelimit import RateCounter, hit, purge
from app.extensions import db

T0 = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)  # a window boundary for 600 s windows


def rows():
    return db.session.scalar(sa.select(sa.func.count()).select_from(RateCounter))


def test_within_the_limit_then_refused_with_a_retry_hint():
    decisions = [
        hit("k", limit=3, window_seconds=600, now=T0 + timedelta(seconds=i)) for i in range(5)
    ]
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert decisions[-1].count == 5
    assert 0 < decisions[-1].retry_after <= 600
    assert rows() == 1  # a flood is one row per window, not a row per request


def test_keys_count_separately():
    for _ in range(3):
        hit("a", limit=3, window_seconds=600, now=T0)
    assert not hit("a", limit=3, window_seconds=600, now=T0).allowed
    assert hit("b", limit=3, window_seconds=600, now=T0).allowed


def test_the_previous_window_still_weighs_so_a_boundary_cannot_double_the_quota():
    for _ in range(3):
        hit("k", limit=3, window_seconds=600, now=T0 + timedelta(seconds=590))
    # just after the boundary almost the whole previous window is still inside the slide
    assert not hit("k", limit=3, window_seconds=600, now=T0 + timedelta(seconds=610)).allowed
    # half way through the next window half of it has slid out: 3 × 0.5 + 1 ≤ 3
    assert hit("k2", limit=3, window_seconds=600, now=T0).allowed
    later = T0 + timedelta(seconds=600 + 300)
    assert hit("k", limit=3, window_seconds=600, now=later).count == 3 * 0.5 + 2
    # two windows on, nothing of the flood is left
    assert hit("k", limit=3, window_seconds=600, now=T0 + timedelta(seconds=1800)).count == 1


def test_expired_counters_are_deleted_as_new_ones_come():
    hit("old", limit=3, window_seconds=600, now=T0)
    hit("fresh", limit=3, window_seconds=600, now=T0 + timedelta(hours=1))
    assert set(db.session.scalars(sa.select(RateCounter.key))) == {"fresh"}
    assert purge(T0 + timedelta(days=1)) == 1 and rows() == 0


def test_a_refused_request_still_counts_even_if_the_request_rolls_back():
    for _ in range(4):
        hit("k", limit=3, window_seconds=600, now=T0)
    db.session.rollback()
    assert db.session.scalar(sa.select(RateCounter.count).where(RateCounter.key == "k")) == 4


@pytest.mark.committing
def test_parallel_hits_are_all_counted_and_only_the_limit_passes(app):
    """Eight workers hit one key at once: the atomic upsert counts every one, and exactly the
    limit are allowed, on SQLite (writers queue) and PostgreSQL (ON CONFLICT row lock)."""
    from tests.issues.test_concurrency import run_together

    work = [lambda: hit("flood", limit=3, window_seconds=600, now=T0) for _ in range(8)]
    results, errors = run_together(app, work)
    assert not errors
    assert sorted(d.allowed for d in results) == [False] * 5 + [True] * 3
    assert db.session.scalar(sa.select(RateCounter.count).where(RateCounter.key == "flood")) == 8
