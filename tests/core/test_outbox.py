"""Queued e-mail: idempotent enqueue, claimed sending, retries, nothing lost, nothing twice."""

from __future__ import annotations

import smtplib
import threading
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
import sqlalchemy as sa

from app.core.errors import ValidationFailed
from app.core.mailer import build_message
from app.core.outbox import OutboxMessage
from app.core.outbox_service import enqueue_email, send_due
from app.extensions import db

NOW = datetime.now(UTC) + timedelta(minutes=1)  # enqueued rows are due from the real clock


class FakeSender:
    def __init__(self, fail=False):
        self.sent = []
        self.fail = fail
        self.lock = threading.Lock()

    def send(self, message):
        if self.fail:
            raise smtplib.SMTPServerDisconnected("server down")
        with self.lock:
            self.sent.append(message)
        return "sent"


def queue(key="k1", to="manager@example.com"):
    message = enqueue_email(key=key, to=to, subject="问题已升级 SH-2026-000001", body="详情见链接")
    db.session.commit()
    return message


def test_enqueue_is_idempotent_by_key():
    assert queue() is not None
    assert queue() is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1


@pytest.mark.parametrize("to", ["a@b.com\r\nCc: x@evil.example", "a@b.com\nBcc: x@e.com", "nobody"])
def test_header_injection_and_bad_addresses_are_refused(to):
    with pytest.raises(ValidationFailed):
        enqueue_email(key="x", to=to, subject="s", body="b")


def test_subject_with_line_break_is_refused():
    with pytest.raises(ValidationFailed):
        enqueue_email(key="x", to="a@b.com", subject="hi\r\nBcc: x@e.com", body="b")


def test_sends_once():
    queue()
    sender = FakeSender()
    assert send_due(NOW, sender=sender)["sent"] == 1
    assert send_due(NOW + timedelta(minutes=1), sender=sender)["sent"] == 0
    assert len(sender.sent) == 1
    row = db.session.scalars(sa.select(OutboxMessage)).one()
    assert row.status == "sent" and row.sent_at is not None


def test_smtp_down_keeps_message_then_sends_exactly_once():
    queue()
    down = send_due(NOW, sender=FakeSender(fail=True))
    assert down == {"due": 1, "sent": 0, "retried": 1, "failed": 0}
    row = db.session.scalars(sa.select(OutboxMessage)).one()
    assert row.status == "pending" and "server down" in row.last_error
    assert row.next_attempt_at > NOW
    sender = FakeSender()
    assert send_due(NOW, sender=sender)["sent"] == 0  # not due yet: backoff
    assert send_due(NOW + timedelta(hours=1), sender=sender)["sent"] == 1
    assert send_due(NOW + timedelta(hours=2), sender=sender)["sent"] == 0
    assert len(sender.sent) == 1


def test_gives_up_visibly_after_max_attempts():
    queue()
    later = NOW
    for _ in range(10):
        send_due(later, sender=FakeSender(fail=True))
        later += timedelta(days=1)
    row = db.session.scalars(sa.select(OutboxMessage)).one()
    assert row.status == "failed" and row.last_error


def test_two_concurrent_senders_send_each_message_once(app):
    for i in range(20):
        enqueue_email(key=f"k{i}", to=f"m{i}@example.com", subject="s", body="b")
    db.session.commit()
    sender = FakeSender()
    barrier = threading.Barrier(2)

    def work():
        with app.app_context():
            barrier.wait()
            send_due(NOW, sender=sender)
            db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    recipients = [m["To"] for m in sender.sent]
    assert len(recipients) == 20 and len(set(recipients)) == 20


def test_chinese_subject_round_trips():
    message = build_message(
        sender="noreply@example.com",
        to="a@example.com",
        subject="满意度调查：请评价我们的服务",
        body="您好，感谢您的反馈。",
        key="k:1",
    )
    parsed = message_from_bytes(message.as_bytes())
    assert str(make_header(decode_header(parsed["Subject"]))) == "满意度调查：请评价我们的服务"
    assert "感谢" in parsed.get_payload(decode=True).decode("utf-8")
