"""`flask issues …`: issue reference data from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.extensions import db
from app.issues.reference import ensure_reference_data

issues_cli = AppGroup("issues", help="Issue categories, root causes and SLA targets.")


@issues_cli.command("init-reference")
def init_reference() -> None:
    """Add the default categories, root causes and SLA targets that are missing.

    Safe to run again: rows that exist (and what admins changed in them) are left alone.
    """
    added = ensure_reference_data()
    db.session.commit()
    click.echo(
        "Reference data: {categories} categories, {root_causes} root causes, "
        "{sla_targets} SLA targets added.".format(**added)
    )
