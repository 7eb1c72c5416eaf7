"""`flask surveys …`: survey chores from the command line. `bounces PATH` reads late bounces
(delivery-status notifications) from a message file, an mbox, a Maildir or a directory, e.g.
the mailbox MAIL_BOUNCE_ADDRESS delivers to, and marks the invitations they are about."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.db import utcnow
from app.extensions import db
from app.surveys import bounces

surveys_cli = AppGroup("surveys", help="Surveys: late bounces of invitation e-mail.")

LABELS = {
    "hard": "hard bounce recorded",
    "soft": "soft bounce recorded",
    "unchanged": "already recorded",
    "delayed": "delayed only (nothing to record)",
    "not_failed": "no failed recipient",
    "unknown": "no message of ours",
    "not_dsn": "not a delivery-status notification",
}


@surveys_cli.command("bounces")
@click.argument("path", type=click.Path(exists=True, readable=True))
@click.option("--verbose", "-v", is_flag=True, help="one line per message read")
def read_bounces(path: str, verbose: bool) -> None:
    """Record the bounces in PATH (a message file, mbox, Maildir or directory). Reading the
    same notification again changes nothing."""
    counts = dict.fromkeys(bounces.OUTCOMES, 0)
    for name, raw in bounces.read_messages(path):
        outcome = bounces.record(bounces.parse(raw), utcnow())
        db.session.commit()  # one notification at a time: a bad one costs only itself
        counts[outcome] += 1
        if verbose:
            click.echo(f"{name}: {LABELS[outcome]}")
    read = sum(counts.values())
    click.echo(f"{read} message(s) read")
    for outcome, n in counts.items():
        if n:
            click.echo(f"  {LABELS[outcome]}: {n}")
