"""`flask voice-rules …`: the default classification rules, and how the rules compare with
what staff set."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.core.scoping import Scope
from app.extensions import db
from app.voice.classification_services import corrections_report
from app.voice.rules import ensure_default_rules

voice_rules_cli = AppGroup("voice-rules", help="Keyword rules that classify customer voices.")


@voice_rules_cli.command("init")
def init_rules() -> None:
    """Add the default keyword rules that are missing (Chinese and English, every default
    category). Safe to run again: existing rules, changed or deactivated, are left alone."""
    added = ensure_default_rules()
    db.session.commit()
    click.echo(f"Classification rules: {added} added.")


@voice_rules_cli.command("eval")
def evaluate() -> None:
    """Compare what the rules suggested with what staff set, over every voice staff
    classified or corrected."""
    report = corrections_report(Scope("company"))
    click.echo(
        f"Voices classified by staff: {report.staff_classified}; "
        f"left as the rules suggested: {report.by_rules}"
    )
    for f in report.fields:
        rate = f"{f.rate:.1%}" if f.rate is not None else "n/a"
        click.echo(f"{f.name:<10} agreed {f.agreed}/{f.compared} ({rate})")
        top = sorted(f.confusions.items(), key=lambda kv: -kv[1])[:5]
        for (got, want), count in top:
            click.echo(f"    rules {got!s:<18} staff {want!s:<18} {count}")
