"""Demo customers with realistic Chinese names, companies and mobile numbers."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa

from app.customers.models import Customer, CustomerPhone
from app.customers.phones import normalise_phone
from app.extensions import db
from app.seed.org import DemoOrg

if TYPE_CHECKING:
    from faker import Faker  # the demo loader's, not a web worker's, import

TIERS = ["A", "B", "C", "D"]
TIER_WEIGHTS = [1, 3, 6, 8]
MOBILE_PREFIXES = [
    "130",
    "131",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "152",
    "155",
    "158",
    "159",
    "166",
    "177",
    "180",
    "181",
    "186",
    "187",
    "188",
    "189",
    "199",
]


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def seed_customers(
    rng: random.Random, fake: Faker, org: DemoOrg, count: int, tick: Callable[[int], None]
) -> list[int]:
    office_ids = list(org.offices.values())
    today = date(2026, 11, 1)
    used: set[str] = set()
    batch = 500
    customer_ids: list[int] = []
    for start in range(0, count, batch):
        size = min(batch, count - start)
        rows = []
        phones: list[str] = []
        for _ in range(size):
            number = mobile(rng)
            while number in used:
                number = mobile(rng)
            used.add(number)
            phones.append(number)
            rows.append(
                {
                    "name": fake.name(),
                    "company": fake.company(),
                    "email": fake.free_email() if rng.random() < 0.6 else None,
                    "office_id": rng.choice(office_ids),
                    "tier": rng.choices(TIERS, TIER_WEIGHTS)[0],
                    "contract_end": today + timedelta(days=rng.randrange(-60, 730)),
                    "notes": "",
                    "version": 1,
                }
            )
        ids = list(db.session.scalars(sa.insert(Customer).returning(Customer.id), rows))
        customer_ids.extend(ids)
        phone_rows = []
        for customer_id, number in zip(ids, phones, strict=True):
            formatted = f"{number[:3]} {number[3:7]} {number[7:]}"
            phone_rows.append(
                {"customer_id": customer_id, "number": normalise_phone(formatted), "raw": formatted}
            )
        db.session.execute(sa.insert(CustomerPhone), phone_rows)
        tick(size)
    return customer_ids
