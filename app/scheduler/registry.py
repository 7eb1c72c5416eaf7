"""The one list of scheduled jobs, read by the scheduler and by `flask jobs`.

Contract for a job function: `fn(now: datetime) -> dict` (a short JSON-safe summary). It does
"what is due and not yet done" as of `now`, so a run after downtime catches up and a repeated
run finds nothing left to do; domain uniqueness (e.g. one escalation per issue and level)
backs that up. The runner additionally claims (job, period) so the same period runs once.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.core import timeutils

JobFunc = Callable[[datetime], dict[str, Any]]
PeriodFunc = Callable[[datetime, str], str]


@dataclass(frozen=True)
class Job:
    name: str
    func: JobFunc
    cron: dict[str, str]  # APScheduler CronTrigger fields, in the configured TIMEZONE
    period: PeriodFunc  # (now, tz) -> the key a run covers, e.g. "2026-W47"
    description: str
    schedule_text: str = field(default="")


JOBS: dict[str, Job] = {}

# Domain modules that register jobs; a module that does not exist yet is simply skipped.
JOB_MODULES = (
    "app.core.jobs",
    "app.issues.jobs",
    "app.surveys.jobs",
    "app.reports.jobs",
    "app.warnings.jobs",
)


def every_minute(now: datetime, tz: str) -> str:
    return timeutils.minute_key(now, tz)


def daily(now: datetime, tz: str) -> str:
    return timeutils.day_key(now, tz)


def weekly(now: datetime, tz: str) -> str:
    return timeutils.iso_week_key(timeutils.local(now, tz).date())


def monthly(now: datetime, tz: str) -> str:
    return timeutils.month_key(timeutils.local(now, tz).date())


def register_job(
    name: str, *, cron: dict[str, str], period: PeriodFunc, description: str
) -> Callable[[JobFunc], JobFunc]:
    def decorator(func: JobFunc) -> JobFunc:
        text = " ".join(f"{k}={v}" for k, v in cron.items())
        JOBS[name] = Job(name, func, cron, period, description, text)
        return func

    return decorator


def load_jobs() -> dict[str, Job]:
    for module in JOB_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if not exc.name or not module.startswith(exc.name):
                raise
    return JOBS
