"""The delivery-status notification samples of dsn/ and the campaign they are about: two
invitations delivered by the outbox, each sample's token given to the message it names."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.core.outbox import OutboxMessage
from app.core.outbox_service import send_due
from app.db import utcnow
from app.extensions import db
from app.surveys.models import Invitation

DSN = Path(__file__).parent / "dsn"
POSTFIX_HARD = DSN / "postfix_hard_user_unknown.eml"  # wang, VERP and Message-ID
EXCHANGE_HARD = DSN / "exchange_hard_recipient_not_found.eml"  # amy, Message-ID only
POSTFIX_SOFT = DSN / "postfix_soft_mailbox_full.eml"  # wang, full message returned
POSTFIX_DELAYED = DSN / "postfix_delayed.eml"
OUT_OF_OFFICE = DSN / "out_of_office.eml"
TOKENS = {
    POSTFIX_HARD: "3f9c2e7a51d04b6e8c1f0a9d72e5b4c1",
    EXCHANGE_HARD: "8d04b1f6c2a9e3577e1b0c4d9f2a6e83",
    POSTFIX_SOFT: "c6e1a0947b3d2f5890ad1e7c4b6f2d09",
}


class Sink:
    def send(self, message, envelope_from=None):
        return "sent"


def mail_of(recipient: str) -> OutboxMessage:
    return db.session.scalars(
        sa.select(OutboxMessage).where(
            OutboxMessage.recipient == recipient, OutboxMessage.idempotency_key.like("%:0")
        )
    ).one()


def invitation_of(recipient: str) -> Invitation:
    message = mail_of(recipient)
    return db.session.get(Invitation, int(message.idempotency_key.split(":")[1]))


@pytest.fixture
def delivered(sent):
    """The `sent` campaign's two invitations delivered by the outbox; each sample's token
    given to the message it is about (the samples were written with fixed tokens)."""
    assert send_due(utcnow() + timedelta(seconds=1), sender=Sink())["sent"] == 2
    wang, amy = mail_of("wang@example.com"), mail_of("amy@example.com")
    wang.bounce_token = TOKENS[POSTFIX_HARD]
    amy.bounce_token = TOKENS[EXCHANGE_HARD]
    db.session.commit()
    return sent


def audits(entity_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.entity_type == "invitation",
            AuditEvent.entity_id == entity_id,
            AuditEvent.action == "bounce",
        )
    )
