from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from app.customers.services import create_customer
from app.extensions import db
from app.issues.reference import ensure_reference_data


@pytest.fixture
def world(make_region, make_office, make_user, api_headers):
    """Two regions, an office in each, people of every role, a customer per office."""
    east, south = make_region("EAST"), make_region("SOUTH")
    sh, gz = make_office("SH", region=east), make_office("GZ", region=south)
    w = SimpleNamespace(sh=sh, gz=gz, east=east, south=south)
    w.agent = make_user("agent", office=sh, email="agent@sh.example.com")
    w.handler = make_user("handler", office=sh, email="handler@sh.example.com")
    w.handler2 = make_user("handler", office=sh, email="handler2@sh.example.com")
    w.om = make_user("office_manager", office=sh, email="om@sh.example.com")
    w.rm = make_user("regional_manager", region=east, email="rm@east.example.com")
    w.qa = make_user("quality_admin", email="qa@example.com")
    w.agent_gz = make_user("agent", office=gz, email="agent@gz.example.com")
    ensure_reference_data()
    w.customer = create_customer(
        actor=w.agent, name="张伟", office_code=None, phones=["13800138000"], tier="B"
    )
    w.customer_gz = create_customer(
        actor=w.agent_gz, name="李娜", office_code=None, phones=["13900139000"]
    )
    db.session.commit()
    w.h = {
        name: api_headers(getattr(w, name))
        for name in ("agent", "handler", "handler2", "om", "rm", "qa", "agent_gz")
    }
    return w


@pytest.fixture
def new_issue(client, world):
    def make(**body):
        payload = {
            "customer_id": world.customer.id,
            "title": "设备无法开机",
            "description": "客户来电：设备通电后无反应",
            "channel": "hotline",
            "category": "product_quality",
            "priority": "high",
            **body,
        }
        response = client.post("/api/v1/issues", json=payload, headers=world.h["agent"])
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()

    return make


@pytest.fixture
def count_queries():
    """`with count_queries() as statements:` collects the SQL sent to the database."""

    @contextmanager
    def count() -> Iterator[list[str]]:
        statements: list[str] = []

        def listen(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", listen)
        try:
            yield statements
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listen)

    return count


class RefusingSender:
    """A mail server that accepts every message but those to `refused`."""

    def __init__(self, refused: str) -> None:
        self.refused = refused
        self.sent: list[str] = []

    def send(self, message, envelope_from=None):
        import smtplib

        if message["To"] == self.refused:
            raise smtplib.SMTPRecipientsRefused({self.refused: (550, b"5.1.1 mailbox unavailable")})
        self.sent.append(message["To"])
        return "sent"


@pytest.fixture
def mailed_issue(world):
    """An issue whose e-mail went every way the outbox knows: escalated to level 1 (the office
    manager's copy sent, then bounced), to level 2 (the regional manager's refused until the
    outbox gave up) and to level 3 (the quality admin's still queued). Another issue's
    escalation is sent too, and must not show on this one's page."""
    from datetime import timedelta

    from app.core.outbox import OutboxMessage
    from app.core.outbox_service import MAX_ATTEMPTS, send_due
    from app.db import utcnow
    from app.issues import services
    from app.surveys import bounces

    def accept(title):
        return services.accept_issue(
            actor=world.agent,
            customer_id=world.customer.id,
            title=title,
            description="",
            channel="hotline",
            category="product_quality",
            priority="normal",
        )

    issue, other = accept("设备无法开机"), accept("另一个问题")
    for level_reason in ("客户投诉到经理", "经理无法解决"):
        services.escalate_issue(actor=world.om, issue_id=issue.id, reason=level_reason)
    services.escalate_issue(actor=world.om, issue_id=other.id, reason="另一个问题升级")
    db.session.commit()
    sender = RefusingSender(refused=world.rm.email)
    start = utcnow() + timedelta(seconds=1)
    for attempt in range(MAX_ATTEMPTS):  # a day apart: past every backoff
        send_due(start + timedelta(days=attempt), sender=sender)
    om_copy = db.session.scalars(
        sa.select(OutboxMessage).where(
            OutboxMessage.idempotency_key == f"escalation:{issue.id}:1:{world.om.id}"
        )
    ).one()
    failure = bounces.Failure("hard", "5.1.1", world.om.email, "smtp; 550 5.1.1 user unknown")
    report = bounces.Report(is_dsn=True, tokens=[om_copy.bounce_token], failure=failure)
    assert bounces.record(report, start + timedelta(days=MAX_ATTEMPTS)) == "hard"
    services.escalate_issue(actor=world.om, issue_id=issue.id, reason="上报公司质量部")
    db.session.commit()
    return issue
