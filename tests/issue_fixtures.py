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
