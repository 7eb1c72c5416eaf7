"""Shared helpers for the benchmarks: scratch databases built by the real migrations, timing."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

PG_BASE = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def summary(samples: list[float]) -> str:
    return (
        f"p50 {statistics.median(samples):7.2f} ms   p95 {percentile(samples, 95):7.2f} ms"
        f"   max {max(samples):7.2f} ms"
    )


def machine_cpu() -> float:
    """CPU seconds every process of the machine has used (Linux /proc/stat; 0 elsewhere):
    clients, server workers, pool processes and the database server together. On a machine
    the load keeps busy, throughput follows this figure per request or row."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def postgres_available() -> bool:
    try:
        engine = sa.create_engine(PG_BASE)
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@contextmanager
def scratch_databases(include_pg: bool = True) -> Iterator[list[tuple[str, str]]]:
    """Yields [(label, url)]: a temp SQLite file and, if reachable, a fresh PostgreSQL db."""
    urls: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        urls.append(("sqlite", f"sqlite:///{tmp}/bench.db"))
        admin = None
        name = f"bench_{uuid.uuid4().hex[:8]}"
        if include_pg and postgres_available():
            admin = sa.create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            urls.append(
                ("postgresql", sa.make_url(PG_BASE).set(database=name).render_as_string(False))
            )
        try:
            yield urls
        finally:
            if admin is not None:
                with admin.connect() as conn:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.dispose()


def make_app(url: str) -> Any:
    from app import create_app

    os.environ.pop("DATABASE_URL", None)
    app = create_app(SQLALCHEMY_DATABASE_URI=url, SECRET_KEY="bench")
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    return app


@contextmanager
def kept_databases(
    directory: Path, include_pg: bool, *, stem: str
) -> Iterator[list[tuple[str, str]]]:
    """The databases of a benchmark's --keep DIR: a SQLite file there (STEM.db) and a
    PostgreSQL database whose name is stored there (created on first use). Nothing is dropped:
    a later run measures them again without loading them."""
    directory.mkdir(parents=True, exist_ok=True)
    urls = [("sqlite", f"sqlite:///{directory / f'{stem}.db'}")]
    if include_pg and postgres_available():
        name_file = directory / "pg-database"
        if not name_file.exists():
            name = f"bench_{stem}_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            admin.dispose()
            name_file.write_text(name)
        name = name_file.read_text().strip()
        urls.append(("postgresql", sa.make_url(PG_BASE).set(database=name).render_as_string(False)))
    yield urls
