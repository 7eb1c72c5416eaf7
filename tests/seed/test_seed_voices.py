"""The demo voices: every channel, consistent links to issues and repeats, idempotent."""

from __future__ import annotations

import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.extensions import db
from app.issues.models import Issue
from app.voice.channels import CHANNELS, kind_of
from app.voice.models import Voice, VoiceIssueLink

ARGS = ["seed-demo", "--customers", "60", "--issues", "400"]


def snapshot():
    return db.session.execute(
        sa.select(Voice.reference, Voice.channel, Voice.text, Voice.occurred_at).order_by(Voice.id)
    ).all()


def test_voices_are_seeded_once_and_the_same_every_time(runner):
    first = runner.invoke(args=ARGS)
    assert first.exit_code == 0, first.output
    assert "voices" in first.output
    before = snapshot()
    assert 400 <= len(before) <= 540  # about four voices for three issues
    again = runner.invoke(args=ARGS)
    assert again.exit_code == 0 and "already loaded" in again.output
    assert snapshot() == before
    forced = runner.invoke(args=[*ARGS, "--force"])
    assert forced.exit_code == 0, forced.output
    assert snapshot() == before


def test_voices_cover_every_channel_with_their_fields(runner):
    assert runner.invoke(args=ARGS).exit_code == 0
    voices = db.session.scalars(sa.select(Voice)).all()
    by_channel: dict[str, list[Voice]] = {}
    for voice in voices:
        by_channel.setdefault(voice.channel, []).append(voice)
        assert voice.kind == kind_of(voice.channel)
        assert voice.dimension and voice.category_id and voice.sentiment
        assert voice.reference.startswith("V-") and len(voice.reference) == 10
    assert set(by_channel) == set(CHANNELS)
    assert all(v.customer_id is None for v in by_channel["market_research"])
    assert all(v.customer_id is not None for v in by_channel["interview"])

    def have(channel, *fields):
        return any(all(f in v.details for f in fields) for v in by_channel[channel])

    assert have("return", "batch", "model", "reason_code")
    assert have("sales_report", "order_no", "amount")
    assert have("interview", "interviewee", "interviewee_role")
    assert have("partner_interview", "partner")
    assert have("market_research", "agency", "sample_size")
    web = [v for v in by_channel["web"] if v.repeat_of_id is None and v.contact_name]
    assert web and any(v.contact_phone for v in web) and any(v.contact_email for v in web)
    for voice in by_channel["return"]:
        if "reason_code" in voice.details:
            assert voice.details["reason_code"] in voice.text
    # an audit row for each, as record_voice writes
    audited = db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.entity_type == "voice")
    )
    assert audited == len(voices)
    # busier offices hear more, and weekdays more than weekends
    assert len({v.office_id for v in voices}) == 6


def test_raised_issues_and_repeats_are_linked_consistently(runner):
    assert runner.invoke(args=ARGS).exit_code == 0
    raised = db.session.execute(
        sa.select(VoiceIssueLink, Voice, Issue)
        .join(Voice, Voice.id == VoiceIssueLink.voice_id)
        .join(Issue, Issue.id == VoiceIssueLink.issue_id)
        .where(VoiceIssueLink.kind == "raised")
    ).all()
    assert len(raised) >= 50
    for _link, voice, issue in raised:
        assert (voice.customer_id, voice.office_id, voice.category_id, voice.channel) == (
            issue.customer_id,
            issue.office_id,
            issue.category_id,
            issue.channel,
        )
        assert issue.voice_id == voice.id and voice.occurred_at <= issue.received_at
    with_voice = db.session.scalar(
        sa.select(sa.func.count()).select_from(Issue).where(Issue.voice_id.is_not(None))
    )
    assert with_voice == len(raised)

    repeats = db.session.scalars(sa.select(Voice).where(Voice.repeat_of_id.is_not(None))).all()
    assert len(repeats) >= 20
    for voice in repeats:
        first = voice.repeat_of
        assert first.repeat_of_id is None  # points at the first voice of the group
        assert (first.customer_id, first.category_id) == (voice.customer_id, voice.category_id)
        assert first.occurred_at < voice.occurred_at
    repeat_links = db.session.execute(
        sa.select(VoiceIssueLink, Voice)
        .join(Voice, Voice.id == VoiceIssueLink.voice_id)
        .where(VoiceIssueLink.kind == "repeat")
    ).all()
    assert repeat_links
    for link, voice in repeat_links:
        assert db.session.get(Issue, link.issue_id).voice_id == voice.repeat_of_id


def test_no_customers_means_no_voices(runner):
    result = runner.invoke(args=["seed-demo", "--customers", "0"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voice)) == 0
