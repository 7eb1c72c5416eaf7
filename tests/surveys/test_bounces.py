"""Late bounces: real delivery-status notifications (Postfix and Exchange samples in dsn/) read
by `flask surveys bounces`, matched by the message's random token, hard and soft, idempotent,
audited, and taken out of "delivered" on the campaign page and in the response rate."""

from __future__ import annotations

import mailbox
import shutil
from datetime import timedelta
from email import message_from_bytes

import pytest
import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.core.outbox import OutboxMessage
from app.db import utcnow
from app.extensions import db
from app.surveys import bounces
from app.surveys.invitations import send_reminders
from app.surveys.models import Campaign, Invitation
from app.surveys.results import campaign_figures, progress
from tests.surveys.bounce_samples import (
    EXCHANGE_HARD,
    OUT_OF_OFFICE,
    POSTFIX_DELAYED,
    POSTFIX_HARD,
    POSTFIX_SOFT,
    TOKENS,
    audits,
    invitation_of,
    mail_of,
)

pytestmark = pytest.mark.committing


def run_cli(app, path) -> str:
    result = app.test_cli_runner().invoke(args=["surveys", "bounces", "-v", str(path)])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    return result.output


# --- parsing ---------------------------------------------------------------------------------


def test_postfix_hard_bounce_is_read_with_its_verp_token():
    report = bounces.parse(POSTFIX_HARD.read_bytes())
    assert report.is_dsn and report.tokens == [TOKENS[POSTFIX_HARD]]
    assert report.failure is not None
    assert (report.failure.kind, report.failure.status) == ("hard", "5.1.1")
    assert report.failure.recipient == "wang@example.com"
    assert "User unknown" in report.failure.diagnostic


def test_exchange_ndr_is_read_from_the_returned_headers():
    report = bounces.parse(EXCHANGE_HARD.read_bytes())
    assert report.tokens == [TOKENS[EXCHANGE_HARD]]  # sent to the plain address: no VERP
    assert report.failure is not None
    assert (report.failure.kind, report.failure.status) == ("hard", "5.1.10")
    assert "RecipientNotFound" in report.failure.diagnostic


def test_soft_delayed_and_other_mail():
    soft = bounces.parse(POSTFIX_SOFT.read_bytes())
    assert soft.failure is not None and (soft.failure.kind, soft.failure.status) == (
        "soft",
        "4.2.2",
    )
    assert soft.tokens == [TOKENS[POSTFIX_SOFT]]  # from the returned message/rfc822
    delayed = bounces.parse(POSTFIX_DELAYED.read_bytes())
    assert delayed.is_dsn and delayed.failure is None and delayed.delayed
    # an auto-reply quoting our Message-ID is not a bounce
    assert not bounces.parse(OUT_OF_OFFICE.read_bytes()).is_dsn
    assert not bounces.parse(b"\x00\xff garbage").is_dsn


def test_the_token_is_random_per_message_and_not_the_link_secret(sent):
    rows = list(db.session.scalars(sa.select(OutboxMessage)))
    tokens = [r.bounce_token for r in rows]
    assert all(t and len(t) == 32 and int(t, 16) >= 0 for t in tokens)
    assert len(set(tokens)) == len(tokens)
    for row in rows:
        assert row.bounce_token not in row.body  # the survey link carries its own secret


# --- recording -------------------------------------------------------------------------------


def test_hard_bounce_marks_the_invitation_and_leaves_delivered(app, delivered):
    campaign = delivered["campaign"]
    before = progress(campaign.id)
    assert (before.invited, before.delivered, before.bounced) == (2, 2, 0)
    output = run_cli(app, POSTFIX_HARD)
    assert "hard bounce recorded: 1" in output
    invitation = invitation_of("wang@example.com")
    assert invitation.bounce_kind == "hard" and invitation.bounced_at is not None
    message = mail_of("wang@example.com")
    assert (message.bounce_kind, message.bounce_status, message.status) == ("hard", "5.1.1", "sent")
    assert "User unknown" in (message.bounce_detail or "")
    after = progress(campaign.id)
    assert (after.invited, after.delivered, after.bounced) == (2, 1, 1)
    figures = campaign_figures(db.session.get(Campaign, campaign.id))
    # invited stays invited; the response rate's denominator, delivered, loses the bounce
    assert (figures.invited, figures.delivered) == (2, 1)
    assert audits(invitation.id) == 1
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "bounce")).one()
    assert event.changes["bounce_kind"] == [None, "hard"]
    assert event.office_id == invitation.office_id


def test_the_same_notification_twice_changes_nothing(app, delivered):
    run_cli(app, POSTFIX_HARD)
    first = mail_of("wang@example.com").bounced_at
    output = run_cli(app, POSTFIX_HARD)
    assert "already recorded: 1" in output
    invitation = invitation_of("wang@example.com")
    assert audits(invitation.id) == 1
    assert mail_of("wang@example.com").bounced_at == first


def test_soft_then_hard_upgrades_once_and_hard_then_soft_stays_hard(app, delivered):
    wang = mail_of("wang@example.com")
    wang.bounce_token = TOKENS[POSTFIX_SOFT]
    db.session.commit()
    assert "soft bounce recorded: 1" in run_cli(app, POSTFIX_SOFT)
    invitation = invitation_of("wang@example.com")
    assert invitation.bounce_kind == "soft"
    first_at = invitation.bounced_at
    assert "already recorded: 1" in run_cli(app, POSTFIX_SOFT)

    # the Postfix hard sample names the same message once its token is this one
    hard = POSTFIX_HARD.read_bytes().replace(
        TOKENS[POSTFIX_HARD].encode(), TOKENS[POSTFIX_SOFT].encode()
    )
    report = bounces.parse(hard)
    assert bounces.record(report, utcnow()) == "hard"
    db.session.commit()
    assert bounces.record(bounces.parse(POSTFIX_SOFT.read_bytes()), utcnow()) == "unchanged"
    db.session.commit()
    invitation = invitation_of("wang@example.com")
    assert invitation.bounce_kind == "hard" and invitation.bounced_at == first_at
    assert mail_of("wang@example.com").bounce_status == "5.1.1"
    assert audits(invitation.id) == 2


def test_delayed_unknown_and_non_bounces_change_nothing(app, delivered, tmp_path):
    forged = POSTFIX_HARD.read_bytes().replace(
        TOKENS[POSTFIX_HARD].encode(), b"0123456789abcdef0123456789abcdef"
    )
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "forged.eml").write_bytes(forged)
    shutil.copy(POSTFIX_DELAYED, folder / "sub" / "delayed.eml")
    shutil.copy(OUT_OF_OFFICE, folder / "ooo.eml")
    output = run_cli(app, folder)
    assert "3 message(s) read" in output
    assert "no message of ours: 1" in output
    assert "delayed only (nothing to record): 1" in output
    assert "not a delivery-status notification: 1" in output
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Invitation)
            .where(Invitation.bounced_at.is_not(None))
        )
        == 0
    )


def test_a_maildir_and_an_mbox_are_read(app, delivered, tmp_path):
    maildir = mailbox.Maildir(str(tmp_path / "Maildir"), create=True)
    maildir.add(message_from_bytes(POSTFIX_HARD.read_bytes()))
    maildir.flush()
    box = mailbox.mbox(str(tmp_path / "bounces.mbox"), create=True)
    box.add(message_from_bytes(EXCHANGE_HARD.read_bytes()))
    box.add(message_from_bytes(OUT_OF_OFFICE.read_bytes()))
    box.flush()
    box.close()
    assert "hard bounce recorded: 1" in run_cli(app, tmp_path / "Maildir")
    output = run_cli(app, tmp_path / "bounces.mbox")
    assert "2 message(s) read" in output and "hard bounce recorded: 1" in output
    assert invitation_of("amy@example.com").bounce_kind == "hard"
    assert invitation_of("wang@example.com").bounce_kind == "hard"


def test_a_missing_path_is_a_clear_error(app):
    result = app.test_cli_runner().invoke(args=["surveys", "bounces", "/nonexistent/bounces"])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_no_reminder_after_a_hard_bounce_but_after_a_soft_one(app, delivered):
    campaign = db.session.get(Campaign, delivered["campaign"].id)
    campaign.reminders, campaign.remind_after_days = 1, 1
    amy = mail_of("amy@example.com")
    amy.bounce_token = TOKENS[POSTFIX_SOFT]
    db.session.commit()
    run_cli(app, POSTFIX_HARD)  # wang: hard
    assert bounces.record(bounces.parse(POSTFIX_SOFT.read_bytes()), utcnow()) == "soft"  # amy
    db.session.commit()
    counts = send_reminders(utcnow() + timedelta(days=2))
    db.session.commit()
    assert counts["reminded"] == 1
    assert invitation_of("amy@example.com").reminders_sent == 1
    assert invitation_of("wang@example.com").reminders_sent == 0


def test_an_answer_after_a_bounce_counts_as_delivered(app, delivered):
    run_cli(app, EXCHANGE_HARD)
    invitation = invitation_of("amy@example.com")
    invitation.responded_at = utcnow()
    db.session.commit()
    result = progress(delivered["campaign"].id)
    assert (result.delivered, result.bounced, result.answered) == (2, 0, 1)


def test_the_campaign_page_lists_the_bounce_per_invitation(app, delivered, world, login_as):
    run_cli(app, EXCHANGE_HARD)
    client = login_as(world.qa)
    page = client.get(f"/surveys/campaigns/{delivered['campaign'].id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="bounced"' in html and "amy@example.com" in html and "5.1.10" in html
    listing = client.get("/surveys/campaigns/").get_data(as_text=True)
    assert "答卷测试" in listing
