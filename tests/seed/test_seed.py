from __future__ import annotations

import sqlalchemy as sa

from app.auth.models import User
from app.auth.passwords import verify_password
from app.auth.roles import Role
from app.customers.models import Customer, CustomerPhone
from app.extensions import db
from app.seed.org import DEMO_PASSWORD


def snapshot():
    customers = db.session.execute(
        sa.select(Customer.name, Customer.company, CustomerPhone.number)
        .join(CustomerPhone)
        .order_by(Customer.id)
    ).all()
    return [tuple(row) for row in customers]


def test_seed_demo_is_idempotent_and_deterministic(runner):
    first = runner.invoke(args=["seed-demo", "--customers", "60"])
    assert first.exit_code == 0, first.output
    assert "demo-password-2026" in first.output
    before = snapshot()
    assert len(before) == 60
    again = runner.invoke(args=["seed-demo", "--customers", "60"])
    assert again.exit_code == 0 and "already loaded" in again.output
    assert snapshot() == before
    forced = runner.invoke(args=["seed-demo", "--customers", "60", "--force"])
    assert forced.exit_code == 0
    assert snapshot() == before


def test_seed_demo_people_cover_every_role(runner):
    runner.invoke(args=["seed-demo", "--customers", "5"])
    roles = set(db.session.scalars(sa.select(User.role)))
    assert roles == {r.value for r in Role}
    staff = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    assert 35 <= staff <= 45
    admin = db.session.scalars(sa.select(User).where(User.email == "admin@demo.local")).one()
    assert verify_password(admin.password_hash, DEMO_PASSWORD)
    phones = list(db.session.scalars(sa.select(CustomerPhone.number)))
    assert all(len(p) == 11 and p.startswith("1") for p in phones)
