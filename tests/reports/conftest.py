"""Builders for report tests: issues and voices with exact times, written straight to the
tables (the figures are about times, and services would stamp `now`)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.extensions import db
from app.issues.models import Category, Escalation, Issue, RootCause
from app.voice.models import Voice

_seq = itertools.count(1)

# ISO week 2026-W47 in Asia/Shanghai: Monday 2026-11-16 00:00 +08 = 2026-11-15 16:00 UTC
W47_START = datetime(2026, 11, 15, 16, 0, tzinfo=UTC)
W47_END = W47_START + timedelta(days=7)
W46_START = W47_START - timedelta(days=7)
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # Wednesday of W48


@pytest.fixture
def make_issue(world):
    causes = {c.code: c.id for c in db.session.scalars(sa.select(RootCause))}

    def make(
        office=None,
        received_at=W47_START + timedelta(days=1),
        *,
        category="product_quality",
        root_cause=None,
        first_response_at=None,
        response_due_at=None,
        resolved_at=None,
        resolve_due_at=None,
        closed_at=None,
        rating=None,
        status=None,
        escalation_level=0,
        title="设备无法开机",
        customer=None,
    ):
        office = office or world.sh
        categories = {c.code: c.id for c in db.session.scalars(sa.select(Category))}
        if status is None:
            status = "closed" if closed_at else "resolved" if resolved_at else "handling"
        n = next(_seq)
        issue = Issue(
            number=f"{office.code}-T-{n:06d}",
            office_id=office.id,
            customer_id=(
                customer or (world.customer if office.id == world.sh.id else world.customer_gz)
            ).id,
            title=title,
            description="",
            channel="hotline",
            category_id=categories[category],
            priority="normal",
            status=status,
            escalation_level=escalation_level,
            received_at=received_at,
            response_due_at=response_due_at or received_at + timedelta(hours=4),
            resolve_due_at=resolve_due_at or received_at + timedelta(days=3),
            response_target_minutes=240,
            resolve_target_minutes=1440,
            first_response_at=first_response_at,
            resolved_at=resolved_at,
            closed_at=closed_at,
            rating=rating,
            root_cause_id=causes[root_cause] if root_cause else None,
        )
        db.session.add(issue)
        db.session.flush()
        return issue

    return make


@pytest.fixture
def make_escalation():
    def make(issue, level, at):
        db.session.add(Escalation(issue_id=issue.id, level=level, reason="test", at=at))
        db.session.flush()

    return make


@pytest.fixture
def make_reopen():
    def make(issue, at):
        db.session.add(
            AuditEvent(
                actor_id=None,
                entity_type="issue",
                entity_id=issue.id,
                action="reopen",
                changes={},
                office_id=issue.office_id,
                at=at,
            )
        )
        db.session.flush()

    return make


@pytest.fixture
def make_voice(world):
    def make(
        office=None,
        occurred_at=W47_START + timedelta(days=2),
        *,
        channel="hotline",
        kind="passive",
        sentiment=None,
        repeat_of=None,
        text="客户反映设备噪音大",
    ):
        office = office or world.sh
        n = next(_seq)
        voice = Voice(
            reference=f"V{n:08d}",
            channel=channel,
            kind=kind,
            office_id=office.id,
            occurred_at=occurred_at,
            text=f"{text} {n}",
            sentiment=sentiment,
            repeat_of_id=repeat_of.id if repeat_of else None,
        )
        db.session.add(voice)
        db.session.flush()
        return voice

    return make
