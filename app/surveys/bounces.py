"""Late bounces: delivery-status notifications (RFC 3464, `multipart/report;
report-type=delivery-status`) that arrive after the mail server accepted a message.

Intake: the `read-bounces` job fetches them from BOUNCE_MAILBOX_URL over IMAP
(app.surveys.bounce_mailbox), and `flask surveys bounces PATH` reads a message file, an mbox, a
Maildir or a directory of message files (app.surveys.cli). Each notification is parsed with the
stdlib `email` package and matched to its outbox message by the message's random bounce token
(app.core.mailer): first the VERP tag of the address the notification was sent to
(`bounces+vt-TOKEN@…`, when MAIL_BOUNCE_ADDRESS is set), then the Message-ID of the original in
the returned headers (`text/rfc822-headers` or `message/rfc822`), then the notification's
In-Reply-To/References. The token is 128 random bits and is not the survey link's secret: a
forged notification cannot name somebody else's message, and reading one's own Message-ID opens
no survey.

Only `Action: failed` counts: a 5.x.x status is a hard bounce (the address does not work: no
more reminders go to it), a 4.x.x status a soft one (the server gave up on a transient
failure; reminders still go). Either takes the invitation out of "delivered" (and so out of the
response rate's denominator) unless the contact answers anyway. `Action: delayed` and
successful actions change nothing. Recording is a compare-and-set (nothing bounced yet, or soft
becoming hard), so the same notification twice, or two readers at once, change it once; each
change is audited on the invitation (or, for other mail, on the outbox message).

The other side, `record_delivered`: when the outbox hands an invitation's e-mail (or a
reminder, or a rating link) to the mail server, it sends `mail_sent`, and the invitation gets its
`delivered_at` in that transaction (app.surveys.events). Delivered and not bounced is what the
response rate divides by (app.surveys.models.delivered).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email.message import Message
from email.parser import HeaderParser
from typing import Any

import sqlalchemy as sa

from app.contacts.models import Contact
from app.core import audit
from app.core.mailer import TOKEN_PATTERN
from app.core.outbox import OutboxMessage
from app.extensions import db
from app.surveys.models import Invitation

STATUS_PATTERN = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
SMTP_CODE_PATTERN = re.compile(r"\b([245])\d\d\b")
KEY_PATTERN = re.compile(r"^(?:invitation:(\d+):(\d+)|rating:(\d+))$")
# headers of the notification itself that carry the address it was sent to (the VERP tag)
ADDRESS_HEADERS = ("To", "Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To")
REFERENCE_HEADERS = ("In-Reply-To", "References")
DETAIL_MAX = 500
OUTCOMES = ("hard", "soft", "unchanged", "delayed", "not_failed", "unknown", "not_dsn")


@dataclass(frozen=True)
class Failure:
    """One recipient's failure as reported: kind, enhanced status code, the server's words."""

    kind: str  # hard / soft
    status: str
    recipient: str
    diagnostic: str


@dataclass
class Report:
    """What one notification says: whether it is a DSN at all, the tokens it carries (most
    trustworthy first), the worst failure, and whether some recipient was only delayed."""

    is_dsn: bool
    tokens: list[str] = field(default_factory=list)
    failure: Failure | None = None
    delayed: bool = False


def _text(value: Any) -> str:
    return " ".join(str(value or "").split())


def _tokens(values: Iterable[Any]) -> list[str]:
    out: list[str] = []
    for value in values:
        for token in TOKEN_PATTERN.findall(str(value or "")):
            if token.lower() not in out:
                out.append(token.lower())
    return out


def _typed(value: Any) -> str:
    """`rfc822; a@b.com` → `a@b.com`; `smtp; 550 …` → `550 …`."""
    text = _text(value)
    kind, sep, rest = text.partition(";")
    return rest.strip() if sep and " " not in kind.strip() else text


def _kind(status: str, diagnostic: str) -> tuple[str, str] | None:
    found = STATUS_PATTERN.search(status) or STATUS_PATTERN.search(diagnostic)
    if found:
        code = ".".join(found.groups())
    else:
        smtp = SMTP_CODE_PATTERN.search(diagnostic)
        if smtp is None:
            return None
        code = f"{smtp.group(1)}.0.0"
    if code.startswith("5"):
        return "hard", code
    if code.startswith("4"):
        return "soft", code
    return None


def _returned_headers(report: Message) -> list[Message]:
    """The original message's headers the notification returned, in whichever form."""
    out: list[Message] = []
    for part in report.walk():
        ctype = part.get_content_type()
        if ctype == "text/rfc822-headers":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                out.append(HeaderParser().parsestr(payload.decode("utf-8", "replace")))
        elif ctype == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                out.append(inner[0])
    return out


def parse(raw: bytes) -> Report:
    """Read one e-mail. Never raises on malformed input: what it cannot read is not a DSN."""
    message = message_from_bytes(raw)
    report = next(
        (
            part
            for part in message.walk()
            if part.get_content_type() == "multipart/report"
            and str(part.get_param("report-type") or "").lower() == "delivery-status"
        ),
        None,
    )
    status_part = None
    if report is not None:
        status_part = next(
            (p for p in report.walk() if p.get_content_type() == "message/delivery-status"), None
        )
    if report is None or status_part is None:
        return Report(is_dsn=False)
    blocks = status_part.get_payload()
    if not isinstance(blocks, list):
        blocks = []
    originals = _returned_headers(report)
    tokens = _tokens(" ".join(map(str, message.get_all(h) or [])) for h in ADDRESS_HEADERS)
    for original in originals:
        tokens += [t for t in _tokens([original.get("Message-ID")]) if t not in tokens]
    references = [message.get(h) for h in REFERENCE_HEADERS]
    tokens += [t for t in _tokens(references) if t not in tokens]
    result = Report(is_dsn=True, tokens=tokens)
    for block in blocks[1:] if len(blocks) > 1 else blocks:
        if not isinstance(block, Message):
            continue
        action = _text(block.get("Action")).lower()
        diagnostic = _typed(block.get("Diagnostic-Code"))
        if action == "delayed":
            result.delayed = True
            continue
        if action != "failed":
            continue
        judged = _kind(_text(block.get("Status")), diagnostic)
        if judged is None:
            continue
        kind, code = judged
        recipient = _typed(block.get("Final-Recipient") or block.get("Original-Recipient"))
        failure = Failure(kind=kind, status=code, recipient=recipient, diagnostic=diagnostic)
        if result.failure is None or (result.failure.kind == "soft" and kind == "hard"):
            result.failure = failure
    return result


def _invitation_id(key: str) -> int | None:
    found = KEY_PATTERN.match(key)
    if found is None:
        return None
    return int(found.group(1) or found.group(3))


def record_delivered(keys: Iterable[str], at: datetime) -> int:
    """Stamp `delivered_at` on the invitations these outbox messages were about (other mail is
    ignored); the first delivery counts, a later reminder changes nothing. One UPDATE."""
    ids = {i for i in map(_invitation_id, keys) if i is not None}
    if not ids:
        return 0
    result = db.session.execute(
        sa.update(Invitation)
        .where(Invitation.id.in_(sorted(ids)), Invitation.delivered_at.is_(None))
        .values(delivered_at=at)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def record(report: Report, now: datetime) -> str:
    """Apply one parsed notification; returns one of OUTCOMES. The caller commits."""
    if not report.is_dsn:
        return "not_dsn"
    if report.failure is None:
        return "delayed" if report.delayed else "not_failed"
    message = None
    for token in report.tokens:
        message = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.bounce_token == token)
        ).one_or_none()
        if message is not None:
            break
    if message is None:
        return "unknown"
    failure = report.failure
    previous = message.bounce_kind
    stronger = sa.or_(
        OutboxMessage.bounce_kind.is_(None),
        sa.and_(OutboxMessage.bounce_kind == "soft", sa.literal(failure.kind) == "hard"),
    )
    changed = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message.id, stronger)
        .values(
            bounced_at=now,
            bounce_kind=failure.kind,
            bounce_status=failure.status,
            bounce_detail=failure.diagnostic[:DETAIL_MAX],
        )
        .execution_options(synchronize_session=False)
    )
    if int(getattr(changed, "rowcount", 0) or 0) != 1:
        return "unchanged"
    changes: dict[str, Any] = {
        "bounce_kind": [previous, failure.kind],
        "status": failure.status,
        "recipient": message.recipient,
        "message": message.idempotency_key,
    }
    invitation_id = _invitation_id(message.idempotency_key)
    invitation = db.session.get(Invitation, invitation_id) if invitation_id else None
    if invitation is not None:
        db.session.execute(
            sa.update(Invitation)
            .where(
                Invitation.id == invitation.id,
                sa.or_(Invitation.bounce_kind.is_(None), Invitation.bounce_kind != "hard"),
            )
            .values(
                bounced_at=sa.func.coalesce(Invitation.bounced_at, now),
                bounce_kind=failure.kind
                if failure.kind == "hard"
                else sa.func.coalesce(Invitation.bounce_kind, failure.kind),
            )
            .execution_options(synchronize_session=False)
        )
        audit.record(
            actor_id=None,
            entity_type="invitation",
            entity_id=invitation.id,
            action="bounce",
            changes=changes,
            office_id=invitation.office_id,
            at=now,
        )
    else:
        audit.record(
            actor_id=None,
            entity_type="outbox_message",
            entity_id=message.id,
            action="bounce",
            changes=changes,
            at=now,
        )
    return failure.kind


@dataclass(frozen=True)
class BouncedMail:
    invitation_id: int
    contact_name: str
    recipient: str
    reminder: int  # 0: the invitation itself
    kind: str
    status: str
    detail: str
    at: datetime | None
    answered: bool


def bounced_mails(campaign_id: int, limit: int = 50) -> list[BouncedMail]:
    """The campaign's e-mails that bounced back after they were sent, per invitation."""
    keys = [
        sa.literal("invitation:") + sa.cast(Invitation.id, sa.String) + f":{n}" for n in range(3)
    ]
    rows = db.session.execute(
        sa.select(Invitation.id, Invitation.responded_at, Contact.name, OutboxMessage)
        .select_from(Invitation)
        .join(Contact, Contact.id == Invitation.contact_id)
        .join(OutboxMessage, sa.or_(*(OutboxMessage.idempotency_key == k for k in keys)))
        .where(Invitation.campaign_id == campaign_id, OutboxMessage.bounce_kind.is_not(None))
        .order_by(OutboxMessage.bounced_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    ).all()
    return [
        BouncedMail(
            invitation_id=invitation_id,
            contact_name=name,
            recipient=message.recipient,
            reminder=int(message.idempotency_key.rsplit(":", 1)[-1]),
            kind=message.bounce_kind or "",
            status=message.bounce_status or "",
            detail=(message.bounce_detail or "")[:300],
            at=message.bounced_at,
            answered=responded_at is not None,
        )
        for invitation_id, responded_at, name, message in rows
    ]


def read_messages(path: str) -> Iterator[tuple[str, bytes]]:
    """(name, raw bytes) of each e-mail at `path`: a message file, an mbox file, a Maildir or a
    directory (walked) of message files."""
    import mailbox
    import os

    if os.path.isdir(path):
        if all(os.path.isdir(os.path.join(path, d)) for d in ("cur", "new", "tmp")):
            box = mailbox.Maildir(path, factory=None, create=False)
            for key in sorted(box.keys()):
                yield f"{path}:{key}", box.get_bytes(key)
            return
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                if not name.startswith("."):
                    yield from read_messages(os.path.join(root, name))
        return
    with open(path, "rb") as handle:
        raw = handle.read()
    if raw.startswith(b"From "):  # an mbox: one or more messages, each after a From_ line
        mbox = mailbox.mbox(path, factory=None, create=False)
        try:
            for key in mbox.iterkeys():
                yield f"{path}:{key}", mbox.get_bytes(key)
        finally:
            mbox.close()
        return
    yield path, raw
