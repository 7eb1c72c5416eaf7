"""record_voice: the one path every voice is stored through."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.core.audit import history
from app.core.errors import ValidationFailed
from app.extensions import db
from app.voice.models import Voice
from app.voice.services import record_voice


def test_a_voice_gets_its_kind_office_reference_and_audit_row(world):
    voice = record_voice(
        actor=world.agent,
        channel="return",
        text="第三批次电源模块退货，开机无反应",
        customer_id=world.customer.id,
        category="product_quality",
        details={"batch": "B2026-11", "reason_code": "DOA", "product": "PSU-3"},
    )
    db.session.commit()
    assert voice.kind == "passive"
    assert voice.office_id == world.sh.id  # the customer's office
    assert voice.dimension == "product"  # taken from the category
    assert voice.classified_by == "staff"
    assert voice.reference.startswith("V-") and len(voice.reference) == 10
    assert voice.details == {"batch": "B2026-11", "reason_code": "DOA", "product": "PSU-3"}
    assert [e.action for e in history("voice", voice.id)] == ["create"]


def test_an_active_channel_without_customer_needs_an_office(world):
    with pytest.raises(ValidationFailed) as err:
        record_voice(actor=world.qa, channel="market_research", text="竞品价格下降 8%")
    assert err.value.fields == {"office": "required"}
    voice = record_voice(
        actor=world.qa,
        channel="market_research",
        text="竞品价格下降 8%",
        office_code="sh",
        details={"agency": "零点", "sample_size": "600"},
    )
    assert voice.kind == "active" and voice.customer_id is None


def test_bad_input_is_named_field_by_field_and_nothing_is_stored(world):
    with pytest.raises(ValidationFailed) as err:
        record_voice(
            actor=world.agent,
            channel="fax",
            text="  ",
            customer_id=world.customer.id,
            dimension="price",
            sentiment="angry",
            category="nope",
            occurred_at=datetime.now(UTC) + timedelta(days=1),
            details={"colour": "red"},
        )
    assert set(err.value.fields) == {
        "channel",
        "text",
        "dimension",
        "sentiment",
        "category",
        "occurred_at",
        "details.colour",
    }
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voice)) == 0


def test_text_of_twenty_thousand_characters_is_the_limit(world):
    record_voice(actor=world.agent, channel="web", text="好" * 20_000, office_code="SH")
    with pytest.raises(ValidationFailed) as err:
        record_voice(actor=world.agent, channel="web", text="好" * 20_001, office_code="SH")
    assert "text" in err.value.fields


def test_another_offices_customer_or_office_is_unknown(world):
    with pytest.raises(ValidationFailed) as err:
        record_voice(
            actor=world.agent_gz, channel="hotline", text="x", customer_id=world.customer.id
        )
    assert err.value.fields["customer_id"] == "unknown customer"
    with pytest.raises(ValidationFailed) as err:
        record_voice(actor=world.agent_gz, channel="hotline", text="x", office_code="SH")
    assert err.value.fields == {"office": "unknown office"}


def test_a_customer_is_not_filed_into_another_office(world, make_office):
    """A manager of several offices names a customer of one and another office: refused on
    `customer_id`, whatever the actor may see, and nothing is stored."""
    hz = make_office("HZ", region=world.east)  # the regional manager covers SH and HZ
    for actor, office in ((world.rm, "HZ"), (world.qa, "GZ"), (world.qa, "gz")):
        with pytest.raises(ValidationFailed) as err:
            record_voice(
                actor=actor,
                channel="hotline",
                text="客户投诉",
                customer_id=world.customer.id,
                office_code=office,
            )
        assert err.value.fields == {
            "customer_id": f"a customer of office SH, not of {office.upper()}"
        }
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voice)) == 0
    # the customer's own office, named or not, is fine
    named = record_voice(
        actor=world.rm,
        channel="hotline",
        text="客户投诉",
        customer_id=world.customer.id,
        office_code="sh",
    )
    assert named.office_id == world.sh.id
    # without a customer, any office in scope
    assert (
        record_voice(actor=world.rm, channel="web", text="x", office_code="HZ").office_id == hz.id
    )


def test_the_public_page_may_file_into_any_office_without_an_actor(world):
    voice = record_voice(actor=None, channel="web", text="网站很好用", office_code="GZ")
    assert voice.office_id == world.gz.id and voice.created_by_id is None
    # nobody classified it by hand: the rules did (here only the sentiment lexicon applies)
    assert voice.classified_by == "rules" and voice.sentiment == "positive"
