"""`flask users …`: add staff and hand out API tokens from the command line."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from app.auth import services
from app.auth.models import User
from app.auth.tokens import issue_token, revoke_token
from app.core.errors import ValidationFailed
from app.extensions import db

users_cli = AppGroup("users", help="Staff users and API tokens.")


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(2)


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--role",
    required=True,
    help="agent, handler, office_manager, regional_manager, quality_admin or admin",
)
@click.option("--office", "office_code", default=None, help="office code, for office roles")
@click.option("--region", "region_code", default=None, help="region code, for regional roles")
@click.option("--password", required=True)
def create(
    email: str,
    name: str,
    role: str,
    office_code: str | None,
    region_code: str | None,
    password: str,
) -> None:
    """Create a staff user."""
    try:
        user = services.create_user(
            email=email,
            name=name,
            role=role,
            password=password,
            office_code=office_code,
            region_code=region_code,
        )
    except ValidationFailed as exc:
        db.session.rollback()
        _fail("; ".join(f"{field}: {why}" for field, why in exc.fields.items()))
        return
    db.session.commit()
    place = user.office.code if user.office else user.region.code if user.region else "company"
    click.echo(f"Created user {user.id} {user.email} ({user.role}, {place})")


@users_cli.command("token")
@click.option("--email", required=True)
@click.option("--name", default="cli", help="a label to recognise the token by")
def token(email: str, name: str) -> None:
    """Print a new API token for a user (last line). It is shown only once."""
    user = db.session.scalars(sa.select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        _fail(f"no user with e-mail {email}")
        return
    row, plaintext = issue_token(user, name=name)
    db.session.commit()
    click.echo(f"Token {row.id} for {user.email} (store it now; it is not shown again):")
    click.echo(plaintext)


@users_cli.command("revoke-token")
@click.option("--id", "token_id", type=int, required=True)
def revoke(token_id: int) -> None:
    """Revoke an API token by id."""
    if not revoke_token(token_id):
        _fail(f"no active token {token_id}")
    db.session.commit()
    click.echo(f"Token {token_id} revoked")
