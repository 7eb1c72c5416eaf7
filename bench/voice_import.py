"""Bulk voice import: a generated N-row CSV (Chinese text, mixed channels' fields, dates in
several forms, phones of known and unknown customers, some bad rows) imported through the real
service (app.voice.imports: read, map, validate, classify with the default keyword rules and
the sentiment lexicon, match customers, dedup, batch insert, search index, commit with
next_row), beside a reference measured in the same run: a bare executemany of the same number
of rows, already built, into the voices table.

Each way of loading runs on a database of its own: the reference; the import with its rows
built in the importing process (VOICE_IMPORT_WORKERS=1); the import as configured by default
(a pool of processes building rows while the importer writes), then the same file again (all
duplicates). Target: >= 5,000 rows/s on SQLite for 100,000 rows.

    .venv/bin/python bench/voice_import.py [--n 100000] [--workers N] [--no-pg]
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import machine_cpu, make_app, scratch_databases

PHRASES = [
    "设备通电后无反应",
    "外壳有明显划痕",
    "电源模块发热严重",
    "客服响应速度很快，非常满意",
    "希望增加夜间上门服务",
    "包装破损，配件缺失",
    "价格比竞品高出约百分之八",
    "安装工程师态度专业",
    "软件升级后频繁死机",
    "发货延迟三天，影响项目进度",
]
HEADER = ["反馈内容", "日期", "客户", "手机", "类别", "批次", "型号", "产品", "订单号"]
MAPPING = {
    "text": "反馈内容",
    "occurred_at": "日期",
    "customer_name": "客户",
    "customer_phone": "手机",
    "category": "类别",
    "batch": "批次",
    "model": "型号",
    "product": "产品",
    "order_no": "订单号",
}
CATEGORIES = ["product_quality", "产品质量", "", "", "delivery"]


def make_csv(n: int, known_phones: list[str]) -> bytes:
    rng = random.Random(20261129)
    start = datetime(2025, 12, 1, tzinfo=UTC)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for i in range(n):
        when = start + timedelta(minutes=i * 3 + rng.randrange(3))
        forms = (
            when.strftime("%Y-%m-%d %H:%M"),
            when.strftime("%Y/%m/%d %H:%M:%S"),
            when.strftime("%Y年%m月%d日 %H:%M"),
            when.isoformat(),
        )
        text = f"{rng.choice(PHRASES)}（第{i}条，{rng.choice(PHRASES)}）"
        if i % 500 == 499:
            text = ""  # a bad row now and then: rejected, reported
        phone = rng.choice(known_phones) if i % 3 == 0 else f"139{rng.randrange(10**8):08d}"
        writer.writerow(
            [
                text,
                forms[i % 4],
                f"客户{i % 977}",
                phone,
                rng.choice(CATEGORIES),
                f"B{2026 - i % 2}-{i % 12 + 1:02d}" if i % 2 else "",
                f"X{i % 40}" if i % 2 else "",
                f"PSU-{i % 9}",
                f"SO{i:08d}" if i % 4 == 1 else "",
            ]
        )
    return out.getvalue().encode("utf-8")


def prepare(app):  # type: ignore[no-untyped-def]
    from app.auth.services import create_user
    from app.customers.services import create_customer
    from app.extensions import db
    from app.issues.reference import ensure_reference_data
    from app.org.services import create_office, create_region
    from app.voice.rules import ensure_default_rules

    with app.app_context():
        create_region(code="EAST", name="华东", actor=None)
        create_office(code="SH", name="上海", region_code="EAST", actor=None)
        manager = create_user(
            email="om@example.com",
            name="主管",
            role="office_manager",
            password="bench-password",
            office_code="SH",
        )
        ensure_reference_data()
        ensure_default_rules()  # the import classifies every row with the keyword rules
        phones = []
        for i in range(200):
            phone = f"138{i:08d}"
            create_customer(actor=manager, name=f"客户{i}", office_code=None, phones=[phone])
            phones.append(phone)
        db.session.commit()
        return manager.id, phones


def import_once(app, manager_id: int, data: bytes, workers: int | None):  # type: ignore[no-untyped-def]
    from app.auth.models import User
    from app.extensions import db
    from app.voice.importers import Limits
    from app.voice.imports import prepare_import, run_import

    with app.app_context():
        manager = db.session.get(User, manager_id)
        start, cpu = time.perf_counter(), machine_cpu()
        imp, table = prepare_import(
            actor=manager,
            office_code="SH",
            channel="return",
            filename="bench.csv",
            data=data,
            mapping=MAPPING,
            limits=Limits(),
        )
        summary = run_import(imp, table, actor=manager, workers=workers)
        elapsed = time.perf_counter() - start, machine_cpu() - cpu
        db.session.remove()
    return summary, elapsed


def reference(app, n: int) -> tuple[float, float]:
    """The floor: the same number of voices, values already built, one executemany of 1,000
    rows per transaction into the same table with the same indexes."""
    import hashlib

    import sqlalchemy as sa

    from app.extensions import db
    from app.voice.import_rows import new_references
    from app.voice.models import Voice

    now = datetime.now(UTC)
    with app.app_context():
        office_id = db.session.scalar(sa.text("SELECT id FROM offices"))
        # random references and real SHA-256 hashes, as the import writes: unique indexes on
        # random keys cost more than on sequential ones, and the floor must pay that too
        references = new_references(n)
        rows = [
            {
                "reference": references[i],
                "channel": "sales_report",
                "kind": "passive",
                "office_id": office_id,
                "customer_id": None,
                "occurred_at": now - timedelta(minutes=i),
                "text": f"{PHRASES[i % 10]}（第{i}条）",
                "dimension": None,
                "category_id": None,
                "sentiment": None,
                "classified_by": None,
                "details": {"batch": "B1", "product": "PSU-1"},
                "contact_name": f"客户{i % 977}",
                "contact_phone": f"139{i:08d}",
                "contact_email": None,
                "external_id": None,
                "content_hash": hashlib.sha256(f"ref-{i}".encode()).hexdigest(),
                "import_id": None,
                "import_row": i,
                "repeat_of_id": None,
                "created_by_id": None,
                "created_at": now,
            }
            for i in range(n)
        ]
        start, cpu = time.perf_counter(), machine_cpu()
        for k in range(0, n, 1000):
            db.session.execute(sa.insert(Voice.__table__), rows[k : k + 1000])
            db.session.commit()
        elapsed = time.perf_counter() - start, machine_cpu() - cpu
        db.session.remove()
    return elapsed


def report(label: str, what: str, n: int, times: tuple[float, float], note: str = "") -> None:
    wall, cpu = times
    print(
        f"[{label}] {what:34} {n / wall:8,.0f} rows/s  {cpu / n * 1e6:6.0f} µs CPU/row"
        f"  ({wall:6.2f} s){'  ' + note if note else ''}"
    )


Line = tuple[str, tuple[float, float], str]  # what, (wall, CPU) seconds, note


def run_mode(url: str, mode: str, n: int, workers: int) -> list[Line]:
    """One way of loading, on a database of its own (so no mode inherits another's rows)."""
    app = make_app(url)
    manager_id, phones = prepare(app)
    lines = []
    if mode == "reference":
        lines.append(("reference: bare executemany", reference(app, n), ""))
    else:
        data = make_csv(n, phones)
        built_by = "in-process" if workers == 1 else f"by {workers} processes"
        summary, times = import_once(app, manager_id, data, workers=workers)
        note = f"{summary.created:,} created, {summary.rejected_count:,} rejected"
        lines.append((f"import, rows built {built_by}", times, note))
        if workers > 1:
            again, times = import_once(app, manager_id, data, workers=workers)
            note = f"{again.created:,} created, {again.duplicates:,} duplicates"
            lines.append(("the same file again", times, note))
    with app.app_context():
        from app.extensions import db

        db.engine.dispose()
    return lines


def main() -> None:
    from app.voice.import_pool import default_workers

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    print(f"voice import, {args.n:,} rows; pool of {args.workers} processes")
    results: dict[str, list[Line]] = {}
    for mode, workers in (("reference", 0), ("import", 1), ("import", args.workers)):
        with scratch_databases(include_pg=not args.no_pg) as urls:
            for label, url in urls:
                results.setdefault(label, []).extend(run_mode(url, mode, args.n, workers))
    for label, lines in results.items():
        print(f"[{label}] each on a new database; rows/s by the wall clock, and the machine's")
        print(f"[{label}] CPU per row (every process: the pool's, the database server's)")
        for what, times, note in lines:
            report(label, what, args.n, times, note)


if __name__ == "__main__":
    main()
