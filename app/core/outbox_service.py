"""Queue e-mail in the caller's transaction; send it after commit, each message once.

Enqueueing is idempotent by key (a second enqueue is a no-op), so a retried request or a job
that runs twice queues one message. Sending claims each message with a conditional UPDATE that
only one sender can win, commits the claim, then delivers.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import IntegrityError

from app.core.errors import ValidationFailed
from app.core.mailer import Sender, build_message
from app.core.outbox import OutboxMessage
from app.db import utcnow
from app.extensions import db

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=10)  # a claimed message not marked sent by then is tried again


def _clean_header(value: str, field: str, limit: int) -> str:
    if any(ch in value for ch in "\r\n\x00"):
        raise ValidationFailed(fields={field: "must not contain line breaks"})
    return value[:limit]


def valid_recipient(address: str) -> str:
    _clean_header(address, "to", 254)
    try:
        return str(validate_email(address, check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise ValidationFailed(fields={"to": "not a valid e-mail address"}) from exc


def enqueue_email(
    *,
    key: str,
    to: str,
    subject: str,
    body: str,
    entity_type: str | None = None,
    entity_id: int | None = None,
) -> OutboxMessage | None:
    """Queue a message unless one with this key exists. Returns the new row, or None."""
    recipient = valid_recipient(to)
    subject = _clean_header(subject, "subject", 300)
    if db.session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)):
        return None
    message = OutboxMessage(
        idempotency_key=key[:200],
        recipient=recipient,
        subject=subject,
        body=body,
        entity_type=entity_type,
        entity_id=entity_id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(message)
    except IntegrityError:
        # a concurrent transaction queued the same key first
        return None
    return message


def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2**attempts, 12 * 60))


def _claim(message_id: int, attempts: int, now: datetime) -> bool:
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == "pending",
            OutboxMessage.attempts == attempts,
        )
        .values(attempts=attempts + 1, next_attempt_at=now + LEASE)
    )
    db.session.commit()
    return bool(getattr(result, "rowcount", 0))


def send_due(now: datetime, *, sender: Sender, batch: int = 100) -> dict[str, Any]:
    due = db.session.execute(
        sa.select(OutboxMessage.id, OutboxMessage.attempts)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(batch)
    ).all()
    db.session.commit()
    from flask import current_app

    from_address = current_app.config["MAIL_DEFAULT_SENDER"]
    sent = failed = retried = 0
    for message_id, attempts in due:
        if not _claim(message_id, attempts, now):
            continue  # another sender has it
        message = db.session.get(OutboxMessage, message_id)
        if message is None:
            continue
        email = build_message(
            sender=from_address,
            to=message.recipient,
            subject=message.subject,
            body=message.body,
            key=message.idempotency_key,
        )
        try:
            note = sender.send(email)
        except Exception as exc:  # any delivery failure is recorded, never lost
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = "failed"
                failed += 1
            else:
                message.next_attempt_at = now + _backoff(message.attempts)
                retried += 1
            log.warning("mail %s to %s failed: %s", message.id, message.recipient, exc)
        else:
            message.status = "sent"
            message.sent_at = utcnow()
            message.last_error = None if note == "sent" else note
            sent += 1
        db.session.commit()
    return {"due": len(due), "sent": sent, "retried": retried, "failed": failed}
