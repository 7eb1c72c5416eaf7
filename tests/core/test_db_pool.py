"""app.db_pool.ping_after_idle: a pooled connection is pinged at checkout only after it sat
idle, and one that died while idle is replaced before anyone uses it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app import db_pool
from app.config import normalise_database_url


@pytest.fixture
def engine(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("the idle ping is set up for database servers (PostgreSQL)")
    engine = sa.create_engine(normalise_database_url(database_url), pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def _pings(engine) -> list[str]:
    pings: list[str] = []
    real = engine.dialect.do_ping

    def counting(dbapi_connection):
        pings.append("ping")
        return real(dbapi_connection)

    engine.dialect.do_ping = counting  # type: ignore[method-assign]
    return pings


def test_a_connection_used_a_moment_ago_is_not_pinged(engine, monkeypatch):
    db_pool.ping_after_idle(engine, 5)
    pings = _pings(engine)
    for _ in range(3):
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    assert pings == []


def test_an_idle_connection_is_pinged_and_a_dead_one_replaced(engine, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(db_pool.time, "monotonic", lambda: clock[0])
    db_pool.ping_after_idle(engine, 5)
    pings = _pings(engine)
    with engine.connect() as conn:
        first_pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    # the server ends the pooled connection while it sits idle (a restart, a firewall)
    with sa.create_engine(engine.url, poolclass=sa.pool.NullPool).connect() as other:
        other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": first_pid})
    clock[0] += 6
    with engine.connect() as conn:
        second_pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    assert second_pid != first_pid
    assert pings  # the dead one was pinged, failed and left the pool
