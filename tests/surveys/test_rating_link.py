"""Close and rate by link: a resolved issue's customer rates it from an e-mailed link."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.contacts import services as contact_services
from app.core.audit import history
from app.core.outbox import OutboxMessage
from app.db import utcnow
from app.extensions import db
from app.issues.models import Issue
from app.scheduler.runner import run_job
from app.surveys.models import Invitation

pytestmark = pytest.mark.committing


@pytest.fixture
def resolved(client, world, new_issue):
    contact_services.add_contact(
        actor=world.agent, customer_id=world.customer.id, name="王", email="wang@example.com"
    )
    db.session.commit()
    issue = new_issue()
    h = world.h["handler"]
    client.post(f"/api/v1/issues/{issue['id']}/handle", json={}, headers=h)
    done = client.post(
        f"/api/v1/issues/{issue['id']}/resolve",
        json={"resolution": "更换电源", "root_cause": "manufacturing", "responsible": "生产部"},
        headers=h,
    )
    assert done.status_code == 200
    return issue


def _token(app):
    now = utcnow() + timedelta(minutes=1)
    result = run_job(app, "send-rating-links", now=now)
    assert result.result["sent"] == 1
    db.session.rollback()
    message = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.idempotency_key.like("rating:%"))
    ).one()
    assert message.subject.endswith("已解决，请您评价")
    return re.search(r"/s/rate/([A-Za-z0-9_-]+)", message.body).group(1)


def _rate(client, token, **data):
    assert client.get(f"/s/rate/{token}").status_code == 303
    page = client.get("/s/rate/")
    key = re.search(r'name="_key" value="([0-9a-f]+)"', page.get_data(as_text=True)).group(1)
    return client.post("/s/rate/", data={**data, "_key": key})


def test_customer_rates_and_the_issue_closes_once(app, client, resolved):
    token = _token(app)
    assert (
        run_job(app, "send-rating-links", now=utcnow() + timedelta(minutes=6)).result["sent"] == 0
    )
    bad = _rate(client, token, rating="9")
    assert bad.status_code == 422 and "请选择 1 到 5 之间的数字" in bad.get_data(as_text=True)
    ok = _rate(client, token, rating="5", comment="<b>很快</b>")
    assert ok.status_code == 200 and "感谢" in ok.get_data(as_text=True)
    db.session.rollback()
    issue = db.session.get(Issue, resolved["id"])
    assert issue.status == "closed" and issue.rating == 5 and issue.rating_comment == "<b>很快</b>"
    assert "rated_by_link" in [e.action for e in history("issue", issue.id)]
    # the link is spent: opening it again is the generic page
    assert client.get(f"/s/rate/{token}").status_code == 404


def test_low_rating_by_link_follows_the_policy(app, client, resolved):
    token = _token(app)
    assert _rate(client, token, rating="1").status_code == 200
    db.session.rollback()
    assert db.session.get(Issue, resolved["id"]).status == "reopened"


def test_purposes_do_not_cross(app, client, resolved):
    token = _token(app)
    assert client.get(f"/s/{token}").status_code == 404  # a rating link is no survey link
    assert client.post(f"/s/{token}", json={"answers": {}}).status_code == 404
    assert db.session.scalars(sa.select(Invitation)).one().purpose == "issue_rating"


def test_an_issue_closed_meanwhile_spends_the_link(app, client, resolved, world):
    token = _token(app)
    closed = client.post(
        f"/api/v1/issues/{resolved['id']}/close",
        json={"rating": 4, "callback": True},
        headers=world.h["handler"],
    )
    assert closed.status_code == 200
    assert client.get(f"/s/rate/{token}").status_code == 404
