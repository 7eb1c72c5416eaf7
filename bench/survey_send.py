"""Sending survey invitations: 10,000 contacts invited (invitation, hashed link token, outbox
message each, in the campaign's transaction), then delivered by the outbox sender to a local
SMTP server, beside the floor: plain smtplib sending the same number of messages to the same
server, in the same run, twice: a connection per message (how the outbox sent before it reused
connections) and a connection per 50 messages (how it sends now, app.core.outbox_service.CHUNK).
Checks that every message arrived exactly once. CPU seconds are the whole process's (the SMTP
server is a thread of it, in both the floor and the outbox runs).

    .venv/bin/python bench/survey_send.py [--contacts 10000] [--no-pg]
"""

from __future__ import annotations

import argparse
import smtplib
import socketserver
import sys
import threading
import time
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa

from bench._common import make_app, scratch_databases
from bench.survey_answer import DESIGN


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: greets, accepts every command, counts DATA."""

    def handle(self) -> None:
        self.wfile.write(b"220 bench ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.wfile.write(b"250-bench\r\n250 SIZE 10000000\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                while (data := self.rfile.readline()) and data != b".\r\n":
                    pass
                with self.server.lock:  # type: ignore[attr-defined]
                    self.server.received += 1  # type: ignore[attr-defined]
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Smtp)
        self.lock = threading.Lock()
        self.received = 0


def floor(port: int, n: int, per_connection: int) -> tuple[float, float]:
    """(messages per second, CPU ms per message) for plain smtplib, a connection per
    `per_connection` messages."""
    message = EmailMessage()
    message["From"] = "bench@example.com"
    message["To"] = "c@example.com"
    message["Subject"] = "【客户满意度调查】项目交付满意度调查"
    message.set_content("尊敬的客户：\n\n诚邀您评价 http://127.0.0.1/s/x\n", cte="base64")
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(0, n, per_connection):
        with smtplib.SMTP("127.0.0.1", port, timeout=20) as smtp:
            for _ in range(per_connection):
                smtp.send_message(message)
    return n / (time.perf_counter() - start), (time.process_time() - cpu) * 1000 / n


def run(url: str, port: int, contacts: int) -> tuple[float, float, float, int]:
    """(invitations per second, messages delivered per second, CPU ms per message, messages
    sent by the outbox)."""
    from app.auth.services import create_user
    from app.contacts.models import Contact
    from app.core.mailer import SmtpSender
    from app.core.outbox import OutboxMessage
    from app.core.outbox_service import send_due
    from app.customers.services import create_customer
    from app.db import utcnow
    from app.extensions import db
    from app.issues.reference import ensure_reference_data
    from app.org.services import create_office, create_region
    from app.surveys import campaigns, services
    from app.surveys.invitations import invite_audience

    app = make_app(url)
    with app.app_context():
        create_region(code="EAST", name="华东", actor=None)
        create_office(code="SH", name="上海", region_code="EAST", actor=None)
        qa = create_user(
            email="qa@example.com", name="质量", role="quality_admin", password="bench-password"
        )
        agent = create_user(
            email="a@example.com",
            name="坐席",
            role="agent",
            password="bench-password",
            office_code="SH",
        )
        ensure_reference_data()
        customer = create_customer(actor=agent, name="压测客户", office_code=None)
        db.session.execute(
            sa.insert(Contact),
            [
                {
                    "customer_id": customer.id,
                    "name": f"联系人{n}",
                    "email": f"c{n}@example.com",
                    "language": "zh",
                    "active": True,
                    "version": 1,
                }
                for n in range(contacts)
            ],
        )
        survey = services.create_survey(actor=qa, data=DESIGN)
        services.activate_survey(actor=qa, survey_id=survey.id)
        now = utcnow()
        campaign = campaigns.create_campaign(
            actor=qa,
            survey_id=survey.id,
            name="压测",
            audience={"office": "SH"},
            close_at=now + timedelta(days=7),
            now=now,
        )
        db.session.commit()
        start = time.perf_counter()
        result = invite_audience(campaign, "once", now)
        db.session.commit()
        invite_rate = result.invited / (time.perf_counter() - start)
        sender = SmtpSender(host="127.0.0.1", port=port)
        start, cpu = time.perf_counter(), time.process_time()
        sent = 0
        while True:
            counts = send_due(utcnow(), sender=sender, batch=500)
            sent += counts["sent"]
            if not counts["due"]:
                break
        send_rate = sent / (time.perf_counter() - start)
        send_cpu = (time.process_time() - cpu) * 1000 / max(sent, 1)
        pending = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status != "sent")
        )
        if result.invited != contacts or pending:
            raise SystemExit(f"invited {result.invited} of {contacts}, {pending} not sent")
        db.engine.dispose()
    return invite_rate, send_rate, send_cpu, sent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    server = Server()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    print(f"survey invitations: {args.contacts:,} contacts, local SMTP on port {port}")
    with scratch_databases(include_pg=not args.no_pg) as urls:
        for label, url in urls:
            before = server.received
            invite_rate, send_rate, send_cpu, sent = run(url, port, args.contacts)
            arrived = server.received - before
            n = min(args.contacts, 2000)
            each, each_cpu = floor(port, n, 1)
            shared, shared_cpu = floor(port, n, 50)
            print(f"{label:<11} floor: smtplib, connection per message  {each:8.1f} msg/s", end="")
            print(f"  {each_cpu:.2f} CPU ms/msg")
            print(
                f"{label:<11} floor: smtplib, connection per 50       {shared:8.1f} msg/s", end=""
            )
            print(f"  {shared_cpu:.2f} CPU ms/msg")
            print(f"{label:<11} invite (enqueue)                       {invite_rate:8.1f} inv/s")
            print(
                f"{label:<11} deliver through the outbox             {send_rate:8.1f} msg/s", end=""
            )
            print(f"  {send_cpu:.2f} CPU ms/msg")
            once = sent == arrived
            print(f"{label:<11} sent {sent:,}, arrived {arrived:,} (exactly once: {once})")
    server.shutdown()


if __name__ == "__main__":
    main()
