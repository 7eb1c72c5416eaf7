"""Voice → issue: raise_issue carries the voice over and links both ways."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.audit import history
from app.core.errors import NotFound, ValidationFailed
from app.extensions import db
from app.issues.models import Issue
from app.voice import services
from app.voice.models import VoiceIssueLink


def test_raise_issue_carries_customer_office_text_category_and_time(world):
    voice = services.record_voice(
        actor=world.agent,
        channel="return",
        text="第三批次电源模块退货，开机无反应",
        customer_id=world.customer.id,
        category="product_quality",
    )
    issue = services.raise_issue(actor=world.agent, voice_id=voice.id, title="电源模块退货")
    db.session.commit()
    assert (issue.customer_id, issue.office_id) == (world.customer.id, world.sh.id)
    assert issue.description == voice.text
    assert issue.category.code == "product_quality"
    assert issue.channel == "return"
    assert issue.received_at == voice.occurred_at
    assert issue.voice_id == voice.id
    link = db.session.scalars(sa.select(VoiceIssueLink)).one()
    assert (link.voice_id, link.issue_id, link.kind) == (voice.id, issue.id, "raised")
    assert [e.action for e in history("voice", voice.id)] == ["create", "raise_issue"]
    assert [e.action for e in history("issue", issue.id)] == ["accept"]


def test_a_voice_without_customer_or_category_cannot_raise_and_nothing_is_written(world):
    research = services.record_voice(
        actor=world.qa, channel="market_research", text="竞品降价", office_code="SH"
    )
    with pytest.raises(ValidationFailed) as err:
        services.raise_issue(actor=world.qa, voice_id=research.id, title="竞品降价")
    assert set(err.value.fields) == {"customer_id", "category"}
    call = services.record_voice(
        actor=world.agent, channel="hotline", text="没分类", customer_id=world.customer.id
    )
    with pytest.raises(ValidationFailed) as err:
        services.raise_issue(actor=world.agent, voice_id=call.id, title="x")
    assert err.value.fields == {"category": "required"}
    issue = services.raise_issue(
        actor=world.agent, voice_id=call.id, title="x", category="service_attitude"
    )
    assert issue.category.code == "service_attitude"
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Issue)) == 1


def test_another_offices_voice_is_not_found(world):
    voice = services.record_voice(
        actor=world.agent_gz, channel="hotline", text="x", customer_id=world.customer_gz.id
    )
    with pytest.raises(NotFound):
        services.raise_issue(actor=world.agent, voice_id=voice.id, title="x")
