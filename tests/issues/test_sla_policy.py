"""Where the SLA arithmetic meets the database: the resolution clock's start."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from app.extensions import db
from app.issues import services
from app.issues.sla_policy import resolve_clock_start, resolve_clock_starts

CN = ZoneInfo("Asia/Shanghai")


def at(d, hh, mm=0):
    return datetime(2026, 3, d, hh, mm, tzinfo=CN)


def _accept(world, received):
    return services.accept_issue(
        actor=world.agent,
        customer_id=world.customer.id,
        title="设备无法开机",
        description="",
        channel="hotline",
        category="product_quality",
        priority="normal",
        received_at=received,
        owner_id=world.handler.id,
        now=received,
    )


def _resolve_and_reopen(world, issue, resolved, reopened):
    services.resolve_issue(
        actor=world.handler,
        issue_id=issue.id,
        resolution="已处理",
        root_cause="process",
        responsible="服务部",
        now=resolved,
    )
    services.reopen_issue(actor=world.agent, issue_id=issue.id, reason="未解决", now=reopened)


def test_the_resolution_clock_starts_at_the_last_reopen(world):
    twice, never = _accept(world, at(2, 9)), _accept(world, at(2, 10))
    _resolve_and_reopen(world, twice, at(2, 11), at(3, 9))
    _resolve_and_reopen(world, twice, at(3, 11), at(4, 14))
    db.session.commit()
    assert resolve_clock_starts([twice, never]) == {twice.id: at(4, 14), never.id: at(2, 10)}
    assert resolve_clock_start(twice) == at(4, 14)
    assert resolve_clock_start(never) == at(2, 10)
