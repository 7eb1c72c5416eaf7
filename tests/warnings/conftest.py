from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from app.extensions import db
from app.voice.models import Voice
from tests.reports.conftest import make_escalation, make_issue  # noqa: F401  (fixtures)

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai
_seq = itertools.count(1)


@pytest.fixture
def make_contact():
    """A voice of `customer` at `at`: a contact that is not an issue."""

    def make(customer, at, channel="sales_report"):
        n = next(_seq)
        voice = Voice(
            reference=f"W{n:08d}",
            channel=channel,
            kind="passive",
            office_id=customer.office_id,
            customer_id=customer.id,
            occurred_at=at,
            text=f"客户订单 {n}",
        )
        db.session.add(voice)
        db.session.flush()
        return voice

    return make
