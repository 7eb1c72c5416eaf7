"""The `early-warning` job at scale: N issues and N voices over two years, 60,000 customers in
six offices (contracts ending over the next two years, ratings, 4 % of issues escalated, two
thirds of voices from known customers).

Times, beside a bare GROUP BY reference in the same run on the same database (the contacts of
every customer over the job's longest window, through the raw DBAPI cursor):
- the first run of the job (every warning raised, with its audit row);
- a second run at the same moment (everything already raised: the steady state of a daily run).

    .venv/bin/python bench/early_warning.py [--n 1000000] [--no-pg]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import make_app, scratch_databases

NOW = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
CUSTOMERS_PER_OFFICE = 10_000
BATCH = 20_000


def load(app, n: int) -> None:
    from app.customers.models import Customer
    from app.extensions import db
    from app.issues.models import Category, Escalation, Issue
    from app.issues.reference import ensure_reference_data
    from app.org.models import Office
    from app.org.services import create_office, create_region
    from app.voice.models import Voice

    rng = random.Random(11)
    with app.app_context():
        create_region(code="EAST", name="EAST", actor=None)
        for i in range(6):
            create_office(code=f"O{i}", name=f"代表处 {i}", region_code="EAST", actor=None)
        ensure_reference_data()
        db.session.commit()
        offices = list(db.session.scalars(sa.select(Office.id).order_by(Office.code)))
        category = db.session.scalars(sa.select(Category.id)).first()
        today = NOW.date()
        customers: list[tuple[int, int]] = []
        for office_id in offices:
            rows = [
                {
                    "name": f"客户{office_id}-{i}",
                    "office_id": office_id,
                    "tier": "C",
                    "notes": "",
                    "version": 1,
                    "contract_end": today + timedelta(days=rng.randrange(-90, 730)),
                }
                for i in range(CUSTOMERS_PER_OFFICE)
            ]
            ids = db.session.scalars(sa.insert(Customer).returning(Customer.id), rows)
            customers += [(cid, office_id) for cid in ids]
        db.session.commit()
        start, span = NOW - timedelta(days=730), 730 * 86400
        with click.progressbar(length=2 * n, label="loading issues and voices") as bar:
            for first in range(0, n, BATCH):
                issues, escalations, voices = [], [], []
                for k in range(first, min(n, first + BATCH)):
                    at = start + timedelta(seconds=span * k / n)
                    cid, office_id = customers[rng.randrange(len(customers))]
                    closed = at + timedelta(days=rng.uniform(0.5, 10))
                    closed = closed if closed < NOW else None
                    issues.append(
                        {
                            "id": k + 1,
                            "number": f"B-{k:08d}",
                            "office_id": office_id,
                            "customer_id": cid,
                            "title": "设备故障",
                            "description": "",
                            "channel": "hotline",
                            "category_id": category,
                            "priority": "normal",
                            "status": "closed" if closed else "handling",
                            "escalation_level": 0,
                            "received_at": at,
                            "response_due_at": at + timedelta(hours=6),
                            "resolve_due_at": at + timedelta(days=5),
                            "response_target_minutes": 240,
                            "resolve_target_minutes": 2700,
                            "resolved_at": closed,
                            "closed_at": closed,
                            "rating": rng.choice((1, 2, 3, 4, 4, 5, 5, 5)) if closed else None,
                            "reopen_count": 0,
                            "version": 1,
                            "created_at": at,
                            "updated_at": at,
                        }
                    )
                    if rng.random() < 0.04:
                        escalations.append(
                            {
                                "issue_id": k + 1,
                                "level": 1,
                                "reason": "SLA",
                                "automatic": True,
                                "at": at + timedelta(days=1),
                            }
                        )
                    vcid, voffice = customers[rng.randrange(len(customers))]
                    voices.append(
                        {
                            "id": k + 1,
                            "reference": f"V{k:09d}",
                            "channel": "sales_report",
                            "kind": "passive",
                            "office_id": voffice,
                            "customer_id": vcid if rng.random() < 0.67 else None,
                            "occurred_at": at,
                            "text": "客户订单",
                            "details": {},
                            "created_at": at,
                        }
                    )
                db.session.execute(sa.insert(Issue.__table__), issues)
                if escalations:
                    db.session.execute(sa.insert(Escalation.__table__), escalations)
                db.session.execute(sa.insert(Voice.__table__), voices)
                db.session.commit()
                bar.update(2 * len(issues))
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def reference(app) -> float:
    """Contacts per customer over the longest window, bare SQL through the DBAPI cursor."""
    from app.extensions import db

    since = NOW - timedelta(days=240)
    sql = (
        "SELECT customer_id, count(*) FROM ("
        " SELECT customer_id FROM issues WHERE received_at >= :s AND received_at < :n"
        " UNION ALL SELECT customer_id FROM voices WHERE customer_id IS NOT NULL"
        " AND occurred_at >= :s AND occurred_at < :n) c GROUP BY customer_id"
    )
    with app.app_context():
        start = time.perf_counter()
        rows = db.session.execute(sa.text(sql), {"s": since, "n": NOW}).all()
        elapsed = time.perf_counter() - start
        db.session.rollback()
    print(
        f"  reference: contacts per customer over 240 days (bare GROUP BY, {len(rows):,} rows)"
        f"   {elapsed * 1000:8.0f} ms"
    )
    return elapsed


def run_job(app, label: str) -> None:
    from app.extensions import db
    from app.warnings import services

    with app.app_context():
        start = time.perf_counter()
        result = services.refresh(NOW)
        db.session.commit()
        elapsed = time.perf_counter() - start
    print(f"  early-warning, {label:<38} {elapsed * 1000:8.0f} ms   {result.summary()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000, help="issues, and as many voices")
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    with scratch_databases(include_pg=not args.no_pg) as urls:
        for label, url in urls:
            print(
                f"\n== {label}: {args.n:,} issues, {args.n:,} voices, "
                f"{6 * CUSTOMERS_PER_OFFICE:,} customers"
            )
            app = make_app(url)
            started = time.perf_counter()
            load(app, args.n)
            print(f"  loaded in {time.perf_counter() - started:.0f} s")
            reference(app)
            run_job(app, "first run (raises every warning)")
            run_job(app, "second run (steady state)")
            with app.app_context():
                from app.extensions import db

                db.engine.dispose()


if __name__ == "__main__":
    main()
