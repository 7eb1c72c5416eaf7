"""Outgoing messages, written in the same transaction as the change that causes them and sent
after commit by the `send-outbox` job. The idempotency key makes each message exist once; the
bounce token (random, in the Message-ID and the VERP envelope sender) lets a late bounce find
its message (app.surveys.bounces)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UTCDateTime, check_in, utcnow
from app.extensions import db

# cancelled: taken back before it went out (what it announced no longer holds: a rating link
# withdrawn because the issue was reopened); never sent afterwards
OUTBOX_STATUSES = ("pending", "sent", "failed", "cancelled")
BOUNCE_KINDS = ("hard", "soft")  # a 5.x.x (permanent) or 4.x.x (transient) failure reported


class OutboxMessage(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "outbox_messages"
    __table_args__ = (
        sa.CheckConstraint(check_in("status", OUTBOX_STATUSES), name="status_valid"),
        sa.Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        # messages_for(): the e-mail an issue (or another entity) caused, on its page
        sa.Index("ix_outbox_messages_entity", "entity_type", "entity_id"),
        sa.CheckConstraint(
            "bounce_kind IS NULL OR bounce_kind IN ('hard', 'soft')", name="bounce_kind_valid"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text())
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(sa.Text())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # what caused it, for "failures visible" on the owning page
    entity_type: Mapped[str | None] = mapped_column(sa.String(40))
    entity_id: Mapped[int | None] = mapped_column()
    # 128 random bits (hex); None on messages queued before bounces were tracked
    bounce_token: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    # a delivery-status notification received after the server accepted the message
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    bounce_kind: Mapped[str | None] = mapped_column(sa.String(4))
    bounce_status: Mapped[str | None] = mapped_column(sa.String(16))  # e.g. 5.1.1
    bounce_detail: Mapped[str | None] = mapped_column(sa.String(500))
