"""Demo organisation and people."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sqlalchemy as sa

from app.auth.models import User
from app.auth.passwords import hash_password
from app.auth.roles import Role
from app.extensions import db
from app.org.models import Office, Region

if TYPE_CHECKING:
    from faker import Faker  # the demo loader's, not a web worker's, import

DEMO_PASSWORD = "demo-password-2026"

REGIONS = [("EAST", "华东地区部"), ("SOUTH", "华南地区部")]
OFFICES = [
    ("SH", "上海代表处", "EAST"),
    ("HZ", "杭州代表处", "EAST"),
    ("NJ", "南京代表处", "EAST"),
    ("GZ", "广州代表处", "SOUTH"),
    ("SZ", "深圳代表处", "SOUTH"),
    ("XM", "厦门代表处", "SOUTH"),
]


@dataclass
class DemoOrg:
    regions: dict[str, int] = field(default_factory=dict)
    offices: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)  # e-mail → id


def seed_org(rng: random.Random, fake: Faker) -> DemoOrg:
    org = DemoOrg()
    for code, name in REGIONS:
        region = Region(code=code, name=name)
        db.session.add(region)
        db.session.flush()
        org.regions[code] = region.id
    for code, name, region_code in OFFICES:
        office = Office(code=code, name=name, region_id=org.regions[region_code])
        db.session.add(office)
        db.session.flush()
        org.offices[code] = office.id

    password_hash = hash_password(DEMO_PASSWORD)  # once: scrypt is slow on purpose
    rows: list[dict[str, object]] = []

    def person(
        email: str, role: Role, office: str | None = None, region: str | None = None
    ) -> None:
        rows.append(
            {
                "email": email,
                "name": fake.name(),
                "role": role.value,
                "office_id": org.offices[office] if office else None,
                "region_id": org.regions[region] if region else None,
                "password_hash": password_hash,
            }
        )

    person("admin@demo.local", Role.ADMIN)
    person("quality1@demo.local", Role.QUALITY_ADMIN)
    person("quality2@demo.local", Role.QUALITY_ADMIN)
    for code, _ in REGIONS:
        person(f"rm.{code.lower()}@demo.local", Role.REGIONAL_MANAGER, region=code)
    for code, _, _ in OFFICES:
        slug = code.lower()
        person(f"om.{slug}@demo.local", Role.OFFICE_MANAGER, office=code)
        for i in range(1, 4):
            person(f"agent.{slug}{i}@demo.local", Role.AGENT, office=code)
        for i in range(1, 3):
            person(f"handler.{slug}{i}@demo.local", Role.HANDLER, office=code)
    db.session.execute(sa.insert(User), rows)
    for user_id, email in db.session.execute(sa.select(User.id, User.email)):
        org.users[email] = user_id
    return org
