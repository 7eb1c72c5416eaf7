"""Close and rate by link: a resolved issue's customer rates it from an e-mailed link; a reopen
withdraws the link still pending, and each resolution gets one link of its own."""

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


def _open(client, token):
    """Open the link (trading it for the cookie) and return the rating form's key."""
    assert client.get(f"/s/rate/{token}").status_code == 303
    page = client.get("/s/rate/")
    return re.search(r'name="_key" value="([0-9a-f]+)"', page.get_data(as_text=True)).group(1)


def _rate(client, token, **data):
    return client.post("/s/rate/", data={**data, "_key": _open(client, token)})


def _issue_call(client, world, issue_id, action, **body):
    response = client.post(
        f"/api/v1/issues/{issue_id}/{action}", json=body, headers=world.h["handler"]
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _resolve_again(client, world, issue_id):
    _issue_call(client, world, issue_id, "reopen", reason="客户回访：问题仍在")
    _issue_call(client, world, issue_id, "handle")
    _issue_call(
        client,
        world,
        issue_id,
        "resolve",
        resolution="更换主板",
        root_cause="manufacturing",
        responsible="生产部",
    )


def _new_token(app, wave, minutes):
    """The link of the resolution `wave` ("rating:<n>"), sent by a later run of the job."""
    result = run_job(app, "send-rating-links", now=utcnow() + timedelta(minutes=minutes))
    assert result.result["sent"] == 1
    db.session.rollback()
    invitation = db.session.scalars(sa.select(Invitation).where(Invitation.wave == wave)).one()
    message = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.idempotency_key == f"rating:{invitation.id}")
    ).one()
    return re.search(r"/s/rate/([A-Za-z0-9_-]+)", message.body).group(1)


def _invitation(wave):
    db.session.rollback()
    return db.session.scalars(sa.select(Invitation).where(Invitation.wave == wave)).one()


GENERIC = "/s/rate/" + "x" * 43  # a link that never existed


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
    key = _open(client, token)  # the customer opened the link before the phone call
    closed = client.post(
        f"/api/v1/issues/{resolved['id']}/close",
        json={"rating": 4, "callback": True},
        headers=world.h["handler"],
    )
    assert closed.status_code == 200
    assert client.get(f"/s/rate/{token}").status_code == 404
    # the form sent with the cookie taken before is the generic page too, and changes nothing
    late = client.post("/s/rate/", data={"rating": "1", "_key": key})
    assert late.status_code == 404
    assert late.get_data(as_text=True) == client.get(GENERIC).get_data(as_text=True)
    db.session.rollback()
    issue = db.session.get(Issue, resolved["id"])
    assert (issue.status, issue.rating) == ("closed", 4)
    assert _invitation("rating:0").responded_at is None


def test_a_reopen_withdraws_the_pending_link_for_good(app, client, resolved, world):
    old = _token(app)
    _issue_call(client, world, resolved["id"], "reopen", reason="客户回访：问题仍在")
    withdrawn = _invitation("rating:0")
    assert withdrawn.withdrawn_at is not None and withdrawn.responded_at is None
    events = [e for e in history("invitation", withdrawn.id) if e.action == "withdraw"]
    assert len(events) == 1 and events[0].changes["reason"] == "issue reopened"
    generic = client.get(GENERIC)
    dead = client.get(f"/s/rate/{old}")
    assert dead.status_code == 404 and dead.get_data(as_text=True) == generic.get_data(as_text=True)

    # resolved again: one new link for the new resolution, the old one stays dead
    _issue_call(client, world, resolved["id"], "handle")
    _issue_call(
        client,
        world,
        resolved["id"],
        "resolve",
        resolution="更换主板",
        root_cause="manufacturing",
        responsible="生产部",
    )
    new = _new_token(app, "rating:1", minutes=11)
    assert (
        run_job(app, "send-rating-links", now=utcnow() + timedelta(minutes=16)).result["sent"] == 0
    )
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 2
    assert client.get(f"/s/rate/{old}").status_code == 404
    assert _invitation("rating:1").withdrawn_at is None
    assert _rate(client, new, rating="4").status_code == 200
    db.session.rollback()
    issue = db.session.get(Issue, resolved["id"])
    assert (issue.status, issue.rating) == ("closed", 4)
    assert _invitation("rating:0").responded_at is None


def test_a_cookie_taken_before_the_reopen_cannot_rate_after_it(app, client, resolved, world):
    old = _token(app)
    key = _open(client, old)  # opened while resolved: the cookie now stands for the old link
    _resolve_again(client, world, resolved["id"])
    db.session.rollback()
    assert db.session.get(Issue, resolved["id"]).status == "resolved"
    late = client.post("/s/rate/", data={"rating": "5", "_key": key})
    assert late.status_code == 404
    assert late.get_data(as_text=True) == client.get(GENERIC).get_data(as_text=True)
    assert client.get("/s/rate/").status_code == 404
    db.session.rollback()
    issue = db.session.get(Issue, resolved["id"])
    assert (issue.status, issue.rating) == ("resolved", None)
    assert _invitation("rating:0").responded_at is None
    # the new resolution's own link still works
    new = _new_token(app, "rating:1", minutes=11)
    assert _rate(client, new, rating="5").status_code == 200
    db.session.rollback()
    assert db.session.get(Issue, resolved["id"]).status == "closed"


def test_a_low_rating_by_phone_withdraws_the_link_and_a_retry_by_link_is_thanked(
    app, client, resolved, world
):
    token = _token(app)
    _issue_call(client, world, resolved["id"], "close", rating=1, callback=True)
    db.session.rollback()
    assert db.session.get(Issue, resolved["id"]).status == "reopened"  # the default policy
    assert _invitation("rating:0").withdrawn_at is not None
    assert client.get(f"/s/rate/{token}").status_code == 404


def test_the_rating_that_reopens_is_not_withdrawn_and_its_retry_is_thanked(app, client, resolved):
    token = _token(app)
    key = _open(client, token)
    assert client.post("/s/rate/", data={"rating": "2", "_key": key}).status_code == 200
    db.session.rollback()
    assert db.session.get(Issue, resolved["id"]).status == "reopened"
    used = _invitation("rating:0")
    assert used.responded_at is not None and used.withdrawn_at is None
    again = client.post("/s/rate/", data={"rating": "2", "_key": key})  # a double click
    assert again.status_code == 200 and "感谢" in again.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(Issue, resolved["id"]).reopen_count == 1


def test_a_rating_link_is_delivered_when_its_mail_leaves_not_when_queued(app, resolved):
    _token(app)
    assert _invitation("rating:0").delivered_at is None  # queued only
    sent = run_job(app, "send-outbox", now=utcnow() + timedelta(minutes=2))
    assert sent.result["sent"] >= 1
    assert _invitation("rating:0").delivered_at is not None


def test_a_reopen_before_the_e_mail_went_out_cancels_it(app, client, resolved, world, login_as):
    run_job(app, "send-rating-links", now=utcnow() + timedelta(minutes=1))
    db.session.rollback()
    message = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.idempotency_key.like("rating:%"))
    ).one()
    assert message.status == "pending"  # queued; the send-outbox job has not run yet
    _issue_call(client, world, resolved["id"], "reopen", reason="客户来电：问题仍在")
    db.session.rollback()
    message = db.session.get(OutboxMessage, message.id)
    assert (message.status, message.last_error) == ("cancelled", "issue reopened")
    withdrawn = _invitation("rating:0")
    [event] = [e for e in history("invitation", withdrawn.id) if e.action == "withdraw"]
    assert event.changes["email"] == "cancelled before sending"
    result = run_job(app, "send-outbox", now=utcnow() + timedelta(hours=1))
    assert result.result["sent"] == 0
    # the issue page says what became of it
    db.session.rollback()  # the test's read snapshot ends: signing in writes a session row
    login_as(world.handler)
    page = client.get(f"/issues/{resolved['id']}").get_data(as_text=True)
    panel = page[page.index('id="notifications"') : page.index('id="timeline"')]
    assert "wang@example.com" in panel and "mail-cancelled" in panel


def test_a_reopen_after_the_e_mail_went_out_only_withdraws_the_link(app, client, resolved, world):
    token = _token(app)
    assert run_job(app, "send-outbox", now=utcnow() + timedelta(minutes=2)).result["sent"] == 1
    _issue_call(client, world, resolved["id"], "reopen", reason="客户来电：问题仍在")
    db.session.rollback()
    message = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.idempotency_key.like("rating:%"))
    ).one()
    assert message.status == "sent"
    [event] = [
        e for e in history("invitation", _invitation("rating:0").id) if e.action == "withdraw"
    ]
    assert "email" not in event.changes
    assert client.get(f"/s/rate/{token}").status_code == 404
