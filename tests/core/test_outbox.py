"""Queued e-mail: idempotent enqueue, claimed sending, retries, nothing lost, nothing twice; and
the mailer, against a real SMTP conversation on 127.0.0.1."""

from __future__ import annotations

import logging
import smtplib
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from app.core.errors import ValidationFailed
from app.core.mailer import LOGGED_NOTE, LogSender, SmtpSender, build_message, sender_from_config
from app.core.outbox import OutboxMessage
from app.core.outbox_service import (
    CLAIM_NOTE,
    LEASE,
    LEASE_NOTE,
    MAX_ATTEMPTS,
    cancel_pending,
    enqueue_email,
    messages_for,
    send_due,
)
from app.extensions import db
from app.scheduler.runner import run_job

pytestmark = pytest.mark.committing

# Taken at import, before the suite-wide guard replaces it: only the sink test may use it.
REAL_SMTP_CONNECT = smtplib.SMTP.connect

CHINESE_SUBJECT = "满意度调查：请评价我们的服务 SH-2026-000001"
CHINESE_BODY = "您好，感谢您的反馈。\n详情见链接。"


def now() -> datetime:
    return datetime.now(UTC) + timedelta(seconds=1)  # enqueued rows are due from the real clock


class FakeSender:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[EmailMessage] = []
        self.fail = fail
        self.lock = threading.Lock()

    def send(self, message: EmailMessage, envelope_from: str | None = None) -> str:
        if self.fail:
            raise smtplib.SMTPServerDisconnected("server down")
        with self.lock:
            self.sent.append(message)
        return "sent"


def queue(key: str = "k1", to: str = "manager@example.com") -> OutboxMessage | None:
    message = enqueue_email(key=key, to=to, subject=CHINESE_SUBJECT, body=CHINESE_BODY)
    db.session.commit()
    return message


def the_row() -> OutboxMessage:
    db.session.rollback()
    row: OutboxMessage = db.session.scalars(sa.select(OutboxMessage)).one()
    return row


# --- enqueue ---------------------------------------------------------------------------------


def test_enqueue_is_idempotent_by_key() -> None:
    first = queue()
    assert first is not None and first.status == "pending" and first.attempts == 0
    assert queue() is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1


def test_enqueue_race_on_one_key_keeps_the_losers_transaction(app: Flask) -> None:
    # Ours is flushed, not committed: the other transaction cannot see it, so its insert meets
    # the unique key (PostgreSQL) or waits for our commit (SQLite), and must give way quietly.
    ours = enqueue_email(key="race", to="a@example.com", subject="s", body="ours")
    assert ours is not None
    theirs: list[Any] = []

    def other_transaction() -> None:
        with app.app_context():
            theirs.append(enqueue_email(key="race", to="a@example.com", subject="s", body="x"))
            theirs.append(enqueue_email(key="other", to="b@example.com", subject="s", body="y"))
            db.session.commit()
            db.session.remove()

    thread = threading.Thread(target=other_transaction)
    thread.start()
    time.sleep(0.3)
    db.session.commit()
    thread.join()
    assert theirs[0] is None and theirs[1] is not None
    db.session.rollback()
    stmt = sa.select(OutboxMessage.idempotency_key, OutboxMessage.body)
    rows = dict(db.session.execute(stmt).all())
    assert rows == {"race": "ours", "other": "y"}


@pytest.mark.parametrize(
    "to", ["a@b.com\r\nCc: x@evil.example", "a@b.com\nBcc: x@e.com", "a@b.com\r", "nobody", ""]
)
def test_header_injection_and_bad_addresses_are_refused(to: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        enqueue_email(key="x", to=to, subject="s", body="b")
    assert "to" in raised.value.fields


def test_subject_with_line_break_is_refused() -> None:
    with pytest.raises(ValidationFailed) as raised:
        enqueue_email(key="x", to="a@b.com", subject="hi\r\nBcc: x@e.com", body="b")
    assert "subject" in raised.value.fields


def test_key_must_fit() -> None:
    with pytest.raises(ValidationFailed):
        enqueue_email(key="k" * 201, to="a@b.com", subject="s", body="b")


def test_messages_for_an_entity() -> None:
    enqueue_email(key="i1", to="a@b.com", subject="s", body="b", entity_type="issue", entity_id=7)
    enqueue_email(key="i2", to="a@b.com", subject="s", body="b", entity_type="issue", entity_id=8)
    db.session.commit()
    assert [m.idempotency_key for m in messages_for("issue", 7)] == ["i1"]


# --- send_due --------------------------------------------------------------------------------


def test_sends_once() -> None:
    queue()
    sender = FakeSender()
    assert send_due(now(), sender=sender)["sent"] == 1
    assert send_due(now() + timedelta(minutes=1), sender=sender)["sent"] == 0
    assert len(sender.sent) == 1
    row = the_row()
    assert row.status == "sent" and row.sent_at is not None and row.last_error is None
    assert sender.sent[0]["To"] == "manager@example.com"


def test_smtp_down_keeps_message_pending_with_backoff_then_sends_exactly_once() -> None:
    queue()
    start = now()
    down = send_due(start, sender=FakeSender(fail=True))
    assert down == {"due": 1, "sent": 0, "retried": 1, "failed": 0, "taken": 0}
    row = the_row()
    assert row.status == "pending" and row.attempts == 1
    assert "server down" in (row.last_error or "")
    assert row.next_attempt_at == start + timedelta(minutes=2)

    send_due(start + timedelta(minutes=3), sender=FakeSender(fail=True))
    row = the_row()
    assert row.attempts == 2 and row.next_attempt_at == start + timedelta(minutes=7)  # 3 + 4

    sender = FakeSender()
    assert send_due(start + timedelta(minutes=5), sender=sender)["due"] == 0  # backing off
    assert send_due(start + timedelta(minutes=8), sender=sender)["sent"] == 1
    assert send_due(start + timedelta(hours=2), sender=sender)["sent"] == 0
    assert len(sender.sent) == 1
    row = the_row()
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)


def test_gives_up_visibly_after_max_attempts() -> None:
    queue()
    later = now()
    for _ in range(MAX_ATTEMPTS + 2):
        send_due(later, sender=FakeSender(fail=True))
        later += timedelta(days=1)
    row = the_row()
    assert row.status == "failed" and row.attempts == MAX_ATTEMPTS
    assert "server down" in (row.last_error or "")


def test_two_concurrent_senders_send_each_message_once(app: Flask) -> None:
    for i in range(30):
        enqueue_email(key=f"k{i}", to=f"m{i}@example.com", subject="s", body="b")
    db.session.commit()
    sender = FakeSender()
    barrier = threading.Barrier(2)
    results: list[dict[str, Any]] = []
    due = now()

    def work() -> None:
        with app.app_context():
            barrier.wait()
            results.append(send_due(due, sender=sender))
            db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    recipients = [m["To"] for m in sender.sent]
    assert len(recipients) == 30 and len(set(recipients)) == 30
    assert sum(r["sent"] for r in results) == 30
    db.session.rollback()
    assert set(db.session.scalars(sa.select(OutboxMessage.attempts))) == {1}


def test_a_sender_with_a_stale_list_skips_what_another_sender_took(app: Flask) -> None:
    # Deterministic interleaving: while sender A delivers the first message of its first chunk
    # (two messages claimed), sender B (another thread, another session) runs a whole batch.
    # B cannot take A's claimed chunk; A's list of due ids is then stale for the rest.
    for i in range(5):
        enqueue_email(key=f"k{i}", to=f"m{i}@example.com", subject="s", body="b")
    db.session.commit()
    due = now()
    other = FakeSender()
    other_counts: list[dict[str, Any]] = []

    def sender_b() -> None:
        with app.app_context():
            other_counts.append(send_due(due, sender=other, chunk=2))
            db.session.remove()

    class InterruptedSender(FakeSender):
        def send(self, message: EmailMessage, envelope_from: str | None = None) -> str:
            if not self.sent:
                thread = threading.Thread(target=sender_b)
                thread.start()
                thread.join()
            return super().send(message)

    mine = InterruptedSender()
    counts = send_due(due, sender=mine, chunk=2)
    assert (counts["sent"], counts["taken"]) == (2, 3)
    assert (other_counts[0]["due"], other_counts[0]["sent"]) == (3, 3)
    all_sent = [m["To"] for m in mine.sent + other.sent]
    assert sorted(all_sent) == sorted(f"m{i}@example.com" for i in range(5))
    assert [m["To"] for m in mine.sent] == ["m0@example.com", "m1@example.com"]


class Crash(BaseException):
    """The process dying: not an Exception, so nothing in send_due records it."""


def test_a_crash_between_delivery_and_record_resends_one_chunk_at_most_and_says_so() -> None:
    for i in range(5):
        enqueue_email(key=f"k{i}", to=f"m{i}@example.com", subject="s", body="b")
    db.session.commit()

    class DyingSender(FakeSender):
        def send(self, message: EmailMessage, envelope_from: str | None = None) -> str:
            super().send(message)
            if len(self.sent) == 2:
                raise Crash
            return "sent"

    start = now()
    dying = DyingSender()
    with pytest.raises(Crash):
        send_due(start, sender=dying, chunk=3)
    db.session.rollback()
    rows = {r.idempotency_key: r for r in db.session.scalars(sa.select(OutboxMessage))}
    claimed = [k for k, r in rows.items() if r.attempts == 1]
    assert claimed == ["k0", "k1", "k2"]  # the first chunk, claimed; the rest untouched
    assert {rows[k].last_error for k in claimed} == {CLAIM_NOTE}
    assert all(r.status == "pending" for r in rows.values())

    sender = FakeSender()
    before_lease = send_due(start + timedelta(minutes=1), sender=sender)
    assert before_lease["sent"] == 2  # k3, k4; the claimed chunk waits for its lease
    after_lease = send_due(start + LEASE + timedelta(minutes=1), sender=sender)
    assert after_lease["sent"] == 3
    db.session.rollback()
    rows = {r.idempotency_key: r for r in db.session.scalars(sa.select(OutboxMessage))}
    assert all(r.status == "sent" for r in rows.values())
    # the two delivered before the crash went out again, and each of the chunk says it may have
    assert {rows[k].last_error for k in claimed} == {LEASE_NOTE}
    assert rows["k3"].last_error is None
    sent_twice = [m["To"] for m in dying.sent + sender.sent]
    assert sorted(set(sent_twice)) == [f"m{i}@example.com" for i in range(5)]
    assert len(sent_twice) - 5 == 2


def test_without_mail_server_messages_are_logged_and_marked_sent(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Alembic's fileConfig (migrations/env.py) disables loggers that existed before the
    # suite's upgrade; this test reads ours.
    monkeypatch.setattr(logging.getLogger("app.core.mailer"), "disabled", False)
    queue()
    sender = sender_from_config({"MAIL_SERVER": ""})
    assert isinstance(sender, LogSender)
    with caplog.at_level("INFO", logger="app.core.mailer"):
        assert send_due(now(), sender=sender)["sent"] == 1
    row = the_row()
    assert row.status == "sent" and row.last_error == LOGGED_NOTE
    assert "manager@example.com" in caplog.text


# --- the message itself ----------------------------------------------------------------------


def decoded_subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def test_chinese_subject_and_body_round_trip() -> None:
    message = build_message(
        sender="noreply@example.com",
        to="a@example.com",
        subject=CHINESE_SUBJECT,
        body=CHINESE_BODY,
        key="survey:1:2",
    )
    raw = message.as_bytes()
    raw.decode("ascii")  # on the wire: 7-bit clean, encoded words and base64
    parsed = message_from_bytes(raw)
    assert decoded_subject(parsed) == CHINESE_SUBJECT
    payload = parsed.get_payload(decode=True)
    assert isinstance(payload, bytes) and payload.decode("utf-8").strip() == CHINESE_BODY
    assert parsed["Message-ID"].endswith("@example.com>")


# --- a real SMTP conversation ------------------------------------------------------------------


class SmtpSink(socketserver.ThreadingTCPServer):
    """Just enough SMTP to accept mail on 127.0.0.1 and keep what arrived."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SmtpSinkHandler)
        self.received: list[tuple[str, list[str], bytes]] = []
        self.connections = 0

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class SmtpSinkHandler(socketserver.StreamRequestHandler):
    server: SmtpSink

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")

    def handle(self) -> None:
        self.server.connections += 1
        self.reply("220 sink ESMTP")
        sender, recipients = "", []
        while line := self.rfile.readline():
            command = line.decode("ascii", "replace").strip()
            verb = command[:4].upper()
            if verb == "EHLO":
                self.reply("250-sink")
                self.reply("250 8BITMIME")
            elif verb == "HELO" or verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "MAIL":
                sender, recipients = command, []
                self.reply("250 OK")
            elif verb == "RCPT" and "nobody@" in command.lower():
                self.reply("550 5.1.1 no such user")
            elif verb == "RCPT":
                recipients.append(command)
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                self.server.received.append((sender, recipients, self.read_data()))
                self.reply("250 OK queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")

    def read_data(self) -> bytes:
        lines = []
        while (line := self.rfile.readline()) not in (b".\r\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)  # undo dot-stuffing
        return b"".join(lines)


@pytest.fixture
def smtp_sink(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpSink]:
    monkeypatch.setattr(smtplib.SMTP, "connect", REAL_SMTP_CONNECT)  # this test only
    sink = SmtpSink()
    thread = threading.Thread(target=sink.serve_forever, daemon=True)
    thread.start()
    yield sink
    sink.shutdown()
    sink.server_close()
    thread.join()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_smtp_sender_delivers_to_a_real_server(smtp_sink: SmtpSink) -> None:
    message = build_message(
        sender="noreply@example.com",
        to="经理 <m@example.com>",
        subject=CHINESE_SUBJECT,
        body=CHINESE_BODY,
        key="k",
    )
    assert SmtpSender(host="127.0.0.1", port=smtp_sink.port, timeout=5).send(message) == "sent"
    [(mail_from, rcpts, data)] = smtp_sink.received
    assert "<noreply@example.com>" in mail_from and [r.upper() for r in rcpts] == [
        "RCPT TO:<M@EXAMPLE.COM>"
    ]
    parsed = message_from_bytes(data)
    assert decoded_subject(parsed) == CHINESE_SUBJECT
    assert str(make_header(decode_header(parsed["To"]))) == "经理 <m@example.com>"


def test_send_outbox_job_through_smtp_down_then_up(
    app: Flask, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue(to="manager@example.com")
    start = now()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", closed_port())  # nothing listens: refused
    down = run_job(app, "send-outbox", now=start)
    assert down.status == "done" and down.result["retried"] == 1
    row = the_row()
    assert row.status == "pending" and row.attempts == 1
    assert "ConnectionRefusedError" in (row.last_error or "")

    monkeypatch.setitem(app.config, "MAIL_PORT", smtp_sink.port)  # the server is back
    up = run_job(app, "send-outbox", now=start + timedelta(minutes=3))
    again = run_job(app, "send-outbox", now=start + timedelta(minutes=4))
    assert (up.result["sent"], again.result["sent"]) == (1, 0)
    assert len(smtp_sink.received) == 1
    assert decoded_subject(message_from_bytes(smtp_sink.received[0][2])) == CHINESE_SUBJECT
    assert the_row().status == "sent"


def test_a_batch_goes_over_one_connection_and_a_refused_recipient_does_not_break_it(
    app: Flask, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(7):
        to = "nobody@example.com" if i == 3 else f"m{i}@example.com"
        enqueue_email(key=f"k{i}", to=to, subject=CHINESE_SUBJECT, body=CHINESE_BODY)
    db.session.commit()
    monkeypatch.setitem(app.config, "MAIL_BOUNCE_ADDRESS", "bounces@example.com")
    monkeypatch.setitem(app.config, "MAIL_DEFAULT_SENDER", "noreply@example.com")
    sender = SmtpSender(host="127.0.0.1", port=smtp_sink.port, timeout=5)
    counts = send_due(now(), sender=sender, chunk=4)
    assert (counts["sent"], counts["retried"]) == (6, 1)
    assert smtp_sink.connections == 1  # two chunks, one connection, the 550 in the middle
    db.session.rollback()
    refused = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.recipient == "nobody@example.com")
    ).one()
    assert refused.status == "pending" and "no such user" in (refused.last_error or "")
    # each message carries its own random token: in the Message-ID and the VERP envelope
    tokens = dict(
        db.session.execute(sa.select(OutboxMessage.recipient, OutboxMessage.bounce_token)).all()
    )
    for mail_from, _rcpts, data in smtp_sink.received:
        parsed = message_from_bytes(data)
        token = tokens[parsed["To"]]
        assert token and len(token) == 32
        assert parsed["Message-ID"] == f"<vt-{token}@example.com>"
        assert f"<bounces+vt-{token}@example.com>" in mail_from
    assert len(set(tokens.values())) == 7


def test_server_unreachable_puts_the_chunk_back_after_one_attempt_and_stops_the_run(
    app: Flask, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(5):
        enqueue_email(key=f"k{i}", to=f"m{i}@example.com", subject="s", body="b")
    db.session.commit()
    attempts: list[int] = []
    real_connect = SmtpSender.connect

    def counting_connect(self: SmtpSender) -> smtplib.SMTP:
        attempts.append(self.port)
        return real_connect(self)

    monkeypatch.setattr(SmtpSender, "connect", counting_connect)
    start = now()
    down = send_due(
        start, sender=SmtpSender(host="127.0.0.1", port=closed_port(), timeout=5), chunk=3
    )
    assert (down["sent"], down["retried"], len(attempts)) == (0, 3, 1)
    db.session.rollback()
    rows = list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))
    assert all("ConnectionRefusedError" in (r.last_error or "") for r in rows[:3])
    assert [(r.status, r.attempts) for r in rows] == [("pending", 1)] * 3 + [("pending", 0)] * 2
    up = send_due(
        start + timedelta(minutes=3),
        sender=SmtpSender(host="127.0.0.1", port=smtp_sink.port, timeout=5),
    )
    again = send_due(
        start + timedelta(hours=1),
        sender=SmtpSender(host="127.0.0.1", port=smtp_sink.port, timeout=5),
    )
    assert (up["sent"], again["due"], len(smtp_sink.received)) == (5, 0, 5)


def test_with_a_budget_one_run_goes_on_past_its_batch(app: Flask) -> None:
    for i in range(7):
        enqueue_email(key=f"k{i}", to=f"m{i}@example.com", subject="s", body="b")
    db.session.commit()
    sender = FakeSender()
    one_batch = send_due(now(), sender=sender, batch=3)
    assert (one_batch["due"], one_batch["sent"]) == (3, 3)
    drained = send_due(now(), sender=sender, batch=3, budget=30)
    assert (drained["due"], drained["sent"]) == (4, 4)
    assert len({m["To"] for m in sender.sent}) == 7
    for i in range(7, 12):
        enqueue_email(key=f"k{i}", to=f"m{i}@example.com", subject="s", body="b")
    db.session.commit()
    job = run_job(app, "send-outbox", now=now())
    assert job.result["sent"] == 5 and job.result["due"] == 5


# --- taking a message back ---------------------------------------------------------------------


def test_a_cancelled_message_is_never_sent_and_says_why() -> None:
    queue("k1")
    queue("k2", to="other@example.com")
    assert cancel_pending(["k1", "missing"], "issue reopened", now()) == ["k1"]
    db.session.commit()
    sender = FakeSender()
    assert send_due(now() + timedelta(hours=1), sender=sender)["sent"] == 1
    assert [m["To"] for m in sender.sent] == ["other@example.com"]
    db.session.rollback()
    rows = {r.idempotency_key: r for r in db.session.scalars(sa.select(OutboxMessage))}
    assert (rows["k1"].status, rows["k1"].last_error, rows["k1"].attempts) == (
        "cancelled",
        "issue reopened",
        0,
    )
    # what went out cannot be taken back
    assert cancel_pending(["k1", "k2"], "too late", now()) == []


def test_a_message_being_delivered_is_left_to_its_sender() -> None:
    queue("k1")

    class CancellingSender(FakeSender):
        """Another transaction takes the message back while this sender is handing it over."""

        def send(self, message: EmailMessage, envelope_from: str | None = None) -> str:
            self.cancelled = cancel_pending(["k1"], "issue reopened", now())
            db.session.commit()
            return super().send(message)

    sender = CancellingSender()
    assert send_due(now(), sender=sender)["sent"] == 1
    assert sender.cancelled == []
    assert the_row().status == "sent"


def test_a_claim_whose_lease_ran_out_can_be_cancelled() -> None:
    queue("k1")
    start = now()

    class DyingSender(FakeSender):
        def send(self, message: EmailMessage, envelope_from: str | None = None) -> str:
            raise Crash

    with pytest.raises(Crash):
        send_due(start, sender=DyingSender())
    db.session.rollback()
    assert cancel_pending(["k1"], "issue reopened", start + timedelta(minutes=1)) == []
    assert cancel_pending(["k1"], "issue reopened", start + LEASE + timedelta(seconds=1)) == ["k1"]
    db.session.commit()
    assert send_due(start + LEASE + timedelta(minutes=1), sender=FakeSender())["sent"] == 0
