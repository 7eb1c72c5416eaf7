"""`flask jobs list` and `flask jobs run NAME`: the same registry and runner as the scheduler."""

from __future__ import annotations

import json

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from app.extensions import db
from app.scheduler.models import JobRun
from app.scheduler.registry import load_jobs
from app.scheduler.runner import UnknownJob, run_job_here

jobs_cli = AppGroup("jobs", help="Scheduled jobs.")


@jobs_cli.command("list")
def list_jobs() -> None:
    """List the jobs, their schedules and their last run."""
    for job in sorted(load_jobs().values(), key=lambda j: j.name):
        last = db.session.scalars(
            sa.select(JobRun).where(JobRun.job_name == job.name).order_by(JobRun.id.desc()).limit(1)
        ).first()
        last_text = f"{last.period_key} {last.status}" if last else "never run"
        click.echo(f"{job.name:<18} {job.schedule_text:<22} {last_text:<28} {job.description}")


@jobs_cli.command("run")
@click.argument("name")
@click.option("--period", default=None, help="the period key to run for (default: the current one)")
def run(name: str, period: str | None) -> None:
    """Run a job now (once per period, like the scheduler)."""
    try:
        outcome = run_job_here(name, period=period)
    except UnknownJob:
        click.echo(f"Error: unknown job {name!r}; see `flask jobs list`", err=True)
        raise SystemExit(2) from None
    click.echo(f"{outcome.job} {outcome.period}: {outcome.status}")
    if outcome.result:
        click.echo(json.dumps(outcome.result, ensure_ascii=False, default=str))
    if outcome.status == "skipped":
        click.echo("This period has already run (or is running).")
    if outcome.status == "failed":
        click.echo(f"Error: {outcome.error}", err=True)
        raise SystemExit(1)
