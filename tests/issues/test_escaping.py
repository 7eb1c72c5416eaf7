"""HTML and script typed into an issue, its notes and contacts, or a customer's name are
stored as typed and shown as text on every page that shows them: the queue, the customer
page, the issue page's notes, contacts and history, and the caller panel's JSON (which the
hotline page puts in with textContent; tests/browser/test_issues.py checks that side)."""

from __future__ import annotations

import pytest
from markupsafe import escape

from app.customers.services import create_customer
from app.extensions import db
from app.issues import services
from app.issues.models import Issue, IssueContact, IssueNote

NAME = "<img src=x onerror=alert('name')>"
TITLE = "<script>alert('title')</script>"
DESCRIPTION = '<b onmouseover="alert(1)">description</b>'
NOTE = "<iframe src=javascript:alert('note')></iframe>"
CONTACT = "<svg onload=alert('contact')>"
EDITED = "</textarea><script>alert('edit')</script>"


def shown_as_text(html, *typed):
    for text in typed:
        assert text not in html, f"{text!r} reached the page as markup"
        assert str(escape(text)) in html, f"{text!r} is not on the page"


@pytest.fixture
def hostile(world):
    customer = create_customer(actor=world.agent, name=NAME, office_code=None, phones=[])
    issue = services.accept_issue(
        actor=world.agent,
        customer_id=customer.id,
        title=TITLE,
        description=DESCRIPTION,
        channel="hotline",
        category="billing",
        priority="normal",
    )
    services.add_note(actor=world.handler, issue_id=issue.id, text=NOTE)
    services.log_contact(
        actor=world.handler, issue_id=issue.id, direction="out", channel="phone", text=CONTACT
    )
    db.session.commit()
    return customer, issue


def test_stored_as_typed(hostile):
    customer, issue = hostile
    db.session.expire_all()
    stored = db.session.get(Issue, issue.id)
    assert (stored.title, stored.description, stored.customer.name) == (TITLE, DESCRIPTION, NAME)
    assert db.session.query(IssueNote.text).scalar() == NOTE
    assert db.session.query(IssueContact.text).scalar() == CONTACT


def test_queue_list(client, world, login_as, hostile):
    login_as(world.agent)
    shown_as_text(client.get("/issues/").get_data(as_text=True), TITLE, NAME)
    search = client.get("/issues/", query_string={"q": "<script>"}).get_data(as_text=True)
    shown_as_text(search, TITLE, NAME, "<script>")  # the search box echoes the query too


def test_customer_page(client, world, login_as, hostile):
    customer, _ = hostile
    login_as(world.agent)
    shown_as_text(client.get(f"/customers/{customer.id}").get_data(as_text=True), NAME, TITLE)


def test_issue_page_notes_contacts_and_history(client, world, login_as, hostile):
    _, issue = hostile
    services.update_issue(
        actor=world.agent,
        issue_id=issue.id,
        version=db.session.get(Issue, issue.id).version,
        changes={"title": EDITED, "description": EDITED},
    )
    db.session.commit()
    login_as(world.agent)
    html = client.get(f"/issues/{issue.id}").get_data(as_text=True)
    shown_as_text(html, NAME, NOTE, CONTACT, EDITED)
    history = html[html.index('id="timeline"') :]
    # the history shows the edit from the old title and description to the new ones
    shown_as_text(history, TITLE, DESCRIPTION, EDITED)


def test_caller_panel_json_carries_the_text_as_typed(client, world, login_as, hostile):
    customer, issue = hostile
    login_as(world.agent)
    response = client.get(f"/issues/customer-panel/{customer.id}.json")
    assert response.mimetype == "application/json"
    # JSON is data, not markup: a browser must never sniff it into HTML
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    data = response.get_json()
    assert data["name"] == NAME
    assert data["open_issues"][0]["title"] == TITLE
    assert data["recent_contacts"][0]["text"] == CONTACT
    assert data["recent_contacts"][0]["issue_number"] == issue.number
