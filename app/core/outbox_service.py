"""Queue e-mail in the caller's transaction; send it after commit, each message once.

Enqueueing is idempotent by key: a second enqueue with the same key is a no-op, also when two
transactions race (the loser's insert fails on the unique key inside a savepoint, which leaves
the rest of its transaction intact). So a retried request or a job that runs twice queues one
message.

Sending (`send_due`, run each minute by the `send-outbox` job) claims each due message with a
compare-and-set UPDATE (`WHERE id = … AND status = 'pending' AND attempts = <seen>`) and commits
the claim before delivering: of two senders only one sees rowcount 1, so no message goes out
twice. The claim also pushes `next_attempt_at` out by LEASE, so a sender that dies mid-delivery
leaves the message to be tried again later (delivery is at-least-once only across such a
crash). A failed delivery backs off exponentially; after MAX_ATTEMPTS the message is `failed`,
its last error kept for the page of the entity that caused it (`messages_for`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.core.errors import ValidationFailed
from app.core.mailer import Sender, build_message
from app.core.outbox import OutboxMessage
from app.db import utcnow
from app.extensions import db

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8  # with the backoff below: retried for about four hours, then `failed`
LEASE = timedelta(minutes=10)  # a claimed message not marked sent by then is tried again
KEY_MAX = 200  # OutboxMessage.idempotency_key
SUBJECT_MAX = 300  # OutboxMessage.subject


def _single_line(value: str, field: str) -> str:
    # A CR or LF in a header would let the value add headers of its own (Bcc: …).
    if any(ch in value for ch in "\r\n\x00"):
        raise ValidationFailed(fields={field: "must not contain line breaks"})
    return value


def valid_recipient(address: str) -> str:
    """The normalised address, or ValidationFailed(fields={"to": …})."""
    _single_line(address, "to")
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
    """Queue a message in the current transaction unless one with `key` exists.

    Returns the new (flushed) row, or None when the key was already queued. Raises
    ValidationFailed for a bad recipient or a line break in a header. Sent after the caller
    commits; nothing is sent if it rolls back.
    """
    if not key or len(key) > KEY_MAX:
        raise ValidationFailed(fields={"key": f"1 to {KEY_MAX} characters"})
    recipient = valid_recipient(to)
    subject = _single_line(subject, "subject")[:SUBJECT_MAX]
    exists = sa.select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)
    if db.session.scalar(exists) is not None:
        return None
    message = OutboxMessage(
        idempotency_key=key,
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
        return None  # a concurrent transaction queued the same key first
    return message


def messages_for(entity_type: str, entity_id: int) -> list[OutboxMessage]:
    """The e-mail an entity caused, newest first, so its page can show failures."""
    return list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.entity_type == entity_type, OutboxMessage.entity_id == entity_id)
            .order_by(OutboxMessage.id.desc())
        )
    )


def backoff(attempts: int) -> timedelta:
    """Wait after the `attempts`-th failure: 2, 4, 8 … minutes, at most 12 hours."""
    return timedelta(minutes=min(2**attempts, 12 * 60))


def _claim(message_id: int, seen_attempts: int, now: datetime) -> tuple[str, str, str, str] | None:
    """Take the message if nobody else has since we listed it; commit; return what to send."""
    claimed = db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == "pending",
            OutboxMessage.attempts == seen_attempts,
        )
        .values(attempts=seen_attempts + 1, next_attempt_at=now + LEASE)
        .returning(
            OutboxMessage.recipient,
            OutboxMessage.subject,
            OutboxMessage.body,
            OutboxMessage.idempotency_key,
        )
    ).one_or_none()
    # Commit before delivering: no transaction (on SQLite, no write lock) stays open while we
    # wait on the mail server.
    db.session.commit()
    if claimed is None:
        return None
    recipient, subject, body, key = claimed
    return recipient, subject, body, key


def _record(message_id: int, attempts: int, values: dict[str, Any]) -> None:
    """Store the outcome of our attempt, unless the lease ran out and another sender took it."""
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.attempts == attempts)
        .values(values)
    )
    db.session.commit()


def send_due(now: datetime, *, sender: Sender, batch: int = 100) -> dict[str, Any]:
    """Deliver up to `batch` pending messages due by `now`. Commits per message.

    Returns counts: due (looked at), sent, retried (failed, will retry), failed (gave up),
    taken (claimed meanwhile by another sender).
    """
    due = db.session.execute(
        sa.select(OutboxMessage.id, OutboxMessage.attempts)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(batch)
    ).all()
    db.session.commit()  # end the read: each claim below is its own short transaction
    from_address = current_app.config["MAIL_DEFAULT_SENDER"]
    counts = {"due": len(due), "sent": 0, "retried": 0, "failed": 0, "taken": 0}
    for message_id, seen_attempts in due:
        claimed = _claim(message_id, seen_attempts, now)
        if claimed is None:
            counts["taken"] += 1
            continue
        recipient, subject, body, key = claimed
        attempts = seen_attempts + 1
        try:
            note = sender.send(
                build_message(
                    sender=from_address, to=recipient, subject=subject, body=body, key=key
                )
            )
        except Exception as exc:  # any delivery failure is recorded, never lost
            log.warning("mail %s to %s failed: %s", message_id, recipient, exc)
            error = f"{type(exc).__name__}: {exc}"[:2000]
            if attempts >= MAX_ATTEMPTS:
                _record(message_id, attempts, {"status": "failed", "last_error": error})
                counts["failed"] += 1
            else:
                retry_at = now + backoff(attempts)
                _record(message_id, attempts, {"last_error": error, "next_attempt_at": retry_at})
                counts["retried"] += 1
        else:
            last_error = None if note == "sent" else note
            _record(
                message_id,
                attempts,
                {"status": "sent", "sent_at": utcnow(), "last_error": last_error},
            )
            counts["sent"] += 1
    return counts
