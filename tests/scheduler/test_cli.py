"""`flask jobs list` and `flask jobs run NAME [--period KEY]`."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from app.core.outbox import OutboxMessage
from app.core.outbox_service import enqueue_email
from app.extensions import db

pytestmark = pytest.mark.committing


def test_list_shows_every_job_with_schedule_and_last_run(app: Flask, runner: Any) -> None:
    before = runner.invoke(args=["jobs", "list"])
    assert before.exit_code == 0, before.output
    assert "Asia/Shanghai" in before.output
    lines = {line.split()[0]: line for line in before.output.splitlines()[1:]}
    assert {"send-outbox", "purge-sessions", "purge-job-runs"} <= set(lines)
    assert "minute=*" in lines["send-outbox"] and "never run" in lines["send-outbox"]

    runner.invoke(args=["jobs", "run", "purge-sessions", "--period", "2026-11-23"])
    db.session.rollback()  # the runner shares the test's session; a real CLI run is a process
    after = runner.invoke(args=["jobs", "list"])
    purge = next(line for line in after.output.splitlines() if line.startswith("purge-sessions"))
    assert "2026-11-23 done" in purge


def test_run_send_outbox_sends_the_queue(runner: Any) -> None:
    enqueue_email(key="cli-1", to="a@example.com", subject="您好", body="正文")
    db.session.commit()
    result = runner.invoke(args=["jobs", "run", "send-outbox"])
    assert result.exit_code == 0, result.output
    header, summary = result.output.splitlines()[:2]
    assert header.startswith("send-outbox ") and header.endswith(": done")
    assert json.loads(summary)["sent"] == 1
    db.session.rollback()
    row = db.session.scalars(sa.select(OutboxMessage)).one()
    assert row.status == "sent"  # no MAIL_SERVER under tests: logged and marked sent


def test_run_twice_for_one_period_says_skipped(runner: Any) -> None:
    args = ["jobs", "run", "purge-sessions", "--period", "2026-11-23"]
    first = runner.invoke(args=args)
    again = runner.invoke(args=args)
    assert first.exit_code == 0 and "purge-sessions 2026-11-23: done" in first.output
    assert again.exit_code == 0 and "purge-sessions 2026-11-23: skipped" in again.output
    assert "already run" in again.output


def test_unknown_job_is_a_usage_error(runner: Any) -> None:
    result = runner.invoke(args=["jobs", "run", "nope"])
    assert result.exit_code == 2
    assert "no job named 'nope'" in result.output and "send-outbox" in result.output


def test_failing_job_exits_non_zero(runner: Any, temp_job: Callable[..., Any]) -> None:
    def broken(now: datetime) -> dict[str, Any]:
        raise RuntimeError("database on fire")

    temp_job("test-broken", broken)
    result = runner.invoke(args=["jobs", "run", "test-broken"])
    assert result.exit_code == 1
    assert "failed" in result.output and "database on fire" in result.output
