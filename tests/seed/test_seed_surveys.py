"""The demo surveys: projects with milestones, contacts, two waves of a weighted project survey
with answers and closed-loop issues, a third-party wave with two competitors; the same every
time, once."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.contacts.models import Contact, Milestone, Project
from app.core.audit import AuditEvent
from app.core.outbox import OutboxMessage
from app.customers.models import Customer
from app.extensions import db
from app.issues.models import Issue
from app.surveys.closed_loop import loop_figures
from app.surveys.imports import company_figures
from app.surveys.models import Answer, Campaign, Invitation, Response, Survey, ThirdPartyAnswer
from app.surveys.results import campaign_figures, progress, skipped_contacts

ARGS = ["seed-demo", "--customers", "150", "--issues", "100"]


def snapshot():
    answers = db.session.execute(
        sa.select(Contact.name, Response.submitted_at, Answer.question_type, Answer.value)
        .join(Answer, Answer.response_id == Response.id)
        .join(Contact, Contact.id == Response.contact_id)
        .order_by(Answer.id)
    ).all()
    others = db.session.execute(
        sa.select(
            ThirdPartyAnswer.row_key, ThirdPartyAnswer.company, ThirdPartyAnswer.value
        ).order_by(ThirdPartyAnswer.id)
    ).all()
    # names, not ids: a forced reload on PostgreSQL does not restart the sequences
    projects = db.session.execute(
        sa.select(Project.name, Customer.name)
        .join(Customer, Customer.id == Project.customer_id)
        .order_by(Project.id)
    ).all()
    issues = db.session.execute(
        sa.select(Issue.number, Issue.status).where(Issue.channel == "survey").order_by(Issue.id)
    ).all()
    return answers, others, projects, issues


def test_surveys_are_seeded_once_and_the_same_every_time(runner):
    first = runner.invoke(args=ARGS)
    assert first.exit_code == 0, first.output
    assert "surveys" in first.output
    before = snapshot()
    assert all(before)
    again = runner.invoke(args=ARGS)
    assert again.exit_code == 0 and "already loaded" in again.output
    assert snapshot() == before
    forced = runner.invoke(args=[*ARGS, "--force"])
    assert forced.exit_code == 0, forced.output
    assert snapshot() == before


def test_demo_surveys_are_complete_and_consistent(runner):
    assert runner.invoke(args=ARGS).exit_code == 0
    # contacts for every customer; projects with milestones, some done, some not
    assert db.session.scalar(sa.select(sa.func.count(sa.distinct(Contact.customer_id)))) == 150
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Project)) > 20
    done = db.session.scalars(sa.select(Milestone.done_at.is_not(None))).all()
    assert any(done) and not all(done)

    project = db.session.scalars(sa.select(Survey).where(Survey.kind == "project")).one()
    assert sorted(i.weight for i in project.indicators) == [20, 25, 25, 30]
    waves = db.session.scalars(
        sa.select(Campaign).where(Campaign.survey_id == project.id).order_by(Campaign.send_at)
    ).all()
    assert [c.status for c in waves] == ["closed", "open"]
    for wave in waves:
        figures = campaign_figures(wave)
        assert figures.responded > 10 and figures.index.value is not None
        p = progress(wave.id)
        # the demo's failed e-mails reached nobody: out of the response rate's denominator
        assert p.invited == figures.invited and p.delivered == figures.delivered
        assert p.delivered + p.failed == p.invited and p.pending == p.bounced == 0
        assert figures.response_rate == pytest.approx(100 * figures.responded / p.delivered)
        # contacts without an e-mail are listed as skipped, with the reason, not left out
        skipped = skipped_contacts(wave.id)
        assert figures.skipped == len(skipped) > 0
        assert {s.reason for s in skipped} == {"no_email"}
        assert all(s.contact.email is None for s in skipped)
        assert 0 < p.answered <= p.opened < p.invited and p.reminders > 0

    # every dissatisfied response raised its issue through the closed loop, linked both ways
    rows = db.session.execute(
        sa.select(Response, Issue).join(Issue, Issue.id == Response.issue_id)
    ).all()
    assert rows
    for response, issue in rows:
        contact = db.session.get(Contact, response.contact_id)
        assert issue.channel == "survey" and issue.customer_id == contact.customer_id
        low = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Answer)
            .where(
                Answer.response_id == response.id,
                sa.or_(
                    sa.and_(Answer.question_type == "nps", Answer.value <= 6),
                    sa.and_(Answer.question_type == "rating5", Answer.value <= 2),
                ),
            )
        )
        assert low > 0
    satisfied_with_issue = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Response)
        .where(Response.issue_id.is_(None))
        .where(
            Response.id.in_(
                sa.select(Answer.response_id).where(
                    Answer.question_type == "nps", Answer.value <= 6
                )
            )
        )
    )
    assert satisfied_with_issue == 0
    accepted = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.entity_type == "survey_response", AuditEvent.action == "issue")
    )
    assert accepted == len(rows)
    # the first wave's issues were mostly fixed, and some of those contacts re-measured
    loop = loop_figures(waves[0])
    assert loop.detractors > 0 and 0 < loop.fixed <= loop.detractors
    assert loop.remeasured + loop.awaiting == loop.fixed
    # delivery failures are visible; mail links are real
    assert db.session.scalar(
        sa.select(sa.func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == "failed")
    )
    assert sum(campaign_figures(w).delivered for w in waves) < sum(
        campaign_figures(w).invited for w in waves
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == sum(
        progress(w.id).invited for w in waves
    )

    third = db.session.scalars(
        sa.select(Campaign).join(Survey).where(Survey.kind == "third_party")
    ).one()
    companies = company_figures(third.id, third.survey.weights())
    assert len(companies) == 3 and "" in companies  # ours and two competitors
    assert all(c["index"]["value"] is not None for c in companies.values())
