"""Building and delivering e-mail. Messages use the email package's default policy, so Chinese
subjects are RFC 2047 encoded and bodies go out as UTF-8.

Which sender: `sender_from_config(config)`. With MAIL_SERVER set, SMTP (STARTTLS when
MAIL_USE_TLS, implicit TLS on port 465, login when MAIL_USERNAME is set). Without MAIL_SERVER
(the zero-setup demo), messages are written to the log and marked sent with the note "logged: no
MAIL_SERVER configured" on the outbox row, so the demo works offline and nothing piles up.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol

log = logging.getLogger(__name__)

LOGGED_NOTE = "logged: no MAIL_SERVER configured"
IMPLICIT_TLS_PORT = 465


class Sender(Protocol):
    def send(self, message: EmailMessage) -> str:
        """Deliver or raise. Returns "sent", or a note kept on the outbox row."""
        ...


def build_message(*, sender: str, to: str, subject: str, body: str, key: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    # the sender's domain, not getfqdn(): no DNS lookup per message
    domain = sender.rpartition("@")[2].strip("> ") or "localhost"
    idstring = "".join(ch if ch.isalnum() or ch in "-_" else "." for ch in key)[:60]
    message["Message-ID"] = make_msgid(idstring=idstring, domain=domain)
    # base64: 8-bit bodies need the server's 8BITMIME, which smtplib does not negotiate
    message.set_content(body, cte="base64")
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
        # a TLS context (it verifies the server certificate) only when TLS is used: loading the
        # system's CA bundle costs more than delivering a message to a local relay
        smtp: smtplib.SMTP
        if self.port == IMPLICIT_TLS_PORT:
            smtp = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.use_tls and self.port != IMPLICIT_TLS_PORT:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(message)
        return "sent"


class LogSender:
    """No MAIL_SERVER: write the message to the log instead of sending it."""

    def send(self, message: EmailMessage) -> str:
        log.info("mail (no MAIL_SERVER) to %s: %s", message["To"], message["Subject"])
        log.debug("mail body:\n%s", message.get_content())
        return LOGGED_NOTE


def sender_from_config(config: Mapping[str, Any]) -> Sender:
    if not config.get("MAIL_SERVER"):
        return LogSender()
    return SmtpSender(
        host=str(config["MAIL_SERVER"]),
        port=int(config.get("MAIL_PORT") or 25),
        use_tls=bool(config.get("MAIL_USE_TLS")),
        username=str(config.get("MAIL_USERNAME") or ""),
        password=str(config.get("MAIL_PASSWORD") or ""),
    )
