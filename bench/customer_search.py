"""Customer search by phone prefix and by name, over N customers (default 500,000).

Measures the app's own query (app.customers.queries.search_customers, scoped to one region,
as a regional manager searches) beside a reference measured in the same run: the bare indexed
range query on customer_phones through the raw DBAPI cursor. Target: p95 <= 20 ms.

    .venv/bin/python bench/customer_search.py --n 500000
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import click
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import make_app, scratch_databases, summary, timed

PREFIXES = [
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
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯"
    "邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红"


def load(app, n: int) -> None:
    from app.customers.models import Customer, CustomerPhone
    from app.extensions import db
    from app.org.models import Office, Region

    rng = random.Random(7)
    with app.app_context():
        regions = [Region(code=c, name=c) for c in ("EAST", "SOUTH")]
        db.session.add_all(regions)
        db.session.flush()
        offices = [
            Office(code=f"O{i}", name=f"Office {i}", region_id=regions[i % 2].id) for i in range(6)
        ]
        db.session.add_all(offices)
        db.session.commit()
        office_ids = [o.id for o in offices]
        batch = 20_000
        with click.progressbar(length=n, label="loading customers") as bar:
            for start in range(0, n, batch):
                size = min(batch, n - start)
                rows = [
                    {
                        "name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                        "company": f"公司{rng.randrange(50_000)}",
                        "office_id": rng.choice(office_ids),
                        "tier": "C",
                        "notes": "",
                        "version": 1,
                    }
                    for _ in range(size)
                ]
                ids = list(db.session.scalars(sa.insert(Customer).returning(Customer.id), rows))
                phones = []
                for cid in ids:
                    number = rng.choice(PREFIXES) + f"{rng.randrange(10**8):08d}"
                    phones.append({"customer_id": cid, "number": number, "raw": number})
                db.session.execute(sa.insert(CustomerPhone), phones)
                db.session.commit()
                bar.update(size)
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def measure(app, label: str, repeat: int) -> None:
    from app.core.scoping import Scope
    from app.customers.queries import search_customers
    from app.extensions import db
    from app.org.models import Region

    rng = random.Random(11)
    with app.app_context():
        region_id = db.session.scalar(sa.select(Region.id).where(Region.code == "EAST"))
        scope = Scope(kind="region", region_id=region_id)
        phone_queries = [
            rng.choice(PREFIXES) + str(rng.randrange(10 ** rng.randint(1, 4)))
            for _ in range(repeat)
        ]
        name_queries = [rng.choice(SURNAMES) + rng.choice(GIVEN) for _ in range(repeat)]
        it_phone, it_name = iter(phone_queries), iter(name_queries)

        def app_phone():
            search_customers(scope, next(it_phone), limit=50, cursor=None)
            db.session.rollback()

        def app_name():
            search_customers(scope, next(it_name), limit=50, cursor=None)
            db.session.rollback()

        raw = db.engine.raw_connection()
        cursor = raw.cursor()
        param = "?" if db.engine.dialect.name == "sqlite" else "%s"
        ref_queries = iter(phone_queries)

        def reference():
            prefix = next(ref_queries)
            upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
            cursor.execute(
                f"SELECT customer_id FROM customer_phones WHERE number >= {param} "
                f"AND number < {param} ORDER BY number LIMIT 50",
                (prefix, upper),
            )
            cursor.fetchall()

        ref = timed(reference, repeat)
        phone = timed(app_phone, repeat)
        name = timed(app_name, repeat)
        raw.close()
    print(f"{label:<11} reference (bare indexed range) {summary(ref)}")
    print(f"{label:<11} app search by phone prefix      {summary(phone)}")
    print(f"{label:<11} app search by name prefix       {summary(name)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    print(f"customer search over {args.n:,} customers, {args.repeat} queries each")
    with scratch_databases(include_pg=not args.no_pg) as urls:
        for label, url in urls:
            app = make_app(url)
            started = time.perf_counter()
            load(app, args.n)
            print(f"{label}: loaded in {time.perf_counter() - started:.1f} s")
            measure(app, label, args.repeat)
            with app.app_context():
                from app.extensions import db

                db.engine.dispose()


if __name__ == "__main__":
    main()
