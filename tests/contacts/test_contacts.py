"""Contacts, projects and milestones: validation, scope, audit, the milestone-done event."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from app.contacts import services
from app.contacts.models import Contact, Milestone
from app.contacts.signals import milestone_done
from app.core.audit import AuditEvent, history
from app.core.errors import InvalidTransitionError, NotFound, ValidationFailed
from app.extensions import db
from tests.conftest import csrf_from

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def test_contact_is_validated_and_audited(world):
    contact = services.add_contact(
        actor=world.agent,
        customer_id=world.customer.id,
        name=" 王经理 ",
        role="采购经理",
        email="Wang@Example.COM",
        language="zh",
    )
    db.session.commit()
    assert contact.name == "王经理" and contact.email == "Wang@example.com"
    (event,) = history("contact", contact.id)
    assert event.action == "create" and event.office_id == world.sh.id


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x", "email": "not-an-address"}, "email"),
        ({"name": "x", "email": "a@b.com\r\nCc: x@evil.example"}, "email"),
        ({"name": "x", "language": "fr"}, "language"),
        ({"name": "x" * 121}, "name"),
    ],
)
def test_bad_contacts_are_refused_and_nothing_is_written(world, values, field):
    with pytest.raises(ValidationFailed) as err:
        services.add_contact(actor=world.agent, customer_id=world.customer.id, **values)
    assert field in err.value.fields
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 0


def test_another_offices_customer_and_contact_are_not_found(world):
    with pytest.raises(NotFound):
        services.add_contact(actor=world.agent_gz, customer_id=world.customer.id, name="x")
    contact = services.add_contact(actor=world.agent, customer_id=world.customer.id, name="x")
    db.session.commit()
    with pytest.raises(NotFound):
        services.update_contact(actor=world.agent_gz, contact_id=contact.id, active=False)


def test_update_audits_only_what_changed(world):
    contact = services.add_contact(actor=world.agent, customer_id=world.customer.id, name="a")
    services.update_contact(actor=world.agent, contact_id=contact.id, name="a", active=False)
    db.session.commit()
    update = history("contact", contact.id)[-1]
    assert update.action == "update" and update.changes == {"active": [True, False]}


def _milestone(world):
    project = services.add_project(actor=world.om, customer_id=world.customer.id, name="机房扩容")
    return services.add_milestone(
        actor=world.om, project_id=project.id, name="验收", due_date=date(2026, 11, 30)
    )


def test_marking_a_milestone_done_audits_and_signals_once(world):
    milestone = _milestone(world)
    db.session.commit()
    received = []

    def listen(sender, **kw):
        received.append((sender.id, kw["now"]))

    with milestone_done.connected_to(listen):
        services.mark_milestone_done(actor=world.handler, milestone_id=milestone.id, now=NOW)
        db.session.commit()
        with pytest.raises(InvalidTransitionError):
            services.mark_milestone_done(actor=world.handler, milestone_id=milestone.id, now=NOW)
    db.session.rollback()
    assert received == [(milestone.id, NOW)]
    row = db.session.get(Milestone, milestone.id)
    assert row.done_at == NOW and row.done_on == date(2026, 11, 20)
    assert [e.action for e in history("milestone", milestone.id)] == ["create", "done"]


def test_done_date_in_the_future_and_other_office_are_refused(world):
    milestone = _milestone(world)
    db.session.commit()
    with pytest.raises(ValidationFailed):
        services.mark_milestone_done(
            actor=world.om, milestone_id=milestone.id, done_on=date(2026, 12, 1), now=NOW
        )
    db.session.rollback()
    with pytest.raises(NotFound):
        services.mark_milestone_done(actor=world.agent_gz, milestone_id=milestone.id, now=NOW)
    db.session.rollback()
    assert db.session.get(Milestone, milestone.id).done_at is None


def test_customer_page_lists_contacts_and_projects(client, world, login_as):
    services.add_contact(actor=world.agent, customer_id=world.customer.id, name="<b>赵</b>")
    _milestone(world)
    db.session.commit()
    login_as(world.agent)
    html = client.get(f"/customers/{world.customer.id}").get_data(as_text=True)
    assert "&lt;b&gt;赵&lt;/b&gt;" in html and "<b>赵</b>" not in html
    assert "机房扩容" in html and "验收" in html and "标记完成" in html


def test_contact_pages_add_and_refuse(client, world, login_as, post_form):
    login_as(world.agent)
    url = f"/customers/{world.customer.id}/contacts/new"
    bad = post_form(url, {"name": "李", "email": "x@", "language": "zh"})
    assert bad.status_code == 200 and "not a valid e-mail address" in bad.get_data(as_text=True)
    ok = post_form(url, {"name": "李", "email": "li@example.com", "language": "en", "active": "y"})
    assert ok.status_code == 302
    (contact,) = db.session.scalars(sa.select(Contact)).all()
    assert contact.language == "en" and contact.active
    login_as(world.agent_gz)
    assert client.get(f"/contacts/{contact.id}/edit").status_code == 404
    assert client.get(url).status_code == 404


def test_mark_done_page_action_needs_csrf_and_is_audited(client, world, login_as):
    milestone = _milestone(world)
    db.session.commit()
    login_as(world.handler)
    url = f"/milestones/{milestone.id}/done"
    assert client.post(url).status_code == 400  # no CSRF token
    page = client.get(f"/customers/{world.customer.id}").get_data(as_text=True)
    response = client.post(url, data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302
    again = client.post(url, data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    assert "已完成" in again.get_data(as_text=True)
    done = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "milestone", AuditEvent.action == "done"
        )
    ).all()
    assert len(done) == 1 and done[0].actor_id == world.handler.id
