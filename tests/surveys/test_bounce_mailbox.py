"""The `read-bounces` job: late bounces fetched over IMAP (a real socket, the stdlib client, the
fake server of tests/fake_imap.py), recorded once, marked \\Seen only after the commit; a
connection lost at any step loses nothing and records nothing twice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.core.uow import unit_of_work
from app.db import utcnow
from app.extensions import db
from app.scheduler.runner import run_job
from app.surveys.bounce_mailbox import BounceMailbox, MailboxError, read_mailbox
from tests.fake_imap import FakeImapServer, Mailbox
from tests.surveys.bounce_samples import (
    EXCHANGE_HARD,
    OUT_OF_OFFICE,
    POSTFIX_HARD,
    audits,
    invitation_of,
)

pytestmark = pytest.mark.committing


@pytest.fixture
def imap(app, monkeypatch):
    """A mailbox holding two hard bounces (for wang and amy) and an out-of-office reply, served
    on loopback and named by BOUNCE_MAILBOX_URL."""
    box = Mailbox()
    for sample in (POSTFIX_HARD, EXCHANGE_HARD, OUT_OF_OFFICE):
        box.add(sample.read_bytes())
    with FakeImapServer(box) as server:
        monkeypatch.setitem(app.config, "BOUNCE_MAILBOX_URL", server.url)
        yield server


def run(app, minutes=0):
    """The job for a period of its own (each run is a new 10-minute period)."""
    outcome = run_job(app, "read-bounces", now=utcnow() + timedelta(minutes=10 * minutes))
    db.session.rollback()
    return outcome


def test_the_job_records_each_bounce_once_and_marks_what_it_read(app, delivered, imap):
    outcome = run(app)
    assert outcome.status == "done", outcome.error
    assert (outcome.result["hard"], outcome.result["not_dsn"], outcome.result["read"]) == (2, 1, 3)
    assert invitation_of("wang@example.com").bounce_kind == "hard"
    assert invitation_of("amy@example.com").bounce_kind == "hard"
    assert imap.box.unseen() == []
    again = run(app, minutes=1)
    assert (again.status, again.result["read"]) == ("done", 0)
    assert audits(invitation_of("wang@example.com").id) == 1


def test_a_connection_lost_while_reading_records_nothing_and_the_next_run_catches_up(
    app, delivered, imap
):
    imap.box.fail_on = "FETCH"
    outcome = run(app)
    assert outcome.status == "failed"
    assert "secret" not in (outcome.error or "")  # the password stays out of the job's record
    assert invitation_of("wang@example.com").bounce_kind is None
    assert len(imap.box.unseen()) == 3
    imap.box.fail_on = None
    assert run(app, minutes=1).result["hard"] == 2
    assert imap.box.unseen() == []


def test_a_run_failing_after_some_records_rolls_them_back_and_marks_nothing(
    app, delivered, imap, monkeypatch
):
    from app.surveys import bounces

    real, calls = bounces.record, []

    def record_then_fail(report, now):
        calls.append(report)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real(report, now)

    monkeypatch.setattr(bounces, "record", record_then_fail)
    assert run(app).status == "failed"
    assert invitation_of("wang@example.com").bounce_kind is None  # the first record undone
    assert len(imap.box.unseen()) == 3  # and nothing marked read: all come again
    monkeypatch.setattr(bounces, "record", real)
    assert run(app, minutes=1).result["hard"] == 2


def test_marking_seen_failing_after_the_commit_reads_them_again_and_changes_nothing(
    app, delivered, imap
):
    imap.box.fail_on = "STORE"
    first = run(app)
    assert (first.status, first.result["hard"]) == ("done", 2)  # the work is committed
    assert len(imap.box.unseen()) == 3  # but not marked: the next run reads them again
    imap.box.fail_on = None
    second = run(app, minutes=1)
    assert (second.result["hard"], second.result["unchanged"]) == (0, 2)
    assert imap.box.unseen() == []
    assert audits(invitation_of("wang@example.com").id) == 1


def test_a_run_reads_at_most_its_limit_and_says_how_many_are_left(delivered, imap):
    box = BounceMailbox.from_url(imap.url)
    with unit_of_work():
        counts = read_mailbox(box, utcnow(), limit=2)
    assert (counts["read"], counts["left"]) == (2, 1)
    assert imap.box.unseen() == [3]
    with unit_of_work():
        assert read_mailbox(box, utcnow(), limit=2)["left"] == 0
    assert imap.box.unseen() == []


def test_without_a_mailbox_the_job_does_nothing(app, monkeypatch):
    monkeypatch.setitem(app.config, "BOUNCE_MAILBOX_URL", "")
    outcome = run(app)
    assert outcome.status == "done"
    assert outcome.result == {"skipped": "BOUNCE_MAILBOX_URL not set"}


def test_a_refused_login_or_an_unknown_folder_is_a_clear_error(app, imap):
    wrong = BounceMailbox.from_url(imap.url.replace(":secret@", ":wrong@"))
    with pytest.raises(MailboxError, match="AUTHENTICATIONFAILED"):
        wrong.connect()
    with pytest.raises(MailboxError, match="no folder 'Bounces'"):
        BounceMailbox.from_url(imap.url.rsplit("/", 1)[0] + "/Bounces").connect()
    assert imap.box.logins == 1  # the wrong password logged nobody in


def test_the_url_names_server_account_and_folder():
    box = BounceMailbox.from_url("imaps://bounce%40example.com:p%40ss%2Fword@mail.example.com")
    assert (box.host, box.port, box.tls, box.folder) == ("mail.example.com", 993, True, "INBOX")
    assert (box.user, box.password) == ("bounce@example.com", "p@ss/word")
    assert "p@ss" not in repr(box)
    plain = BounceMailbox.from_url("imap://u:p@127.0.0.1/Bounces/2026")
    assert (plain.port, plain.tls, plain.folder) == (143, False, "Bounces/2026")
    for bad in ("pop3://u:p@host/", "imaps://host/INBOX", "imaps://u:p@host:99999/"):
        with pytest.raises(MailboxError):
            BounceMailbox.from_url(bad)


def test_plain_text_to_another_host_is_refused_without_starttls(monkeypatch):
    class NoTls:
        """A server on another host that offers no STARTTLS (no such server runs here)."""

        error = type("error", (Exception,), {})
        capabilities = ("IMAP4REV1",)
        shut = False

        def __init__(self, host, port, timeout):
            pass

        def shutdown(self):
            NoTls.shut = True

    monkeypatch.setattr("app.surveys.bounce_mailbox.imaplib.IMAP4", NoTls)
    with pytest.raises(MailboxError, match="STARTTLS"):
        BounceMailbox.from_url("imap://u:p@mail.example.com/").connect()
    assert NoTls.shut
