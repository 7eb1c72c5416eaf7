"""Closed loop after a dissatisfied answer (contacted → fixed → re-measured), campaign progress
(invited, delivered, failed, opened, answered, reminders) and the customer page's answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.contacts import services as contact_services
from app.contacts.models import Contact
from app.core.outbox import OutboxMessage
from app.core.outbox_service import send_due
from app.core.scoping import Scope
from app.db import utcnow
from app.extensions import db
from app.issues import services as issue_services
from app.issues.models import Issue
from app.surveys import campaigns, services
from app.surveys.answers import link_for_token, record_response
from app.surveys.closed_loop import LoopFigures, awaiting_contacts, loop_figures
from app.surveys.invitations import new_token, send_wave
from app.surveys.models import Invitation, Response
from app.surveys.results import Progress, customer_responses, failed_mails, progress
from tests.surveys.bounce_samples import Sink
from tests.surveys.conftest import GOOD
from tests.surveys.helpers import design

pytestmark = pytest.mark.committing


def _answer(token, **answers):
    link = link_for_token(token, utcnow())
    response = record_response(link, {**GOOD, **answers}, language="zh", now=utcnow())
    db.session.commit()
    return response


def _fix(world, issue_id, handler=None):
    handler = handler or world.handler
    issue_services.handle_issue(actor=handler, issue_id=issue_id)
    issue_services.resolve_issue(
        actor=handler,
        issue_id=issue_id,
        resolution="上门更换部件",
        root_cause="design",
        responsible="交付组",
    )
    issue_services.close_issue(actor=None, issue_id=issue_id, rating=4)
    db.session.commit()


def _next_wave(world, sent, audience, survey_id=None):
    """Another campaign (of the same survey unless said), sent after the 30-day interval."""
    db.session.execute(sa.update(Contact).values(last_surveyed_at=utcnow() - timedelta(days=40)))
    now = utcnow()
    campaign = campaigns.create_campaign(
        actor=world.qa,
        survey_id=survey_id or sent["survey"].id,
        name="第二波",
        audience=audience,
        close_at=now + timedelta(days=10),
        now=now - timedelta(minutes=1),
    )
    db.session.flush()
    send_wave(campaign, "once", now, now)
    db.session.commit()
    return campaign


def _invited(campaign_id):
    return set(
        db.session.scalars(
            sa.select(Contact.name)
            .join(Invitation, Invitation.contact_id == Contact.id)
            .where(Invitation.campaign_id == campaign_id)
        )
    )


def test_detractor_is_contacted_fixed_and_remeasured_in_the_next_wave(
    client, sent, world, login_as
):
    response = _answer(sent["tokens"]["王"], nps="3", comment="交付延误")
    _answer(sent["tokens"]["Amy"])
    first = sent["campaign"]
    assert loop_figures(first) == LoopFigures(1, 0, 0, 0)
    assert response.issue_id is not None

    _fix(world, response.issue_id)
    assert loop_figures(first) == LoopFigures(1, 1, 0, 1)
    assert [c.name for c, _issue in awaiting_contacts(first)] == ["王"]

    # another survey's campaign does not pick 王 up; the next wave of this survey does, even
    # though its audience is only Amy
    other = services.create_survey(actor=world.qa, data=design(title="别的调查"))
    services.activate_survey(actor=world.qa, survey_id=other.id)
    unrelated = _next_wave(world, sent, {"contact_ids": [sent["amy"].id]}, survey_id=other.id)
    assert _invited(unrelated.id) == {"Amy"}
    second = _next_wave(world, sent, {"contact_ids": [sent["amy"].id]})
    assert _invited(second.id) == {"王", "Amy"}

    login_as(world.om)
    html = client.get(f"/surveys/campaigns/{first.id}").get_data(as_text=True)
    assert 'id="closed-loop"' in html and "王" in html

    invitation = db.session.scalars(
        sa.select(Invitation).where(
            Invitation.campaign_id == second.id, Invitation.contact_id == sent["wang"].id
        )
    ).one()
    token = new_token(invitation)
    db.session.commit()
    _answer(token, nps="9")
    assert loop_figures(first) == LoopFigures(1, 1, 1, 0)
    assert awaiting_contacts(first) == []


def test_an_open_issue_is_not_marked_and_a_satisfied_answer_is_no_detractor(sent, world):
    response = _answer(sent["tokens"]["王"], quality="1")
    assert response.issue_id is not None
    assert loop_figures(sent["campaign"]) == LoopFigures(1, 0, 0, 0)
    second = _next_wave(world, sent, {"contact_ids": [sent["amy"].id]})
    assert _invited(second.id) == {"Amy"}  # not fixed yet: no re-measurement


def test_progress_counts_delivery_opening_answers_reminders_and_lists_failures(
    client, sent, world, login_as
):
    campaign = sent["campaign"]
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.recipient == "amy@example.com")
        .values(status="failed", attempts=8, last_error="550 <mailbox> unavailable")
    )
    db.session.execute(
        sa.update(Invitation)
        .where(Invitation.contact_id == sent["amy"].id)
        .values(reminders_sent=1)
    )
    db.session.commit()
    # wang's e-mail goes out through the outbox, which marks the invitation delivered
    assert send_due(utcnow() + timedelta(seconds=1), sender=Sink())["sent"] == 1
    assert progress(campaign.id) == Progress(2, 1, 1, 0, 0, 0, 1)
    assert client.get(f"/s/{sent['tokens']['王']}", follow_redirects=True).status_code == 200
    _answer(sent["tokens"]["王"])
    assert progress(campaign.id) == Progress(2, 1, 1, 0, 1, 1, 1)
    failed = failed_mails(campaign.id)
    assert [(f.contact_name, f.recipient, f.reminder) for f in failed] == [
        ("Amy", "amy@example.com", 0)
    ]
    login_as(world.om)
    html = client.get(f"/surveys/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'id="progress"' in html and "amy@example.com" in html
    assert "550 &lt;mailbox&gt; unavailable" in html


def test_customer_page_lists_recent_answers_with_the_issue_raised(client, sent, world, login_as):
    _answer(sent["tokens"]["王"], nps="2", quality="5", speed="4")
    issue = db.session.scalars(sa.select(Issue)).one()
    rows = customer_responses(world.customer.id, Scope(kind="company"))
    assert [(r.contact_name, r.nps, r.rating_mean, r.issue_number) for r in rows] == [
        ("王", 2, 4.5, issue.number)
    ]
    # another office's scope sees none of them, and another customer has none
    assert customer_responses(world.customer.id, Scope(kind="office", office_id=world.gz.id)) == []
    assert customer_responses(world.customer_gz.id, Scope(kind="company")) == []
    login_as(world.om)
    html = client.get(f"/customers/{world.customer.id}").get_data(as_text=True)
    assert 'id="survey-answers"' in html and "答卷测试" in html
    assert f'href="/issues/{issue.id}"' in html and issue.number in html


def test_customer_answers_are_bounded(sent, world):
    _answer(sent["tokens"]["王"])
    _answer(sent["tokens"]["Amy"])
    assert len(customer_responses(world.customer.id, Scope(kind="company"), limit=1)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 2


def test_remeasurement_stays_within_the_offices_a_campaign_is_about(sent, world, make_user):
    handler_gz = make_user("handler", office=world.gz, email="handler@gz.example.com")
    gz_contact = contact_services.add_contact(
        actor=world.agent_gz, customer_id=world.customer_gz.id, name="李", email="li@example.com"
    )
    db.session.commit()
    # 李 of GZ answered a company-wide wave of the same survey, dissatisfied; fixed since
    now = utcnow()
    company_wide = campaigns.create_campaign(
        actor=world.qa,
        survey_id=sent["survey"].id,
        name="全公司",
        audience={"contact_ids": [gz_contact.id]},
        close_at=now + timedelta(days=10),
        now=now - timedelta(minutes=1),
    )
    db.session.flush()
    send_wave(company_wide, "once", now, now)
    db.session.commit()
    invitation = db.session.scalars(
        sa.select(Invitation).where(Invitation.contact_id == gz_contact.id)
    ).one()
    token = new_token(invitation)
    db.session.commit()
    li = _answer(token, nps="2", comment="服务差")
    wang = _answer(sent["tokens"]["王"], nps="3", comment="交付延误")
    _fix(world, li.issue_id, handler=handler_gz)
    _fix(world, wang.issue_id)

    sh_wave = _next_wave(world, sent, {"office": "SH", "contact_ids": [sent["amy"].id]})
    assert _invited(sh_wave.id) == {"王", "Amy"}  # SH's own detractor, not GZ's
    everywhere = _next_wave(world, sent, {"contact_ids": [sent["amy"].id]})
    # a company-wide campaign reaches every office (王 has not answered again yet either)
    assert _invited(everywhere.id) == {"李", "王", "Amy"}
