"""Building and delivering e-mail. Messages use the email package's default policy, so Chinese
subjects are RFC 2047 encoded and bodies go out as UTF-8.

Which sender: `sender_from_config(config)`. With MAIL_SERVER set, SMTP (STARTTLS when
MAIL_USE_TLS, implicit TLS on port 465, login when MAIL_USERNAME is set). Without MAIL_SERVER
(the zero-setup demo), messages are written to the log and marked sent with the note "logged: no
MAIL_SERVER configured" on the outbox row, so the demo works offline and nothing piles up.

A sender delivers one message (`send`) or, through `session()`, a batch over one connection:
the outbox opens one session per run, so a batch of invitations costs one SMTP handshake.

Bounce tracking: each outbox message has a random `bounce_token` (128 bits, not the survey
link's secret). It is the Message-ID's local part (`<vt-TOKEN@domain>`), which delivery-status
notifications quote back, and, when MAIL_BOUNCE_ADDRESS is set, the VERP tag of the envelope
sender (`bounces+vt-TOKEN@domain`), to which a late bounce is addressed
(`bounce_envelope`; app.surveys.bounces reads them back).
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol

log = logging.getLogger(__name__)

LOGGED_NOTE = "logged: no MAIL_SERVER configured"
IMPLICIT_TLS_PORT = 465
BOUNCE_TAG = "vt-"  # bounce tokens in Message-IDs and VERP addresses: vt-<32 hex digits>
TOKEN_PATTERN = re.compile(r"\bvt-([0-9a-f]{32})\b", re.IGNORECASE)


class Connection(Protocol):
    def send(self, message: EmailMessage, envelope_from: str | None = None) -> str:
        """Deliver or raise. Returns "sent", or a note kept on the outbox row."""
        ...


class Sender(Connection, Protocol):
    pass


def message_id(token: str, sender: str) -> str:
    return f"<{BOUNCE_TAG}{token}@{_domain(sender)}>"


def _domain(address: str) -> str:
    # the sender's domain, not getfqdn(): no DNS lookup per message
    return address.rpartition("@")[2].strip("> ") or "localhost"


def bounce_envelope(bounce_address: str, token: str | None) -> str | None:
    """The VERP envelope sender `local+vt-TOKEN@domain`, or None (no bounce address set)."""
    if not bounce_address or not token or "@" not in bounce_address:
        return None
    local, _, domain = bounce_address.strip().rpartition("@")
    return f"{local}+{BOUNCE_TAG}{token}@{domain}"


def build_message(
    *, sender: str, to: str, subject: str, body: str, key: str, token: str | None = None
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    if token:
        message["Message-ID"] = message_id(token, sender)
    else:
        idstring = "".join(ch if ch.isalnum() or ch in "-_" else "." for ch in key)[:60]
        message["Message-ID"] = make_msgid(idstring=idstring, domain=_domain(sender))
    # base64: 8-bit bodies need the server's 8BITMIME, which smtplib does not negotiate
    message.set_content(body, cte="base64")
    return message


class _SmtpSession:
    """One SMTP connection for a batch, opened at the first message. A message the server
    refuses leaves the connection usable (smtplib resets the transaction); a broken connection
    is dropped and the next message reconnects. `unreachable` says the last failure was the
    connection itself, so a caller can spare the rest of its batch the same wait."""

    def __init__(self, sender: SmtpSender) -> None:
        self.sender = sender
        self.smtp: smtplib.SMTP | None = None
        self.unreachable = False

    def send(self, message: EmailMessage, envelope_from: str | None = None) -> str:
        self.unreachable = False
        if self.smtp is None:
            try:
                self.smtp = self.sender.connect()
            except Exception:
                self.unreachable = True
                raise
        try:
            self.smtp.send_message(message, from_addr=envelope_from)
        except smtplib.SMTPRecipientsRefused:
            raise  # this message only; smtplib reset the transaction
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code == 421:  # the server is closing the connection
                self.close()
            raise
        except Exception:
            self.close()
            raise
        return "sent"

    def close(self) -> None:
        smtp, self.smtp = self.smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


@dataclass
class SmtpSender:
    host: str
    port: int = 25
    use_tls: bool = False
    username: str = ""
    password: str = ""
    timeout: float = 20.0

    def connect(self) -> smtplib.SMTP:
        # a TLS context (it verifies the server certificate) only when TLS is used: loading the
        # system's CA bundle costs more than delivering a message to a local relay
        smtp: smtplib.SMTP
        if self.port == IMPLICIT_TLS_PORT:
            smtp = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.use_tls and self.port != IMPLICIT_TLS_PORT:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password)
        except Exception:
            smtp.close()
            raise
        return smtp

    @contextmanager
    def session(self) -> Iterator[_SmtpSession]:
        session = _SmtpSession(self)
        try:
            yield session
        finally:
            session.close()

    def send(self, message: EmailMessage, envelope_from: str | None = None) -> str:
        with self.session() as session:
            return session.send(message, envelope_from)


class LogSender:
    """No MAIL_SERVER: write the message to the log instead of sending it."""

    def send(self, message: EmailMessage, envelope_from: str | None = None) -> str:
        log.info("mail (no MAIL_SERVER) to %s: %s", message["To"], message["Subject"])
        log.debug("mail body:\n%s", message.get_content())
        return LOGGED_NOTE


@contextmanager
def session_of(sender: Sender) -> Iterator[Connection]:
    """The sender's batch session when it has one, else the sender itself (one by one)."""
    opener = getattr(sender, "session", None)
    if opener is None:
        yield sender
        return
    with opener() as session:
        yield session


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
