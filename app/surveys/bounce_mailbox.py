"""Late bounces fetched from the bounce mailbox over IMAP, by the `read-bounces` job.

`BOUNCE_MAILBOX_URL` names the mailbox MAIL_BOUNCE_ADDRESS delivers to:
`imaps://USER:PASSWORD@HOST[:993]/FOLDER` (TLS from the start), or `imap://…[:143]/FOLDER`,
which upgrades with STARTTLS before logging in (plain text only to a server on this host).
The user and password are URL-encoded; the folder defaults to INBOX.

A run reads up to `limit` unseen messages without marking them (BODY.PEEK), records each as
`flask surveys bounces` does (app.surveys.bounces: parse, match by token, compare-and-set), and
only once that work has committed marks the messages it read \\Seen. A run that fails, or a
crash before the mark, leaves them unseen, and the next run reads them again: recording is
idempotent, so a notification read twice changes its invitation once. Messages are never
deleted; what the server keeps is the mailbox owner's business.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote, urlsplit

from app.core.uow import after_commit
from app.surveys import bounces

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
TIMEOUT = 30  # seconds per IMAP command: a stuck server must not hold the job forever
_FETCHED_SIZE = re.compile(rb"BODY\[\] \{\d+\}$")


class MailboxError(RuntimeError):
    """The mailbox could not be read: a bad URL, a refused login, a broken connection."""


@dataclass(frozen=True)
class BounceMailbox:
    host: str
    port: int
    tls: bool  # TLS from the start (imaps); else STARTTLS, or plain text on loopback
    user: str
    password: str
    folder: str

    @classmethod
    def from_url(cls, url: str) -> BounceMailbox:
        parts = urlsplit(url)
        if parts.scheme not in ("imap", "imaps") or not parts.hostname:
            raise MailboxError("BOUNCE_MAILBOX_URL must look like imaps://user:pass@host/INBOX")
        if not parts.username or parts.password is None:
            raise MailboxError("BOUNCE_MAILBOX_URL needs a user and a password")
        tls = parts.scheme == "imaps"
        try:
            port = parts.port or (993 if tls else 143)
        except ValueError as exc:
            raise MailboxError(f"BOUNCE_MAILBOX_URL: {exc}") from exc
        return cls(
            host=parts.hostname,
            port=port,
            tls=tls,
            user=unquote(parts.username),
            password=unquote(parts.password),
            folder=unquote(parts.path.lstrip("/")) or "INBOX",
        )

    def __repr__(self) -> str:  # never the password, in logs or job results
        scheme = "imaps" if self.tls else "imap"
        return f"BounceMailbox({scheme}://{self.user}@{self.host}:{self.port}/{self.folder})"

    def connect(self) -> imaplib.IMAP4:
        """Connected, encrypted unless on loopback, logged in, the folder selected."""
        context = ssl.create_default_context()
        try:
            if self.tls:
                imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    self.host, self.port, ssl_context=context, timeout=TIMEOUT
                )
            else:
                imap = imaplib.IMAP4(self.host, self.port, timeout=TIMEOUT)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxError(f"{self!r}: {exc}") from exc
        try:
            self._open(imap, context)
        except BaseException as exc:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                imap.shutdown()
            if isinstance(exc, OSError | imaplib.IMAP4.error):
                raise MailboxError(f"{self!r}: {exc}") from exc
            raise
        return imap

    def _open(self, imap: imaplib.IMAP4, context: ssl.SSLContext) -> None:
        if not self.tls:
            if "STARTTLS" in imap.capabilities:
                imap.starttls(ssl_context=context)
            elif self.host not in LOOPBACK:
                raise MailboxError(f"{self.host} offers no STARTTLS: use imaps://")
        imap.login(self.user, self.password)
        status, _ = imap.select(_quoted(self.folder))
        if status != "OK":
            raise MailboxError(f"no folder {self.folder!r}")


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unseen(imap: imaplib.IMAP4, limit: int) -> list[bytes]:
    status, data = imap.uid("SEARCH", "UNSEEN")
    if status != "OK":
        raise MailboxError(f"SEARCH refused: {data!r}")
    uids = b" ".join(d for d in data if d).split()
    return sorted(uids, key=int)[:limit]


def _fetch(imap: imaplib.IMAP4, uid: bytes) -> bytes | None:
    """The raw message, left unseen; None if it has gone (expunged by someone else)."""
    status, data = imap.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
    if status != "OK":
        raise MailboxError(f"FETCH {uid!r} refused: {data!r}")
    for item in data:
        if isinstance(item, tuple) and _FETCHED_SIZE.search(item[0]):
            return bytes(item[1])
    return None


def read_mailbox(mailbox: BounceMailbox, now: datetime, *, limit: int = 200) -> dict[str, int]:
    """Record up to `limit` unseen notifications of the mailbox in the caller's unit of work;
    their \\Seen mark follows its commit. Counts per outcome (bounces.OUTCOMES), and `left`:
    unseen messages beyond the limit, for the next run."""
    counts = dict.fromkeys(bounces.OUTCOMES, 0)
    imap = mailbox.connect()
    try:
        uids = _unseen(imap, limit + 1)
        left = max(0, len(uids) - limit)
        uids = uids[:limit]
        read: list[bytes] = []
        for uid in uids:
            raw = _fetch(imap, uid)
            if raw is None:
                continue
            counts[bounces.record(bounces.parse(raw), now)] += 1
            read.append(uid)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(f"{mailbox!r}: {exc}") from exc
    finally:
        _logout(imap)
    if read:
        after_commit(lambda: _mark_seen(mailbox, read))
    return {**counts, "read": len(read), "left": left}


def _mark_seen(mailbox: BounceMailbox, uids: list[bytes]) -> None:
    """A connection of its own: the reading one was closed before the commit, so that a
    failed commit leaves nothing open. If this fails the messages are read again next time,
    which records nothing twice."""
    imap = mailbox.connect()
    try:
        status, data = imap.uid("STORE", b",".join(uids).decode(), "+FLAGS.SILENT", r"(\Seen)")
        if status != "OK":
            raise MailboxError(f"STORE refused: {data!r}")
    finally:
        _logout(imap)


def _logout(imap: imaplib.IMAP4) -> None:
    # the server may have gone away first: nothing of ours depends on a clean goodbye, but the
    # socket is closed either way (imaplib's logout leaves it open when LOGOUT fails)
    try:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            imap.logout()
    finally:
        with contextlib.suppress(OSError):
            imap.shutdown()
