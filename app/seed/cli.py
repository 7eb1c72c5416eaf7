"""`flask seed-demo`: a demo organisation and a year of data. Deterministic (seeded), idempotent
(a second run changes nothing), shows progress. Later features add a step to STEPS."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click
import sqlalchemy as sa

from app.db import utcnow
from app.extensions import db
from app.org.models import Region
from app.seed.customers import seed_customers
from app.seed.issues import seed_issues
from app.seed.org import DEMO_PASSWORD, DemoOrg, seed_org
from app.seed.surveys import seed_surveys
from app.seed.voices import seed_voices, voice_count
from app.voice.rules import ensure_default_rules
from app.warnings.services import refresh as refresh_warnings

if TYPE_CHECKING:
    from faker import Faker

SEED = 20261123


@dataclass
class Step:
    name: str
    size: Callable[[dict[str, Any]], int]
    run: Callable[[random.Random, Faker, DemoOrg, dict[str, Any], Callable[[int], None]], Any]


STEPS: list[Step] = [
    Step("rules", lambda opts: 1, lambda rng, fake, org, opts, tick: tick(ensure_default_rules())),
    Step(
        "customers",
        lambda opts: int(opts["customers"]),
        lambda rng, fake, org, opts, tick: seed_customers(rng, fake, org, opts["customers"], tick),
    ),
    Step(
        "issues",
        lambda opts: int(opts["issues"]),
        lambda rng, fake, org, opts, tick: seed_issues(rng, fake, org, opts["issues"], tick),
    ),
    Step(
        "voices", voice_count, lambda r, f, o, opts, t: seed_voices(r, f, o, voice_count(opts), t)
    ),
    Step("surveys", lambda opts: 4, lambda r, f, o, opts, t: seed_surveys(r, f, o, t)),
    Step("warnings", lambda opts: 1, lambda r, f, o, opts, t: seed_warnings(t)),
]


def seed_warnings(tick: Callable[[int], None]) -> None:
    """The watch list as the morning job would leave it; the demo's past sends no e-mail."""
    db.session.flush()
    refresh_warnings(utcnow(), notify=False)
    tick(1)


def already_seeded() -> bool:
    return db.session.scalar(sa.select(Region.id).where(Region.code == "EAST")) is not None


def wipe() -> None:
    """Delete everything (used only with --force, on a demo database)."""
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


@click.command("seed-demo")
@click.option("--force", is_flag=True, help="delete ALL data first and seed again")
@click.option("--customers", default=1000, show_default=True, type=click.IntRange(0, 2_000_000))
@click.option("--issues", default=6000, show_default=True, type=click.IntRange(0, 5_000_000))
def seed_demo(force: bool, customers: int, issues: int) -> None:
    """Load the demo organisation, people and data (once)."""
    if already_seeded():
        if not force:
            click.echo("Demo data is already loaded; nothing to do (use --force to reload).")
            return
        wipe()
    rng = random.Random(SEED)
    from faker import Faker  # here, not at import: every web worker imports the CLI

    Faker.seed(SEED)
    fake = Faker("zh_CN")
    org = seed_org(rng, fake)
    options: dict[str, Any] = {"customers": customers, "issues": issues if customers else 0}
    for step in STEPS:
        size = step.size(options)
        with click.progressbar(length=max(size, 1), label=f"{step.name:<10}") as bar:
            step.run(rng, fake, org, options, bar.update)
    db.session.commit()
    click.echo("")
    click.echo(
        f"Demo data loaded: {len(org.offices)} offices, {len(org.users)} staff, "
        f"{customers} customers, {options['issues']} issues."
    )
    click.echo(f"Every demo account's password: {DEMO_PASSWORD}")
    for email, what in [
        ("admin@demo.local", "administrator"),
        ("quality1@demo.local", "company quality admin"),
        ("rm.east@demo.local", "regional manager, East"),
        ("om.sh@demo.local", "office manager, Shanghai"),
        ("agent.sh1@demo.local", "hotline agent, Shanghai"),
        ("handler.sh1@demo.local", "handler, Shanghai"),
    ]:
        click.echo(f"  {email:<26} {what}")
