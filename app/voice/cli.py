"""`flask voices …`: bulk import of voices from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from app.auth.models import User
from app.core.errors import DomainError
from app.extensions import db
from app.voice.importers import Limits
from app.voice.imports import (
    IMPORT_FIELDS,
    ImportSummary,
    prepare_import,
    prepare_resume,
    run_import,
)

voices_cli = AppGroup("voices", help="Customer voices: bulk import.")


def _parse_maps(maps: tuple[str, ...]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in maps:
        name, sep, header = item.partition("=")
        if not sep or not name.strip() or not header.strip():
            raise click.BadParameter(f"{item!r}: write field=Header", param_hint="--map")
        mapping[name.strip()] = header.strip()
    return mapping


def _actor(email: str | None) -> User | None:
    if email is None:
        return None
    user = db.session.scalars(sa.select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        raise click.BadParameter(f"no user {email}", param_hint="--user")
    return user


@voices_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--channel", help="channel code, e.g. return, sales_report, market_research")
@click.option("--office", help="office code")
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="FIELD=HEADER",
    help="product field = the file's column header (repeat); fields: " + ", ".join(IMPORT_FIELDS),
)
@click.option("--resume", "resume_id", type=int, help="continue an unfinished import (same file)")
@click.option("--user", "email", help="import as this user (their scope; default: system)")
def import_voices(
    file: Path,
    channel: str | None,
    office: str | None,
    maps: tuple[str, ...],
    resume_id: int | None,
    email: str | None,
) -> None:
    """Import voices from a CSV or XLSX FILE, showing progress, then a summary."""
    limits = Limits.from_config(current_app.config)
    data = file.read_bytes()
    actor = _actor(email)
    try:
        if resume_id is not None:
            imp, table = prepare_resume(
                actor=actor, import_id=resume_id, filename=file.name, data=data, limits=limits
            )
        else:
            if not channel or not office or not maps:
                raise click.UsageError("--channel, --office and --map are needed (or --resume ID)")
            imp, table = prepare_import(
                actor=actor,
                office_code=office,
                channel=channel,
                filename=file.name,
                data=data,
                mapping=_parse_maps(maps),
                limits=limits,
            )
        total = imp.total_rows or 0
        click.echo(f"Import {imp.id}: {file.name}, {total} rows, starting at row {imp.next_row}")
        with click.progressbar(length=total, label="Importing", show_pos=True) as bar:
            bar.update(imp.next_row)
            done = {"rows": imp.next_row}

            def progress(rows: int, _total: int) -> None:
                bar.update(rows - done["rows"])
                done["rows"] = rows

            summary = run_import(imp, table, actor=actor, on_progress=progress)
    except DomainError as exc:
        db.session.rollback()
        details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
        raise click.ClickException(exc.message + (f" ({details})" if details else "")) from exc
    _print_summary(summary)


def _print_summary(summary: ImportSummary) -> None:
    click.echo(
        f"Import {summary.import_id} {summary.status}: {summary.created} created, "
        f"{summary.duplicates} duplicates, {summary.rejected_count} rejected "
        f"of {summary.total_rows} rows."
    )
    for item in summary.rejected[:50]:
        errors: dict[str, Any] = item["errors"]
        click.echo(f"  row {item['row']}: " + "; ".join(f"{k}: {v}" for k, v in errors.items()))
    if summary.rejected_count > 50:
        click.echo(f"  … and {summary.rejected_count - 50} more rejected rows")
