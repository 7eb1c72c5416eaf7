"""Queues and the escalate scan over N issues (default 1,000,000) in six offices.

Measures, beside a bare SQL reference in the same run:
- an office's open-issue queue, first page (app.issues.queries.list_issues), p95;
- the same office's full queue 1,000 pages (50,000 rows) deep via the keyset cursor, p95;
- the `escalate` job over all issues: a first run that catches up, and a steady-state run.
Targets: queue pages p95 <= 50 ms; escalate scan <= 5 s.

    .venv/bin/python bench/issue_queue.py [--n 1000000] [--no-pg]
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

from bench._common import make_app, scratch_databases, summary, timed

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
OPEN_SHARE = 0.05


def load(app, n: int) -> None:
    from app.customers.models import Customer
    from app.extensions import db
    from app.issues.models import Category, Issue
    from app.issues.reference import ensure_reference_data
    from app.org.models import Office, Region

    rng = random.Random(3)
    with app.app_context():
        regions = [Region(code=c, name=c) for c in ("EAST", "SOUTH")]
        db.session.add_all(regions)
        db.session.flush()
        offices = [
            Office(code=f"O{i}", name=f"Office {i}", region_id=regions[i % 2].id) for i in range(6)
        ]
        db.session.add_all(offices)
        db.session.flush()
        ensure_reference_data()
        categories = list(db.session.scalars(sa.select(Category.id)))
        office_ids = [o.id for o in offices]
        customers = list(
            db.session.scalars(
                sa.insert(Customer).returning(Customer.id),
                [
                    {
                        "name": f"客户{i}",
                        "office_id": office_ids[i % 6],
                        "tier": "C",
                        "notes": "",
                        "version": 1,
                    }
                    for i in range(30_000)
                ],
            )
        )
        db.session.commit()
        start = NOW - timedelta(days=730)
        span = 730 * 86400
        batch = 20_000
        with click.progressbar(length=n, label="loading issues") as bar:
            for first in range(0, n, batch):
                rows = []
                for k in range(first, min(n, first + batch)):
                    received = start + timedelta(seconds=span * k / n)
                    cust = customers[rng.randrange(len(customers))]
                    office = office_ids[(cust - customers[0]) % 6]
                    is_open = (received > NOW - timedelta(days=30) and rng.random() < 0.6) or (
                        rng.random() < OPEN_SHARE / 10
                    )
                    status = (
                        rng.choice(["accepted", "handling", "waiting"]) if is_open else "closed"
                    )
                    rows.append(
                        {
                            "number": f"O{office}-{k:08d}",
                            "office_id": office,
                            "customer_id": cust,
                            "title": "设备故障",
                            "description": "",
                            "channel": "hotline",
                            "category_id": rng.choice(categories),
                            "priority": "normal",
                            "status": status,
                            "escalation_level": 0,
                            "received_at": received,
                            "response_due_at": received + timedelta(hours=6),
                            "resolve_due_at": received + timedelta(days=5),
                            "response_warn_at": received + timedelta(hours=4),
                            "resolve_warn_at": received + timedelta(days=4),
                            "response_target_minutes": 240,
                            "resolve_target_minutes": 2700,
                            "first_response_at": None if status == "accepted" else received,
                            "closed_at": received + timedelta(days=2)
                            if status == "closed"
                            else None,
                            "rating": 4 if status == "closed" else None,
                            "reopen_count": 0,
                            "version": 1,
                            "created_at": received,
                            "updated_at": received,
                        }
                    )
                db.session.execute(sa.insert(Issue), rows)
                db.session.commit()
                bar.update(len(rows))
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def measure(app, label: str, repeat: int) -> None:
    from app.core.pagination import encode_cursor
    from app.core.scoping import Scope
    from app.extensions import db
    from app.issues import queries
    from app.issues.jobs import escalate
    from app.issues.models import Issue
    from app.org.models import Office

    with app.app_context():
        office_id = db.session.scalar(sa.select(Office.id).where(Office.code == "O0"))
        scope = Scope(kind="office", office_id=office_id)
        open_filter = queries.IssueFilters(status=queries.OPEN)
        all_filter = queries.IssueFilters()
        in_office = db.session.scalar(
            sa.select(sa.func.count()).select_from(Issue).where(Issue.office_id == office_id)
        )
        depth = min(50 * 1000, in_office - 60)  # 1,000 pages of 50 (less on a small run)
        deep_id = db.session.scalar(
            sa.select(Issue.id)
            .where(Issue.office_id == office_id)
            .order_by(Issue.id.desc())
            .offset(depth - 1)
            .limit(1)
        )
        cursor = encode_cursor([deep_id])
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Issue))
        open_total = db.session.scalar(
            sa.select(sa.func.count()).select_from(Issue).where(Issue.status.in_(queries.OPEN))
        )

        def first_page():
            queries.list_issues(scope, open_filter, limit=50, cursor=None, now=NOW)
            db.session.rollback()

        def deep_page():
            page = queries.list_issues(scope, all_filter, limit=50, cursor=cursor, now=NOW)
            assert len(page.items) == 50
            db.session.rollback()

        raw = db.engine.raw_connection()
        cur = raw.cursor()
        param = "?" if db.engine.dialect.name == "sqlite" else "%s"

        def reference():
            cur.execute(
                f"SELECT id FROM issues WHERE office_id = {param} AND id < {param} "
                f"ORDER BY id DESC LIMIT 51",
                (office_id, deep_id),
            )
            cur.fetchall()

        depth_pages = depth // 50
        ref = timed(reference, repeat)
        first = timed(first_page, repeat)
        deep = timed(deep_page, repeat)
        started = time.perf_counter()
        cur.execute(
            "SELECT count(*) FROM issues WHERE status IN ('accepted','handling','waiting',"
            "'escalated','reopened')"
        )
        cur.fetchall()
        scan_ref = time.perf_counter() - started
        raw.close()
        started = time.perf_counter()
        catch_up = escalate(NOW)
        db.session.commit()
        catch_up_s = time.perf_counter() - started
        started = time.perf_counter()
        steady = escalate(NOW + timedelta(minutes=5))
        db.session.commit()
        steady_s = time.perf_counter() - started
    print(f"{label:<11} {total:,} issues, {open_total:,} open, deep page = {depth_pages:,}")
    print(f"{label:<11} reference: bare keyset page         {summary(ref)}")
    print(f"{label:<11} office queue, first page (open)     {summary(first)}")
    print(f"{label:<11} office queue, deep page             {summary(deep)}")
    print(f"{label:<11} reference: count open issues        {scan_ref * 1000:8.1f} ms")
    print(f"{label:<11} escalate, catching up               {catch_up_s:8.2f} s  {catch_up}")
    print(f"{label:<11} escalate, steady state              {steady_s:8.2f} s  {steady}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    with scratch_databases(include_pg=not args.no_pg) as urls:
        for label, url in urls:
            app = make_app(url)
            started = time.perf_counter()
            load(app, args.n)
            print(f"{label}: loaded in {time.perf_counter() - started:.0f} s")
            measure(app, label, args.repeat)
            with app.app_context():
                from app.extensions import db

                db.engine.dispose()


if __name__ == "__main__":
    main()
