"""Pooled connections to a database server checked before use only after they sat idle.

SQLAlchemy's `pool_pre_ping` pings on every checkout: one round trip more per request, which
on the intake path was one of six (bench/README.md, issue intake). A connection used a
moment ago is as good as the ping would say; one that sat idle long enough for the server to
restart or a firewall to drop it is pinged, and a dead one is replaced before the request
sees it, as pool_pre_ping would. What is left (the server going away in the seconds since
the last use) surfaces as one failed request, after which SQLAlchemy discards the pool's
connections, as it does for any lost connection.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

_LAST_USED = "last_used_at"


def ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """Ping a connection at checkout when it has not been used for `idle_seconds` (0: at
    every checkout, as pool_pre_ping)."""
    dialect = engine.dialect

    @event.listens_for(engine, "connect")
    def _connected(_dbapi_connection: Any, record: Any) -> None:
        record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get(_LAST_USED)
        if last is not None and time.monotonic() - last < idle_seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            # the pool closes this connection and checks out another (a new one if need be)
            raise exc.DisconnectionError(f"connection lost while idle: {error}") from error
        record.info[_LAST_USED] = time.monotonic()
