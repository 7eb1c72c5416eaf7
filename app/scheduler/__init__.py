"""The in-process scheduler. Started only by the serving entry points when SCHEDULER_ENABLED is
set, never in tests or CLI commands. Any number may run: each period is claimed once in the
database (app.scheduler.runner)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

log = logging.getLogger(__name__)


def start_scheduler(app: Flask) -> Any:
    if app.testing or not app.config.get("SCHEDULER_ENABLED"):
        return None
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
            name=job.description,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
        )
    scheduler.start()
    log.info("scheduler started with jobs: %s", ", ".join(sorted(load_jobs())))
    return scheduler
