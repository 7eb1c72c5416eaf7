"""The one list of scheduled jobs, read by the scheduler (app.scheduler.start_scheduler) and by
`flask jobs list` / `flask jobs run`, so a manual run and a scheduled run take the same path.

Adding a job is one decorator in the domain's own `jobs.py`:

    @register_job("weekly-report", cron={"day_of_week": "mon", "hour": "6"},
                  period=weekly, description="Weekly monitoring report per office.")
    def weekly_report(now: datetime) -> dict[str, Any]: ...

and, for a module not yet in JOB_MODULES, one line there.

Contract for a job function `fn(now) -> dict`:
- `now` is an aware UTC datetime chosen by the caller. The job never reads the clock itself, so
  tests and catch-up runs pass any `now`.
- It does "what is due and not yet done" as of `now`: the escalations due by `now` that have no
  escalation row yet, the weeks up to `now` that have no report snapshot yet. So a run after
  downtime catches up on every missed period, and a repeated run finds nothing to do. Domain
  uniqueness backs this up (one escalation per issue and level, one invitation per campaign and
  contact, one snapshot per kind, scope and period, one outbox message per key).
- It changes data through services and does not commit: the runner wraps it in one unit of work
  and commits its work together with the "done" mark of its claim. (The outbox sender is the
  exception: it commits each message claim before delivering, see app.core.outbox_service.)
- It returns a short JSON-safe summary (counts), kept on the JobRun row and shown by the CLI.
- `current_period()` gives the period key the run has claimed, for a job that builds exactly
  one period (a report) and so honours `flask jobs run NAME --period KEY`.

The runner claims `(name, period(now, TIMEZONE))` before running, so each period runs once
however many schedulers, hosts or operators ask (app.scheduler.runner). Period functions turn
`now` into the key of the period a run covers, in the office time zone: "2026-11-23T08:05"
(minutes), "2026-11-23" (days), "2026-W48" (ISO weeks), "2026-11" (months).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.core import timeutils

JobFunc = Callable[[datetime], dict[str, Any]]
PeriodFunc = Callable[[datetime, str], str]  # (now, time zone name) -> period key


@dataclass(frozen=True)
class Job:
    name: str
    func: JobFunc
    cron: dict[str, str]  # APScheduler CronTrigger fields, read in the configured TIMEZONE
    period: PeriodFunc
    description: str

    @property
    def schedule_text(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.cron.items())


JOBS: dict[str, Job] = {}

# Domain modules that register jobs. A module that does not exist (yet) is skipped; an import
# error inside a module that does exist is raised, never hidden.
JOB_MODULES = (
    "app.core.jobs",
    "app.issues.jobs",
    "app.surveys.jobs",
    "app.reports.jobs",
    "app.warnings.jobs",
    "app.voice.jobs",
    "app.actions.jobs",
)


def every_minute(now: datetime, tz: str) -> str:
    return timeutils.minute_key(now, tz)


def every_n_minutes(n: int) -> PeriodFunc:
    """Periods of n minutes within the hour, keyed by their first minute ("…T08:05" for n=5)."""
    if not 1 <= n <= 60 or 60 % n:
        raise ValueError("n must divide 60")

    def period(now: datetime, tz: str) -> str:
        # floor in local time: zones such as +05:45 do not share UTC's slot boundaries
        return timeutils.minute_key(timeutils.floor_minutes(timeutils.local(now, tz), n), tz)

    return period


def daily(now: datetime, tz: str) -> str:
    return timeutils.day_key(now, tz)


def weekly(now: datetime, tz: str) -> str:
    return timeutils.iso_week_key(timeutils.local(now, tz).date())


def monthly(now: datetime, tz: str) -> str:
    return timeutils.month_key(timeutils.local(now, tz).date())


def register_job(
    name: str, *, cron: dict[str, str], period: PeriodFunc, description: str
) -> Callable[[JobFunc], JobFunc]:
    """Decorator adding `func` to the registry under `name` (re-registering replaces it)."""
    if not name or len(name) > 64:
        raise ValueError("a job name is 1 to 64 characters (JobRun.job_name)")

    def decorator(func: JobFunc) -> JobFunc:
        JOBS[name] = Job(name, func, dict(cron), period, description)
        return func

    return decorator


def load_jobs() -> dict[str, Job]:
    """Import every job module that exists, then return the registry."""
    for module in JOB_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            # only "this job module (or its package) does not exist" is expected
            if not exc.name or not (module == exc.name or module.startswith(exc.name + ".")):
                raise
    return JOBS


_current_period: ContextVar[str | None] = ContextVar("current_job_period", default=None)


def current_period() -> str | None:
    """The period key claimed by the job run in progress (None outside a run)."""
    return _current_period.get()


@contextmanager
def running_period(key: str) -> Iterator[None]:
    token = _current_period.set(key)
    try:
        yield
    finally:
        _current_period.reset(token)
