"""Survey answers written straight to the tables, for measurement tests (they are about times
and places, which services would stamp with `now`)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from app.contacts.models import Contact
from app.extensions import db
from app.surveys import services
from app.surveys.models import Answer, Campaign, Invitation, Response
from tests.surveys.helpers import design

_seq = itertools.count(1)
NOV = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)


@pytest.fixture
def measured_survey(world):
    s = services.create_survey(actor=world.qa, data=design())
    services.activate_survey(actor=world.qa, survey_id=s.id)
    db.session.commit()
    return s


@pytest.fixture
def invited(world, measured_survey):
    """invited(office, at, customer=None, wave="once", delivered=True, bounced=False,
    responded_at=None): one invitation sent at `at` in the office's campaign of the measured
    survey, straight into the tables; delivered (its e-mail handed to the mail server) or not,
    bounced back or not, answered when (the response itself is `answer`'s)."""
    survey = measured_survey
    campaigns = {}

    def make(
        office=None,
        at=NOV,
        *,
        customer=None,
        wave="once",
        delivered=True,
        bounced=False,
        responded_at=None,
    ):
        office = office or world.sh
        if office.id not in campaigns:
            campaign = Campaign(survey_id=survey.id, name=f"C{office.code}", office_id=office.id)
            db.session.add(campaign)
            db.session.flush()
            campaigns[office.id] = campaign
        campaign = campaigns[office.id]
        customer = customer or (world.customer if office.id == world.sh.id else world.customer_gz)
        n = next(_seq)
        contact = Contact(customer_id=customer.id, name=f"联系人{n}", email=f"c{n}@example.com")
        db.session.add(contact)
        db.session.flush()
        invitation = Invitation(
            purpose="survey",
            campaign_id=campaign.id,
            survey_id=survey.id,
            contact_id=contact.id,
            office_id=office.id,
            wave=wave,
            sent_at=at,
            expires_at=at + timedelta(days=30),
            delivered_at=at + timedelta(seconds=30) if delivered else None,
            bounced_at=at + timedelta(hours=1) if bounced else None,
            bounce_kind="hard" if bounced else None,
            responded_at=responded_at,
        )
        db.session.add(invitation)
        db.session.flush()
        return invitation

    return make


@pytest.fixture
def answer(world, measured_survey, invited):
    """answer(office, at, quality=5, speed=4, nps=9, customer=None, wave="once", sent=at): one
    response, straight into the tables (measurement is about times and places; a None value is
    a skipped question), to an invitation sent at `sent`."""
    survey = measured_survey
    questions = {q.key: q for q in survey.questions}

    def make(office=None, at=NOV, *, customer=None, wave="once", sent=None, **values):
        invitation = invited(office, sent or at, customer=customer, wave=wave, responded_at=at)
        campaign = db.session.get(Campaign, invitation.campaign_id)
        contact = db.session.get(Contact, invitation.contact_id)
        office_id = invitation.office_id
        response = Response(
            invitation_id=invitation.id,
            campaign_id=campaign.id,
            survey_id=survey.id,
            contact_id=contact.id,
            office_id=office_id,
            submitted_at=at,
        )
        db.session.add(response)
        db.session.flush()
        given = {"quality": 5, "speed": 4, "nps": 9, **values}
        for key, value in given.items():
            if value is None:
                continue
            q = questions[key]
            db.session.add(
                Answer(
                    response_id=response.id,
                    question_id=q.id,
                    campaign_id=campaign.id,
                    question_type=q.type,
                    indicator_id=q.indicator_id,
                    value=value,
                )
            )
        db.session.flush()
        return response

    return make
