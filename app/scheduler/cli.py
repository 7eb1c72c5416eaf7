"""`flask jobs list` and `flask jobs run NAME [--period KEY]`: the same registry and runner as
the scheduler, so a manual run claims its period exactly like a scheduled one."""

from __future__ import annotations

import json

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup

from app.extensions import db
from app.scheduler.models import JobRun
from app.scheduler.registry import load_jobs
from app.scheduler.runner import UnknownJob, run_job

jobs_cli = AppGroup("jobs", help="Scheduled jobs: list them, or run one now.")


@jobs_cli.command("list")
def list_jobs() -> None:
    """List the jobs with their schedule (cron fields, TIMEZONE) and last run."""
    jobs = sorted(load_jobs().values(), key=lambda j: j.name)
    last_ids = (
        sa.select(sa.func.max(JobRun.id))
        .where(JobRun.job_name.in_([j.name for j in jobs]))
        .group_by(JobRun.job_name)
    )
    last_rows = db.session.scalars(sa.select(JobRun).where(JobRun.id.in_(last_ids)))
    last_runs = {row.job_name: row for row in last_rows}
    click.echo(f"Schedules are in {current_app.config['TIMEZONE']}.")
    for job in jobs:
        last = last_runs.get(job.name)
        last_text = f"{last.period_key} {last.status}" if last else "never run"
        click.echo(f"{job.name:<18} {job.schedule_text:<24} {last_text:<30} {job.description}")


@jobs_cli.command("run")
@click.argument("name")
@click.option("--period", default=None, help="Period key to claim (default: the current one).")
def run(name: str, period: str | None) -> None:
    """Run a job now, once per period like the scheduler."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        outcome = run_job(app, name, force_period=period)
    except UnknownJob:
        known = ", ".join(sorted(load_jobs()))
        click.echo(f"Error: no job named {name!r}. Known jobs: {known}", err=True)
        raise SystemExit(2) from None
    click.echo(f"{outcome.job} {outcome.period}: {outcome.status}")
    if outcome.result:
        click.echo(json.dumps(outcome.result, ensure_ascii=False, sort_keys=True))
    if outcome.status == "skipped":
        click.echo("This period has already run, or is running elsewhere.")
    if outcome.status == "failed":
        click.echo(f"Error: {outcome.error}", err=True)
        raise SystemExit(1)
