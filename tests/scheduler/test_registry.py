"""The one job list, and the period keys that name what a run covers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from app.core import timeutils
from app.scheduler import registry


def test_registry_lists_the_foundation_jobs() -> None:
    jobs = registry.load_jobs()
    assert {"send-outbox", "purge-sessions", "purge-job-runs"} <= set(jobs)
    outbox = jobs["send-outbox"]
    assert outbox.cron == {"minute": "*"} and outbox.schedule_text == "minute=*"
    assert outbox.description


def test_register_job_is_one_decorator_and_replaces_by_name() -> None:
    try:

        @registry.register_job(
            "test-reg", cron={"hour": "6"}, period=registry.monthly, description="first"
        )
        def first(now: datetime) -> dict[str, int]:
            return {}

        @registry.register_job(
            "test-reg", cron={"hour": "7"}, period=registry.monthly, description="second"
        )
        def second(now: datetime) -> dict[str, int]:
            return {}

        job = registry.load_jobs()["test-reg"]
        assert (job.func, job.description, job.cron) == (second, "second", {"hour": "7"})
    finally:
        registry.JOBS.pop("test-reg", None)


def test_job_names_fit_the_claim_column() -> None:
    with pytest.raises(ValueError):
        registry.register_job("x" * 65, cron={}, period=registry.daily, description="")


def test_missing_job_modules_are_skipped_but_broken_ones_raise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "fake_domain"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "jobs.py").write_text("import no_such_dependency_for_tests  # noqa\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "JOB_MODULES", ("app.no_such_domain.jobs", "fake_domain.nope"))
    assert "send-outbox" in registry.load_jobs()
    monkeypatch.setattr(registry, "JOB_MODULES", ("fake_domain.jobs",))
    with pytest.raises(ModuleNotFoundError, match="no_such_dependency_for_tests"):
        registry.load_jobs()


# 2026-11-22 23:30 UTC is already Monday 2026-11-23 07:30 in Shanghai (ISO week 48)
LATE_SUNDAY_UTC = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
TZ = "Asia/Shanghai"


def test_period_keys_are_in_the_office_time_zone() -> None:
    assert registry.every_minute(LATE_SUNDAY_UTC, TZ) == "2026-11-23T07:30"
    assert registry.daily(LATE_SUNDAY_UTC, TZ) == "2026-11-23"
    assert registry.weekly(LATE_SUNDAY_UTC, TZ) == "2026-W48"
    assert registry.weekly(LATE_SUNDAY_UTC, "UTC") == "2026-W47"
    assert registry.monthly(datetime(2026, 11, 30, 17, 0, tzinfo=UTC), TZ) == "2026-12"


def test_every_n_minutes_keys_by_the_slot_start() -> None:
    five = registry.every_n_minutes(5)
    assert five(datetime(2026, 11, 23, 0, 9, 59, tzinfo=UTC), TZ) == "2026-11-23T08:05"
    assert five(datetime(2026, 11, 23, 0, 10, tzinfo=UTC), TZ) == "2026-11-23T08:10"
    # Kathmandu is UTC+05:45: slots are local quarter hours, not UTC ones
    quarter = registry.every_n_minutes(15)
    assert quarter(datetime(2026, 11, 23, 0, 14, tzinfo=UTC), "Asia/Kathmandu") == (
        "2026-11-23T05:45"
    )
    with pytest.raises(ValueError):
        registry.every_n_minutes(7)


def test_iso_week_helpers() -> None:
    assert timeutils.iso_week_key(date(2026, 1, 1)) == "2026-W01"
    assert timeutils.iso_week_key(date(2027, 1, 1)) == "2026-W53"  # 2026 has 53 ISO weeks
    assert timeutils.parse_iso_week("2026-W48") == date(2026, 11, 23)
    assert timeutils.previous_week("2026-W01") == "2025-W52"
    assert timeutils.parse_month("2026-11") == date(2026, 11, 1)
    for bad in ("2026-48", "2026-W4", "W48"):
        with pytest.raises(ValueError):
            timeutils.parse_iso_week(bad)
    with pytest.raises(ValueError):
        timeutils.parse_month("2026/11")


def test_week_bounds_are_local_midnights_in_utc() -> None:
    start, end = timeutils.week_bounds("2026-W48", TZ)
    assert start == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 29, 16, 0, tzinfo=UTC)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        timeutils.local(datetime(2026, 11, 23, 8, 0), TZ)  # noqa: DTZ001
