"""A sent campaign and the tokens of its links, for the answer page tests; the same campaign
delivered, for the bounce tests (bounce_samples)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.contacts import services as contact_services
from app.core.outbox import OutboxMessage
from app.db import utcnow
from app.extensions import db
from app.surveys import campaigns, services
from app.surveys.invitations import invite_audience
from app.surveys.models import Campaign
from tests.surveys.bounce_samples import delivered  # noqa: F401  (a fixture)
from tests.surveys.helpers import design


@pytest.fixture
def sent(world):
    """An active survey sent to two SH contacts now; `tokens` by contact name."""
    survey = services.create_survey(actor=world.qa, data=design())
    services.activate_survey(actor=world.qa, survey_id=survey.id)
    wang = contact_services.add_contact(
        actor=world.agent, customer_id=world.customer.id, name="王", email="wang@example.com"
    )
    amy = contact_services.add_contact(
        actor=world.agent,
        customer_id=world.customer.id,
        name="Amy",
        email="amy@example.com",
        language="en",
    )
    now = utcnow()
    campaign = campaigns.create_campaign(
        actor=world.qa,
        survey_id=survey.id,
        name="答卷测试",
        audience={"office": "SH"},
        close_at=now + timedelta(days=10),
        now=now - timedelta(minutes=1),
    )
    db.session.flush()
    invite_audience(campaign, "once", now - timedelta(minutes=1))
    db.session.commit()
    tokens = {}
    for message in db.session.scalars(sa.select(OutboxMessage)):
        token = re.search(r"/s/([A-Za-z0-9_-]+)", message.body).group(1)
        tokens["王" if message.recipient.startswith("wang") else "Amy"] = token
    return {"campaign": campaign, "survey": survey, "tokens": tokens, "wang": wang, "amy": amy}


GOOD = {"quality": "5", "speed": "4", "nps": "9", "channel": "展会", "comment": "很好"}


def close_campaign(campaign_id: int) -> None:
    db.session.execute(
        sa.update(Campaign)
        .where(Campaign.id == campaign_id)
        .values(close_at=datetime(2026, 1, 1, tzinfo=UTC), status="closed")
    )
    db.session.commit()
