"""Queue e-mail in the caller's transaction; send it after commit, each message once.

Enqueueing is idempotent by key: a second enqueue with the same key is a no-op, also when two
transactions race (the loser's insert fails on the unique key inside a savepoint, which leaves
the rest of its transaction intact). So a retried request or a job that runs twice queues one
message.

Sending (`send_due`, run each minute by the `send-outbox` job) works in chunks of CHUNK
messages over one SMTP connection. A chunk is claimed with one UPDATE (`WHERE id IN (…) AND
status = 'pending' AND next_attempt_at <= now`, rows locked with SKIP LOCKED on PostgreSQL) that
pushes `next_attempt_at` out by LEASE and counts the attempt, and the claim is committed before
anything is delivered: of two senders only one gets each row, so no message goes out twice.
After the chunk is delivered, the outcomes are written in one transaction (one UPDATE per kind
of outcome). A sender that dies between delivering and recording leaves its chunk claimed; the
lease runs out and those messages are tried again, so delivery is at-least-once across such a
crash, for at most one chunk, and not silently: a message claimed again after a lease ran out
gets the note LEASE_NOTE and a warning in the log. A failed delivery backs off exponentially;
after MAX_ATTEMPTS the message is `failed`, its last error kept for the page of the entity that
caused it (`messages_for`). When the server cannot be reached at all, the rest of the chunk is
put back with the same error and backoff, and the run stops there: the messages not claimed
yet stay as they were, without an attempt counted, for the next run.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from blinker import Namespace
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.core.errors import ValidationFailed
from app.core.mailer import Connection, Sender, bounce_envelope, build_message, session_of
from app.core.outbox import OutboxMessage
from app.db import utcnow
from app.extensions import db

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8  # with the backoff below: retried for about four hours, then `failed`
LEASE = timedelta(minutes=10)  # a claimed message not marked sent by then is tried again
CHUNK = 50  # messages claimed, delivered over one connection, then recorded, at a time
CLAIM_NOTE = "being delivered"  # last_error while claimed: the outcome replaces it
LEASE_NOTE = "claimed again after a lease ran out: an earlier attempt may have delivered it"
KEY_MAX = 200  # OutboxMessage.idempotency_key
SUBJECT_MAX = 300  # OutboxMessage.subject

_signals = Namespace()
# Sent in the transaction that records messages as handed to the mail server, before it commits:
# (keys=[idempotency key, ...], at=datetime). The outbox knows nothing of what caused a message;
# whoever does (surveys: an invitation's e-mail) keeps its own delivery state in step with it.
mail_sent = _signals.signal("mail-sent")


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
        bounce_token=secrets.token_hex(16),
    )
    try:
        with db.session.begin_nested():
            db.session.add(message)
    except IntegrityError:
        return None  # a concurrent transaction queued the same key first
    return message


def cancel_pending(keys: Sequence[str], reason: str, now: datetime) -> list[str]:
    """Take back the messages of `keys` that have not gone out, in the caller's transaction:
    `cancelled`, with `reason` as their note, and never sent. A message a sender has claimed
    and is handing to the mail server now (its lease still running) is left to that sender:
    it may already be on its way, and its outcome is recorded as for any other. Returns the
    keys cancelled."""
    if not keys:
        return []
    being_delivered = sa.and_(
        OutboxMessage.last_error.in_((CLAIM_NOTE, LEASE_NOTE)),
        OutboxMessage.next_attempt_at > now,
    )
    rows = db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.idempotency_key.in_(list(keys)),
            OutboxMessage.status == "pending",
            sa.not_(being_delivered),
        )
        .values(status="cancelled", last_error=reason[:500])
        .returning(OutboxMessage.idempotency_key)
        .execution_options(synchronize_session=False)
    ).all()
    return [r[0] for r in rows]


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


@dataclass
class _Claimed:
    id: int
    attempts: int  # counting this one
    recipient: str
    subject: str
    body: str
    key: str
    token: str | None
    lease_ran_out: bool


def _claim(ids: Sequence[int], now: datetime) -> list[_Claimed]:
    """Take those of `ids` still pending and due, in one statement; commit; return them."""
    free = (
        sa.select(OutboxMessage.id)
        .where(
            OutboxMessage.id.in_(ids),
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at <= now,
        )
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite serialises writers anyway
    )
    rows = db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(free.scalar_subquery()),
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at <= now,
        )
        .values(
            attempts=OutboxMessage.attempts + 1,
            next_attempt_at=now + LEASE,
            # still CLAIM_NOTE: the sender that claimed it before died before recording
            last_error=sa.case(
                (OutboxMessage.last_error.in_((CLAIM_NOTE, LEASE_NOTE)), LEASE_NOTE),
                else_=CLAIM_NOTE,
            ),
        )
        .returning(
            OutboxMessage.id,
            OutboxMessage.attempts,
            OutboxMessage.recipient,
            OutboxMessage.subject,
            OutboxMessage.body,
            OutboxMessage.idempotency_key,
            OutboxMessage.bounce_token,
            OutboxMessage.last_error,
        )
        .execution_options(synchronize_session=False)
    ).all()
    # Commit before delivering: no transaction (on SQLite, no write lock) stays open while we
    # wait on the mail server.
    db.session.commit()
    order = {message_id: n for n, message_id in enumerate(ids)}
    claimed = [
        _Claimed(
            id=r[0],
            attempts=r[1],
            recipient=r[2],
            subject=r[3],
            body=r[4],
            key=r[5],
            token=r[6],
            lease_ran_out=r[7] == LEASE_NOTE,
        )
        for r in rows
    ]
    return sorted(claimed, key=lambda c: order[c.id])


def _record(outcomes: list[tuple[_Claimed, dict[str, Any]]]) -> None:
    """Store the outcomes of our attempts in one transaction: one UPDATE for all the messages
    with the same outcome, each guarded by its attempt count (a sender whose lease ran out
    records nothing over the sender that took the message after it), and `mail_sent` for the
    messages handed over, in the same transaction."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    values_of: dict[tuple[Any, ...], dict[str, Any]] = {}
    sent_at = utcnow()
    sent_keys: list[str] = []
    for claimed, values in outcomes:
        if values.get("status") == "sent":
            values = {**values, "sent_at": sent_at}
            sent_keys.append(claimed.key)
        group = (claimed.attempts, *sorted((k, str(v)) for k, v in values.items()))
        groups.setdefault(group, []).append(claimed.id)
        values_of[group] = values
    for group, ids in groups.items():
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.attempts == group[0])
            .values(values_of[group])
            .execution_options(synchronize_session=False)
        )
    if sent_keys:
        mail_sent.send(keys=sent_keys, at=sent_at)
    db.session.commit()


def _failure(claimed: _Claimed, error: str, now: datetime) -> dict[str, Any]:
    if claimed.attempts >= MAX_ATTEMPTS:
        return {"status": "failed", "last_error": error}
    return {"last_error": error, "next_attempt_at": now + backoff(claimed.attempts)}


def _deliver(
    connection: Connection,
    claimed: list[_Claimed],
    now: datetime,
    from_address: str,
    bounce_address: str,
) -> list[tuple[_Claimed, dict[str, Any]]]:
    """Deliver a claimed chunk over one connection; the outcome of each, to be recorded."""
    outcomes: list[tuple[_Claimed, dict[str, Any]]] = []
    unreachable: str | None = None
    for message in claimed:
        if message.lease_ran_out:
            log.warning("mail %s: %s", message.id, LEASE_NOTE)
        if unreachable is not None:
            outcomes.append((message, _failure(message, unreachable, now)))
            continue
        try:
            note = connection.send(
                build_message(
                    sender=from_address,
                    to=message.recipient,
                    subject=message.subject,
                    body=message.body,
                    key=message.key,
                    token=message.token,
                ),
                bounce_envelope(bounce_address, message.token),
            )
        except Exception as exc:  # any delivery failure is recorded, never lost
            log.warning("mail %s to %s failed: %s", message.id, message.recipient, exc)
            error = f"{type(exc).__name__}: {exc}"[:2000]
            if getattr(connection, "unreachable", False):
                unreachable = error
            outcomes.append((message, _failure(message, error, now)))
        else:
            last_error = LEASE_NOTE if message.lease_ran_out else None
            if note != "sent":
                last_error = note
            outcomes.append((message, {"status": "sent", "last_error": last_error}))
    return outcomes


def _due(now: datetime, batch: int) -> list[int]:
    due = list(
        db.session.scalars(
            sa.select(OutboxMessage.id)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(batch)
        )
    )
    db.session.commit()  # end the read: each claim is its own short transaction
    return due


def send_due(
    now: datetime,
    *,
    sender: Sender,
    batch: int = 500,
    chunk: int = CHUNK,
    budget: float | None = None,
) -> dict[str, Any]:
    """Deliver up to `batch` pending messages due by `now`, `chunk` at a time over one
    connection of `sender`: per chunk, one commit for the claim and one for the outcomes.
    With a `budget` (seconds), go on with the next `batch` while messages are due and time is
    left, over the same connection: one run of the job drains a large campaign.

    Returns counts: due (looked at), sent, retried (failed, will retry), failed (gave up),
    taken (claimed meanwhile by another sender).
    """
    deadline = None if budget is None else time.monotonic() + budget
    from_address = current_app.config["MAIL_DEFAULT_SENDER"]
    bounce_address = str(current_app.config.get("MAIL_BOUNCE_ADDRESS") or "")
    counts = {"due": 0, "sent": 0, "retried": 0, "failed": 0, "taken": 0}
    with session_of(sender) as connection:  # SMTP connects at the first message, if any
        while due := _due(now, batch):
            counts["due"] += len(due)
            taken_before = counts["taken"]
            for start in range(0, len(due), max(1, chunk)):
                ids = due[start : start + max(1, chunk)]
                claimed = _claim(ids, now)
                counts["taken"] += len(ids) - len(claimed)
                outcomes = _deliver(connection, claimed, now, from_address, bounce_address)
                for _message, values in outcomes:
                    outcome = {"sent": "sent", "failed": "failed"}.get(values.get("status", ""))
                    counts[outcome or "retried"] += 1
                _record(outcomes)
                if getattr(connection, "unreachable", False):
                    # the server cannot be reached: leave the rest unclaimed for the next run
                    return counts
            if deadline is None or time.monotonic() >= deadline:
                break
            if len(due) < batch or counts["taken"] - taken_before == len(due):
                break  # all done, or another sender is on it
    return counts
