"""Each early-warning signal fires on the figures its docstring names, and not just below."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.extensions import db
from app.warnings import signals
from app.warnings.signals import Thresholds
from tests.warnings.conftest import NOW

T = Thresholds()
TODAY = date(2026, 11, 25)


def _detect():
    db.session.flush()
    return signals.detect(NOW, TODAY, T)


@pytest.mark.parametrize(
    ("days", "fires"), [(30, True), (60, True), (61, False), (-10, True), (-31, False)]
)
def test_contract_expiring(world, days, fires):
    world.customer.contract_end = TODAY + timedelta(days=days)
    found = _detect()
    key = (world.customer.id, "contract_expiring")
    assert (key in found) is fires
    if fires:
        assert found[key] == {
            "contract_end": (TODAY + timedelta(days=days)).isoformat(),
            "days_left": days,
        }


def test_falling_ratings_against_the_year_before(world, make_issue):
    for days, rating in ((5, 2), (40, 3), (200, 5), (300, 5), (400, 5)):
        at = NOW - timedelta(days=days)
        make_issue(received_at=at - timedelta(days=1), closed_at=at, rating=rating)
    found = _detect()
    assert found[(world.customer.id, "falling_ratings")] == {
        "mean": 2.5,
        "n": 2,
        "mean_before": 5.0,
        "n_before": 3,  # 400 days ago is outside the year before the window
    }


def test_ratings_low_but_always_so_do_not_fire(world, make_issue):
    for days, rating in ((5, 3), (40, 3), (200, 3)):
        at = NOW - timedelta(days=days)
        make_issue(received_at=at - timedelta(days=1), closed_at=at, rating=rating)
    assert (world.customer.id, "falling_ratings") not in _detect()


def test_one_low_rating_is_not_a_trend(world, make_issue):
    make_issue(received_at=NOW - timedelta(days=3), closed_at=NOW - timedelta(days=2), rating=1)
    assert (world.customer.id, "falling_ratings") not in _detect()


def test_issue_burst_against_the_usual_rate(world, make_issue):
    for d in (1, 5, 9):
        make_issue(received_at=NOW - timedelta(days=d))
    found = _detect()
    assert found[(world.customer.id, "issue_burst")] == {"n": 3, "days": 30, "usual": 0.0}


def test_a_busy_customer_at_its_usual_rate_is_no_burst(world, make_issue):
    for d in (1, 5, 9):
        make_issue(received_at=NOW - timedelta(days=d))
    for d in range(35, 205, 30):  # ~1 every 30 days before: usual 1, three is a burst
        make_issue(received_at=NOW - timedelta(days=d))
    assert (world.customer.id, "issue_burst") in _detect()
    for d in range(36, 206, 10):  # now ~6 every 30 days: three is below the usual
        make_issue(received_at=NOW - timedelta(days=d))
    assert (world.customer.id, "issue_burst") not in _detect()


def test_escalations_of_two_issues(world, make_issue, make_escalation):
    one = make_issue(received_at=NOW - timedelta(days=10))
    make_escalation(one, 1, NOW - timedelta(days=9))
    make_escalation(one, 2, NOW - timedelta(days=8))
    assert (world.customer.id, "escalations") not in _detect()  # one issue, two levels
    two = make_issue(received_at=NOW - timedelta(days=50))
    make_escalation(two, 1, NOW - timedelta(days=40))  # outside the 30 days
    assert (world.customer.id, "escalations") not in _detect()
    make_escalation(two, 3, NOW - timedelta(days=2))
    found = _detect()
    assert found[(world.customer.id, "escalations")] == {"issues": 2, "max_level": 3, "days": 30}


def test_volume_drop(world, make_contact, make_issue):
    for d in range(95, 175, 10):  # 8 contacts in the 90 days before the window
        make_contact(world.customer, NOW - timedelta(days=d))
    make_contact(world.customer, NOW - timedelta(days=3))
    make_issue(received_at=NOW - timedelta(days=20))  # issues are contacts too
    found = _detect()
    assert found[(world.customer.id, "volume_drop")] == {
        "n": 2,
        "before": 8,
        "days": 90,
        "change": -0.75,
    }
    for d in (4, 5, 6):  # 5 of 8: fell by less than half
        make_contact(world.customer, NOW - timedelta(days=d))
    assert (world.customer.id, "volume_drop") not in _detect()


def test_silence_after_heavy_use_is_not_also_a_volume_drop(world, make_contact):
    for d in range(65, 235, 20):  # 9 contacts, the newest 65 days ago
        make_contact(world.customer, NOW - timedelta(days=d))
    found = _detect()
    assert found[(world.customer.id, "silence")] == {"days": 60, "before": 9}
    assert (world.customer.id, "volume_drop") not in found
    make_contact(world.customer, NOW - timedelta(days=1))
    assert (world.customer.id, "silence") not in _detect()


def test_voices_without_customer_and_other_customers_do_not_count(world, make_contact):
    for d in range(65, 235, 20):
        make_contact(world.customer_gz, NOW - timedelta(days=d))
    found = _detect()
    assert (world.customer_gz.id, "silence") in found
    assert (world.customer.id, "silence") not in found


def test_thresholds_from_configuration():
    t = Thresholds.from_config({"contract_days": "90", "rating_drop": 0.5})
    assert (t.contract_days, t.rating_drop) == (90, 0.5)
    with pytest.raises(ValueError, match="contract_dayz"):
        Thresholds.from_config({"contract_dayz": 90})
