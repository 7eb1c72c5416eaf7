"""SMTP delivery. Messages are built with the email package's default policy, so Chinese
subjects and bodies are encoded correctly (RFC 2047 / UTF-8)."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Sender(Protocol):
    def send(self, message: EmailMessage) -> str:
        """Deliver or raise. Returns a short note on how it went."""


def build_message(*, sender: str, to: str, subject: str, body: str, key: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(idstring=key.replace(":", ".")[:60])
    message.set_content(body)
    return message


@dataclass
class SmtpSender:
    host: str
    port: int = 25
    use_tls: bool = False
    username: str = ""
    password: str = ""
    timeout: float = 20.0

    def send(self, message: EmailMessage) -> str:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.use_tls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(message)
        return "sent"


class LogSender:
    """Without MAIL_SERVER (the zero-setup demo), mail is written to the log instead."""

    def send(self, message: EmailMessage) -> str:
        log.info("mail (no MAIL_SERVER) to %s: %s", message["To"], message["Subject"])
        return "logged: no MAIL_SERVER configured"


def sender_from_config(config: Any) -> Sender:
    if not config.get("MAIL_SERVER"):
        return LogSender()
    return SmtpSender(
        host=config["MAIL_SERVER"],
        port=int(config.get("MAIL_PORT") or 25),
        use_tls=bool(config.get("MAIL_USE_TLS")),
        username=config.get("MAIL_USERNAME") or "",
        password=config.get("MAIL_PASSWORD") or "",
    )
