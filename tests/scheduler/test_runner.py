"""A job period runs once, whoever asks and however often."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.scheduler import registry, start_scheduler
from app.scheduler.models import JobRun
from app.scheduler.runner import STALE_CLAIM, UnknownJob, run_job, run_job_here

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


@pytest.fixture
def counting_job():
    calls = []

    @registry.register_job(
        "test-count", cron={"minute": "0"}, period=registry.weekly, description="test"
    )
    def job(now):
        calls.append(now)
        return {"calls": len(calls)}

    yield calls
    registry.JOBS.pop("test-count", None)


@pytest.fixture
def failing_job():
    state = {"fail": True, "calls": 0}

    @registry.register_job(
        "test-fail", cron={"minute": "0"}, period=registry.daily, description="t"
    )
    def job(now):
        state["calls"] += 1
        if state["fail"]:
            raise RuntimeError("boom")
        return {}

    yield state
    registry.JOBS.pop("test-fail", None)


def test_registry_lists_foundation_jobs():
    jobs = registry.load_jobs()
    assert {"send-outbox", "purge-sessions"} <= set(jobs)


def test_twice_for_the_same_period_does_the_work_once(counting_job):
    first = run_job_here("test-count", now=NOW)
    second = run_job_here("test-count", now=NOW + timedelta(hours=1))
    assert (first.status, second.status) == ("done", "skipped")
    assert first.period == second.period == "2026-W48"
    assert len(counting_job) == 1
    next_week = run_job_here("test-count", now=NOW + timedelta(days=7))
    assert next_week.status == "done" and len(counting_job) == 2


def test_racing_schedulers_run_once(app, counting_job):
    outcomes = []
    barrier = threading.Barrier(6)

    def go():
        barrier.wait()
        outcomes.append(run_job(app, "test-count", now=NOW).status)

    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["done"] + ["skipped"] * 5
    assert len(counting_job) == 1


def test_failed_run_is_recorded_and_can_be_retried(failing_job):
    failed = run_job_here("test-fail", now=NOW)
    assert failed.status == "failed" and "boom" in failed.error
    row = db.session.scalars(sa.select(JobRun)).one()
    assert row.status == "failed"
    failing_job["fail"] = False
    retried = run_job_here("test-fail", now=NOW)
    assert retried.status == "done" and failing_job["calls"] == 2
    assert run_job_here("test-fail", now=NOW).status == "skipped"


def test_claim_of_a_dead_process_is_retaken(counting_job):
    db.session.add(
        JobRun(
            job_name="test-count",
            period_key="2026-W48",
            status="running",
            started_at=NOW - STALE_CLAIM - timedelta(minutes=1),
        )
    )
    db.session.commit()
    assert run_job_here("test-count", now=NOW).status == "done"


def test_live_claim_is_not_retaken(counting_job):
    db.session.add(
        JobRun(job_name="test-count", period_key="2026-W48", status="running", started_at=NOW)
    )
    db.session.commit()
    assert run_job_here("test-count", now=NOW).status == "skipped"
    assert counting_job == []


def test_unknown_job():
    with pytest.raises(UnknownJob):
        run_job_here("no-such-job")


def test_cli_list_and_run(runner):
    listed = runner.invoke(args=["jobs", "list"])
    assert "send-outbox" in listed.output and "purge-sessions" in listed.output
    first = runner.invoke(args=["jobs", "run", "purge-sessions", "--period", "2026-11-23"])
    again = runner.invoke(args=["jobs", "run", "purge-sessions", "--period", "2026-11-23"])
    assert first.exit_code == 0 and "done" in first.output
    assert again.exit_code == 0 and "skipped" in again.output
    unknown = runner.invoke(args=["jobs", "run", "nope"])
    assert unknown.exit_code == 2


def test_scheduler_never_starts_under_tests(app):
    assert start_scheduler(app) is None


def test_purge_sessions_deletes_old_rows(make_office, make_user):
    from app.auth.models import LoginAttempt, UserSession

    user = make_user("agent", office=make_office())
    db.session.add_all(
        [
            UserSession(user_id=user.id, key_hash="a" * 64, revoked_at=NOW - timedelta(days=40)),
            UserSession(user_id=user.id, key_hash="b" * 64, revoked_at=NOW - timedelta(days=1)),
            UserSession(user_id=user.id, key_hash="c" * 64),
            LoginAttempt(key="email:x", at=NOW - timedelta(days=2)),
            LoginAttempt(key="email:x", at=NOW),
        ]
    )
    db.session.commit()
    outcome = run_job_here("purge-sessions", now=NOW)
    assert outcome.result == {"sessions": 1, "login_attempts": 1}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)) == 2
