"""The voice inbox, Chinese text search and repeat candidates over N voices (default
1,000,000) in six offices.

Measures, beside bare SQL references in the same run:
- an office's inbox, first page of 50, filtered by channel and category
  (app.voice.queries.list_voices), p95 (target <= 50 ms);
- the same inbox searched for Chinese text: a common 4-character phrase, a rare one, and a
  2-character query (the LIKE fallback: trigrams need 3 characters);
- repeat candidates while typing (app.voice.repeats.find_candidates: same customer, or same
  office and category, last 30 days, ranked by bigram similarity), p95 (target <= 50 ms).

    .venv/bin/python bench/voice_inbox.py [--n 1000000] [--repeat 200] [--no-pg] [--no-sqlite]
        [--keep DIR [--load-only]]

--keep DIR loads into DIR/voice_inbox.db and a PostgreSQL database named in DIR/pg-database and
keeps them, so that the load (8 to 19 minutes at 1,000,000 voices) can run while the machine
is busy and the measurement later, when it is quiet: a second run with the same DIR measures
without loading.
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

from bench._common import kept_databases, make_app, scratch_databases, summary, timed

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
CHANNELS = ("hotline", "service_request", "return", "web", "interview", "survey")
# fragments voices are made of; "无法开机" is common (in ~5% of voices), "齿轮箱异响" rare
COMMON = [
    "设备无法开机",
    "打印机卡纸",
    "发票抬头开错",
    "上门服务迟到",
    "客服电话打不通",
    "配件缺货",
    "交货延迟两周",
    "安装人员态度好",
    "价格比竞品高",
    "网站无法登录",
    "退货流程太慢",
    "培训资料不全",
    "屏幕出现花屏",
    "系统升级失败",
    "合同条款有疑问",
    "希望增加功能",
    "电池续航短",
    "噪音太大",
    "包装破损",
    "说明书看不懂",
    "维修后又坏了",
    "响应很及时",
    "工程师很专业",
    "备件价格太贵",
    "数据导出乱码",
    "远程支持断线",
    "物流信息不更新",
    "账单金额不对",
    "客户经理换人频繁",
    "产品质量稳定",
]
RARE = "齿轮箱异响"


def text_for(rng: random.Random, k: int) -> str:
    parts = rng.sample(COMMON, rng.randint(2, 3))
    if rng.random() < 0.001:
        parts.append(RARE)
    return "，".join(parts) + f"，编号{k % 9973}"


def load(app, n: int) -> None:
    from app.customers.models import Customer
    from app.extensions import db
    from app.issues.models import Category
    from app.issues.reference import ensure_reference_data
    from app.org.models import Office, Region
    from app.voice.models import Voice

    rng = random.Random(5)
    with app.app_context():
        pg = db.engine.dialect.name == "postgresql"
        regions = [Region(code=c, name=c) for c in ("EAST", "SOUTH")]
        db.session.add_all(regions)
        db.session.flush()
        offices = [
            Office(code=f"O{i}", name=f"Office {i}", region_id=regions[i % 2].id) for i in range(6)
        ]
        db.session.add_all(offices)
        db.session.flush()
        ensure_reference_data()
        categories = list(db.session.execute(sa.select(Category.id, Category.dimension)))
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
        if pg:  # a bulk load builds the trigram index once at the end, as a restore would
            db.session.execute(sa.text("DROP INDEX ix_voices_text_trgm"))
            db.session.commit()
        start = NOW - timedelta(days=730)
        span = 730 * 86400
        batch = 20_000
        with click.progressbar(length=n, label="loading voices") as bar:
            for first in range(0, n, batch):
                rows = []
                for k in range(first, min(n, first + batch)):
                    at = start + timedelta(seconds=span * k / n)
                    cust = customers[rng.randrange(len(customers))]
                    office = office_ids[(cust - customers[0]) % 6]
                    channel = CHANNELS[rng.randrange(len(CHANNELS))]
                    cat = categories[rng.randrange(len(categories))] if rng.random() < 0.7 else None
                    rows.append(
                        {
                            "reference": f"V-{k:08d}",
                            "channel": channel,
                            "kind": "passive" if channel in CHANNELS[:4] else "active",
                            "office_id": office,
                            "customer_id": cust,
                            "occurred_at": at,
                            "text": text_for(rng, k),
                            "dimension": cat[1] if cat else None,
                            "category_id": cat[0] if cat else None,
                            "sentiment": rng.choice(("negative", "neutral", "positive", None)),
                            "details": {},
                            "created_at": at,
                        }
                    )
                db.session.execute(sa.insert(Voice), rows)
                db.session.commit()
                bar.update(len(rows))
        if pg:
            started = time.perf_counter()
            db.session.execute(sa.text("SET maintenance_work_mem = '512MB'"))
            db.session.execute(
                sa.text("CREATE INDEX ix_voices_text_trgm ON voices USING gin (text gin_trgm_ops)")
            )
            db.session.commit()
            print(f"\npostgresql: trigram index built in {time.perf_counter() - started:.0f} s")
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def measure(app, label: str, repeat: int) -> None:
    from app.core.scoping import Scope
    from app.customers.models import Customer
    from app.extensions import db
    from app.issues.models import Category
    from app.org.models import Office
    from app.voice import queries, repeats
    from app.voice.models import Voice

    rng = random.Random(11)
    with app.app_context():
        office_id = db.session.scalar(sa.select(Office.id).where(Office.code == "O0"))
        scope = Scope(kind="office", office_id=office_id)
        category = db.session.scalar(sa.select(Category).order_by(Category.id).limit(1))
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Voice))
        customers = list(
            db.session.scalars(sa.select(Customer.id).where(Customer.office_id == office_id))
        )
        sqlite = db.engine.dialect.name == "sqlite"
        p = "?" if sqlite else "%s"

        def inbox(**kw):
            def run():
                f = queries.VoiceFilters(**kw)
                page = queries.list_voices(scope, f, limit=50, cursor=None)
                assert page.items or kw.get("q") == RARE
                db.session.rollback()

            return run

        def candidates():
            text = text_for(rng, rng.randrange(10_000))[: rng.randint(6, 20)]
            repeats.find_candidates(
                scope,
                text=text,
                customer_id=rng.choice(customers),
                office_id=office_id,
                category_id=category.id,
                now=NOW,
            )
            db.session.rollback()

        raw = db.engine.raw_connection()
        cur = raw.cursor()

        def ref_page():
            cur.execute(
                f"SELECT id FROM voices WHERE office_id = {p} AND channel = {p} "
                f"AND category_id = {p} ORDER BY occurred_at DESC, id DESC LIMIT 51",
                (office_id, "hotline", category.id),
            )
            cur.fetchall()

        def ref_search(q):
            def run():
                if sqlite:
                    cur.execute(
                        "SELECT rowid FROM voices_fts WHERE voices_fts MATCH ? LIMIT 51",
                        (f'"{q}"',),
                    )
                else:
                    cur.execute("SELECT id FROM voices WHERE text LIKE %s LIMIT 51", (f"%{q}%",))
                cur.fetchall()

            return run

        since = NOW - timedelta(days=30)

        def ref_candidates():
            cust = rng.choice(customers)
            cur.execute(
                f"SELECT id, substr(text, 1, 1000) FROM voices WHERE customer_id = {p} "
                f"AND occurred_at >= {p} ORDER BY occurred_at DESC LIMIT 200",
                (cust, since.replace(tzinfo=None) if sqlite else since),
            )
            cur.fetchall()
            cur.execute(
                f"SELECT id, substr(text, 1, 1000) FROM voices WHERE office_id = {p} "
                f"AND category_id = {p} AND occurred_at >= {p} ORDER BY occurred_at DESC "
                f"LIMIT 200",
                (office_id, category.id, since.replace(tzinfo=None) if sqlite else since),
            )
            cur.fetchall()

        rows = [
            ("reference: bare filtered page", timed(ref_page, repeat)),
            (
                "inbox first page (channel+category)",
                timed(inbox(channel="hotline", category=category.code), repeat),
            ),
            ("inbox first page (no filter)", timed(inbox(), repeat)),
            ("reference: bare text match '无法开机'", timed(ref_search("无法开机"), repeat)),
            ("inbox search '无法开机' (common)", timed(inbox(q="无法开机"), repeat)),
            ("inbox search '齿轮箱异响' (rare)", timed(inbox(q=RARE), max(20, repeat // 4))),
            ("inbox search '迟到' (2 chars)", timed(inbox(q="迟到"), max(20, repeat // 4))),
            (
                "inbox search '打印机卡纸' + channel",
                timed(inbox(q="打印机卡纸", channel="web"), repeat),
            ),
            ("reference: bare candidate reads", timed(ref_candidates, repeat)),
            ("repeat candidates while typing", timed(candidates, repeat)),
        ]
        raw.close()
    print(f"{label:<11} {total:,} voices")
    for name, samples in rows:
        print(f"{label:<11} {name:<40} {summary(samples)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--keep", type=Path, metavar="DIR")
    parser.add_argument("--load-only", action="store_true", help="with --keep: load, measure later")
    args = parser.parse_args()
    databases = (
        kept_databases(args.keep, not args.no_pg, stem="voice_inbox")
        if args.keep
        else scratch_databases(include_pg=not args.no_pg)
    )
    with databases as urls:
        for label, url in urls:
            if label == "sqlite" and args.no_sqlite:
                continue
            app = make_app(url)
            marker = args.keep / f"loaded-{label}" if args.keep else None
            if marker is not None and marker.exists():
                print(f"{label}: kept database, {marker.read_text().strip()}")
            else:
                started = time.perf_counter()
                load(app, args.n)
                print(f"{label}: loaded in {time.perf_counter() - started:.0f} s")
                if marker is not None:
                    marker.write_text(f"{args.n:,} voices")
            if args.load_only:
                continue
            measure(app, label, args.repeat)
            with app.app_context():
                from app.extensions import db

                db.engine.dispose()


if __name__ == "__main__":
    main()
