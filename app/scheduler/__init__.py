"""The in-process scheduler. Only the serving entry points start it (app.serve, app.wsgi,
app.scheduler.worker), and only when SCHEDULER_ENABLED is set; never under tests, in
`flask db …` or other CLI commands. Several may run at once (workers, hosts): each period is
claimed once in the database (app.scheduler.runner), so a duplicate scheduler wastes a query,
never repeats work.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flask import Flask

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger(__name__)

# A tick missed by up to an hour (a busy or suspended process) still runs once on wake-up;
# later than that, the next tick's "what is due" run catches up anyway.
MISFIRE_GRACE_SECONDS = 3600


def build_scheduler(app: Flask) -> BackgroundScheduler:
    """A scheduler holding every registered job (not started). The job store is in memory:
    jobs are re-registered from the registry at each start, so there is no state to migrate."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger

    from app.scheduler.registry import load_jobs
    from app.scheduler.runner import run_job

    tz = app.config["TIMEZONE"]
    scheduler = BackgroundScheduler(timezone=tz)
    for job in load_jobs().values():
        scheduler.add_job(
            run_job,
            CronTrigger(timezone=tz, **job.cron),
            args=[app, job.name],
            id=job.name,
            name=job.name,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=MISFIRE_GRACE_SECONDS,
        )
    return scheduler


def start_scheduler(app: Flask) -> BackgroundScheduler | None:
    """Start the scheduler for `app` when SCHEDULER_ENABLED, never when testing. Idempotent per
    app: a second call returns the running scheduler."""
    if app.testing or not app.config.get("SCHEDULER_ENABLED"):
        return None
    running: BackgroundScheduler | None = app.extensions.get("scheduler")
    if running is not None:
        return running
    scheduler = build_scheduler(app)
    scheduler.start()
    app.extensions["scheduler"] = scheduler
    log.info(
        "scheduler started (%s): %s",
        app.config["TIMEZONE"],
        ", ".join(job.id for job in scheduler.get_jobs()),
    )
    return scheduler
