"""A job period runs once, whoever asks and however often; failures can be retried.

These tests commit for real (the runner opens its own session), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from app.core.outbox import OutboxMessage
from app.core.outbox_service import enqueue_email
from app.extensions import db
from app.scheduler import registry
from app.scheduler.models import JobRun
from app.scheduler.runner import STALE_CLAIM, UnknownJob, run_job

pytestmark = pytest.mark.committing

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Asia/Shanghai, ISO week 48

TempJob = Callable[..., Any]


def job_runs() -> list[JobRun]:
    db.session.rollback()  # a fresh snapshot: the runner committed in its own session
    return list(db.session.scalars(sa.select(JobRun).order_by(JobRun.id)))


def test_twice_for_the_same_period_does_the_work_once(app: Flask, temp_job: TempJob) -> None:
    calls: list[datetime] = []

    def count(now: datetime) -> dict[str, Any]:
        calls.append(now)
        return {"calls": len(calls)}

    temp_job("test-count", count)
    first = run_job(app, "test-count", now=NOW)
    second = run_job(app, "test-count", now=NOW + timedelta(hours=1))
    assert (first.status, second.status) == ("done", "skipped")
    assert first.period == second.period == "2026-W48"
    assert first.result == {"calls": 1} and len(calls) == 1
    [row] = job_runs()
    assert (row.job_name, row.period_key, row.status, row.result) == (
        "test-count",
        "2026-W48",
        "done",
        {"calls": 1},
    )
    assert row.finished_at is not None
    next_week = run_job(app, "test-count", now=NOW + timedelta(days=7))
    assert (next_week.status, next_week.period, len(calls)) == ("done", "2026-W49", 2)


def test_work_and_done_mark_commit_together(app: Flask, temp_job: TempJob) -> None:
    def queue_mail(now: datetime) -> dict[str, Any]:
        enqueue_email(key="job-mail", to="a@example.com", subject="s", body="b")
        return {"queued": 1}

    temp_job("test-mail", queue_mail)
    assert run_job(app, "test-mail", now=NOW).status == "done"
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1


def test_racing_schedulers_run_once(app: Flask, temp_job: TempJob) -> None:
    calls: list[datetime] = []
    lock = threading.Lock()

    def count(now: datetime) -> dict[str, Any]:
        with lock:
            calls.append(now)
        return {}

    temp_job("test-race", count)
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def go() -> None:
        barrier.wait()
        outcomes.append(run_job(app, "test-race", now=NOW).status)

    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["done"] + ["skipped"] * 5
    assert len(calls) == 1
    assert [r.status for r in job_runs()] == ["done"]


def test_failed_run_rolls_back_is_recorded_and_can_be_retried(
    app: Flask, temp_job: TempJob
) -> None:
    state = {"fail": True, "calls": 0}

    def flaky(now: datetime) -> dict[str, Any]:
        state["calls"] += 1
        enqueue_email(key=f"flaky-{state['calls']}", to="a@example.com", subject="s", body="b")
        if state["fail"]:
            raise RuntimeError("boom")
        return {"ok": True}

    temp_job("test-flaky", flaky, registry.daily)
    failed = run_job(app, "test-flaky", now=NOW)
    assert failed.status == "failed" and failed.error and "boom" in failed.error
    [row] = job_runs()
    assert row.status == "failed" and "RuntimeError: boom" in (row.error or "")
    # the failed run's work was rolled back
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0

    state["fail"] = False
    retried = run_job(app, "test-flaky", now=NOW + timedelta(minutes=5))  # same day
    assert retried.status == "done" and retried.period == failed.period
    assert state["calls"] == 2
    [row] = job_runs()
    assert (row.status, row.error) == ("done", None)
    assert run_job(app, "test-flaky", now=NOW).status == "skipped"
    assert state["calls"] == 2


def test_claim_of_a_dead_process_is_retaken(app: Flask, temp_job: TempJob) -> None:
    calls: list[datetime] = []
    temp_job("test-dead", lambda now: calls.append(now) or {})
    db.session.add(
        JobRun(
            job_name="test-dead",
            period_key="2026-W48",
            status="running",
            started_at=NOW - STALE_CLAIM - timedelta(minutes=1),
        )
    )
    db.session.commit()
    assert run_job(app, "test-dead", now=NOW).status == "done"
    assert len(calls) == 1


def test_live_claim_is_not_retaken(app: Flask, temp_job: TempJob) -> None:
    calls: list[datetime] = []
    temp_job("test-live", lambda now: calls.append(now) or {})
    db.session.add(
        JobRun(job_name="test-live", period_key="2026-W48", status="running", started_at=NOW)
    )
    db.session.commit()
    assert run_job(app, "test-live", now=NOW + timedelta(minutes=30)).status == "skipped"
    assert calls == []


def test_force_period_claims_that_period_and_is_visible_to_the_job(
    app: Flask, temp_job: TempJob
) -> None:
    seen: list[str | None] = []

    def report(now: datetime) -> dict[str, Any]:
        seen.append(registry.current_period())
        return {}

    temp_job("test-report", report)
    outcome = run_job(app, "test-report", now=NOW, force_period="2026-W40")
    assert (outcome.status, outcome.period) == ("done", "2026-W40")
    assert run_job(app, "test-report", now=NOW).period == "2026-W48"
    assert seen == ["2026-W40", "2026-W48"]
    assert registry.current_period() is None


def test_result_is_stored_as_json(app: Flask, temp_job: TempJob) -> None:
    temp_job("test-json", lambda now: {"until": now, "names": ("a", "b")})
    outcome = run_job(app, "test-json", now=NOW)
    assert outcome.result == {"until": str(NOW), "names": ["a", "b"]}
    assert job_runs()[0].result == outcome.result


def test_a_job_not_returning_a_dict_fails_visibly(app: Flask, temp_job: TempJob) -> None:
    temp_job("test-bad", lambda now: None)
    outcome = run_job(app, "test-bad", now=NOW)
    assert outcome.status == "failed" and "TypeError" in (outcome.error or "")


def test_unknown_job(app: Flask) -> None:
    with pytest.raises(UnknownJob):
        run_job(app, "no-such-job")
    assert job_runs() == []
