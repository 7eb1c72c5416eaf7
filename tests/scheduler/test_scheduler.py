"""Where the scheduler starts, and how the registry's jobs are put on it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from app.scheduler import MISFIRE_GRACE_SECONDS, build_scheduler, start_scheduler
from app.scheduler.registry import load_jobs
from app.scheduler.runner import run_job


@pytest.fixture
def live_app(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """The app as the serving entry point sees it, with the scheduler started paused, so no
    job fires during the test."""
    monkeypatch.setattr(app, "testing", False)
    monkeypatch.setitem(app.config, "SCHEDULER_ENABLED", True)
    real_start = BackgroundScheduler.start

    def start_paused(self: BackgroundScheduler, *args: Any, **kwargs: Any) -> None:
        real_start(self, *args, paused=True)

    monkeypatch.setattr(BackgroundScheduler, "start", start_paused)
    yield app
    scheduler = app.extensions.pop("scheduler", None)
    if scheduler is not None:
        scheduler.shutdown(wait=False)


def test_never_starts_under_tests(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "SCHEDULER_ENABLED", True)
    assert app.testing
    assert start_scheduler(app) is None
    assert "scheduler" not in app.extensions


def test_does_not_start_unless_enabled(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "testing", False)
    monkeypatch.setitem(app.config, "SCHEDULER_ENABLED", False)
    assert start_scheduler(app) is None


def test_starts_once_per_app_with_every_registered_job(live_app: Flask) -> None:
    scheduler = start_scheduler(live_app)
    assert scheduler is not None and scheduler.running
    assert start_scheduler(live_app) is scheduler
    assert {job.id for job in scheduler.get_jobs()} == set(load_jobs())


def test_jobs_are_added_idempotently_with_stable_ids(app: Flask) -> None:
    scheduler = build_scheduler(app)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == set(load_jobs())
    outbox = jobs["send-outbox"]
    assert outbox.func is run_job and outbox.args == (app, "send-outbox")
    assert outbox.coalesce is True and outbox.max_instances == 1
    assert outbox.misfire_grace_time == MISFIRE_GRACE_SECONDS
    assert str(outbox.trigger.timezone) == app.config["TIMEZONE"]
    assert str(scheduler.timezone) == app.config["TIMEZONE"]
