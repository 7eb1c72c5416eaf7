"""Issue reads: scope, every filter, search with escaped wildcards, keyset pages, a constant
number of queries per page, the timeline and the SLA clocks."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.core.pagination import BadCursor
from app.core.scoping import Scope
from app.customers.services import create_customer
from app.extensions import db
from app.issues import services
from app.issues.queries import IssueFilters, issue_timeline, list_issues, sla_clock, sla_clocks

CN = ZoneInfo("Asia/Shanghai")


def at(month, day, hh, mm=0):
    return datetime(2026, month, day, hh, mm, tzinfo=CN)


MON = at(3, 2, 9)


def accept(world, actor=None, now=MON, **kw):
    args = {
        "actor": actor or world.agent,
        "customer_id": world.customer.id,
        "title": "设备无法开机",
        "description": "客户来电",
        "channel": "hotline",
        "category": "product_quality",
        "priority": "normal",
        "received_at": now,
        "now": now,
        **kw,
    }
    issue = services.accept_issue(**args)
    db.session.commit()
    return issue


def ids(scope, now=MON, limit=200, **filters):
    page = list_issues(scope, IssueFilters(**filters), limit=limit, cursor=None, now=now)
    return [i.id for i in page.items]


@pytest.fixture
def company(world):
    return Scope.for_user(world.qa)


# --- scope and filters ------------------------------------------------------------------------


def test_scope_decides_what_is_listed(world, company):
    sh = accept(world)
    gz = accept(world, actor=world.agent_gz, customer_id=world.customer_gz.id)
    assert ids(Scope.for_user(world.agent)) == [sh.id]
    assert ids(Scope.for_user(world.agent_gz)) == [gz.id]
    assert ids(Scope.for_user(world.rm)) == [sh.id]  # the east region holds SH only
    assert ids(company) == [gz.id, sh.id]
    # a filter cannot widen the scope
    assert ids(Scope.for_user(world.agent), office_code="GZ") == []


def test_field_filters(world, company):
    a = accept(world, priority="high", channel="web")
    b = accept(world, category="billing")
    c = accept(world, actor=world.agent_gz, customer_id=world.customer_gz.id)
    services.handle_issue(actor=world.handler, issue_id=b.id, now=MON)
    db.session.commit()
    assert ids(company, status=["accepted"]) == [c.id, a.id]
    assert ids(company, status=["handling", "accepted"]) == [c.id, b.id, a.id]
    assert ids(company, office_code="sh") == [b.id, a.id]
    assert ids(company, region_code="SOUTH") == [c.id]
    assert ids(company, owner_id=world.handler.id) == [b.id]
    assert ids(company, priority="high") == [a.id]
    assert ids(company, category="billing") == [b.id]
    assert ids(company, channel="web") == [a.id]
    assert ids(company, customer_id=world.customer_gz.id) == [c.id]
    assert ids(company, office_code="NOPE") == []


def test_overdue_and_due_soon(world, company):
    urgent = accept(world, priority="urgent")  # resolve by Monday 18:00
    normal = accept(world)  # resolve by Friday 18:00
    done = accept(world, priority="urgent")
    services.resolve_issue(
        actor=world.handler,
        issue_id=done.id,
        resolution="ok",
        root_cause="process",
        responsible="x",
        now=at(3, 2, 10),
    )
    db.session.commit()
    thursday = at(3, 5, 20)
    assert ids(company, now=thursday, overdue=True) == [urgent.id]  # the resolved one is not
    assert ids(company, now=thursday, due_soon=True) == [normal.id]
    assert ids(company, now=MON, overdue=True) == []


def test_created_range_uses_the_local_calendar_day(world, company):
    late = accept(world, now=at(3, 2, 23, 50))
    early = accept(world, now=at(3, 3, 0, 10))  # 2 March 16:10 UTC, but 3 March in Shanghai
    now = at(3, 4, 9)
    assert ids(company, now=now, created_from=date(2026, 3, 3)) == [early.id]
    assert ids(company, now=now, created_to=date(2026, 3, 2)) == [late.id]
    both = ids(company, now=now, created_from=date(2026, 3, 2), created_to=date(2026, 3, 3))
    assert both == [early.id, late.id]


# --- search -----------------------------------------------------------------------------------


def test_search_by_number_title_description_and_customer(world, company, make_user):
    first = accept(world, title="打印机卡纸")
    second = accept(world, description="发票抬头开错了")
    wang = create_customer(actor=world.agent, name="王芳", office_code=None)
    db.session.commit()
    third = accept(world, customer_id=wang.id)
    assert ids(company, q=first.number) == [first.id]
    assert ids(company, q="sh-2026-00000") == [third.id, second.id, first.id]  # a prefix
    assert ids(company, q="卡纸") == [first.id]
    assert ids(company, q="抬头") == [second.id]
    assert ids(company, q="芳") == [third.id]
    assert ids(company, q="  ") == [third.id, second.id, first.id]
    assert ids(company, q="nothing like it") == []


def test_search_escapes_wildcards(world, company):
    percent = accept(world, title="完成 100% 退款")
    accept(world, title="完成 1000 退款")
    underscore = accept(world, title="型号 A_B")
    accept(world, title="型号 AXB")
    backslash = accept(world, title="路径 C:\\temp")
    assert ids(company, q="100%") == [percent.id]
    assert ids(company, q="A_B") == [underscore.id]
    assert ids(company, q="C:\\t") == [backslash.id]
    assert ids(company, q="%") == [percent.id]


# --- pages and queries ------------------------------------------------------------------------


def test_keyset_pages_newest_first_without_gaps(world, company):
    made = [accept(world).id for _ in range(7)]
    seen, cursor, sizes = [], None, []
    while True:
        page = list_issues(company, IssueFilters(), limit=3, cursor=cursor, now=MON)
        sizes.append(len(page.items))
        seen += [i.id for i in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sizes == [3, 3, 1]
    assert seen == sorted(made, reverse=True)
    with pytest.raises(BadCursor):
        list_issues(company, IssueFilters(), limit=3, cursor="not-a-cursor", now=MON)


def _page_queries(count_queries, scope, n, names):
    """Queries to list a page of the newest `n` issues and read what a list shows."""
    db.session.remove()  # nothing preloaded: every related row must come from the page query
    with count_queries() as statements:
        page = list_issues(scope, IssueFilters(), limit=n, cursor=None)
        shown = [
            (i.number, i.customer.name, i.category.code, i.owner.name, i.office.code)
            for i in page.items
        ]
    assert len(shown) == n and {row[3] for row in shown} <= names
    return len(statements)


def test_a_page_takes_the_same_queries_for_5_or_50_issues(world, make_user, count_queries):
    handlers = [make_user("handler", office=world.sh, name=f"处理人{k}") for k in range(10)]
    for k in range(50):
        customer = create_customer(actor=world.agent, name=f"客户{k}", office_code=None)
        db.session.flush()
        accept(
            world,
            customer_id=customer.id,
            owner_id=handlers[k % 10].id,
            category=("billing", "delivery", "training")[k % 3],
        )
    scope, names = Scope.for_user(world.qa), {h.name for h in handlers}
    small = _page_queries(count_queries, scope, 5, names)
    large = _page_queries(count_queries, scope, 50, names)
    assert small == large <= 2


# --- one issue --------------------------------------------------------------------------------


def test_timeline_merges_changes_notes_contacts_and_escalations(world):
    issue = accept(world)
    services.handle_issue(actor=world.handler, issue_id=issue.id, now=at(3, 2, 10))
    services.add_note(actor=world.handler, issue_id=issue.id, text="先查日志", now=at(3, 2, 11))
    services.log_contact(
        actor=world.handler,
        issue_id=issue.id,
        direction="out",
        channel="phone",
        text="已回电",
        at=at(3, 2, 10, 30),
        now=at(3, 2, 12),
    )
    services.escalate_issue(actor=world.om, issue_id=issue.id, reason="客户不满", now=at(3, 2, 13))
    db.session.commit()
    timeline = issue_timeline(issue)
    assert [(t.kind, t.at) for t in timeline] == [
        ("audit", MON),
        ("audit", at(3, 2, 10)),
        ("contact", at(3, 2, 10, 30)),
        ("note", at(3, 2, 11)),
        ("escalation", at(3, 2, 13)),
    ]
    accept_entry, handle_entry, contact, note, escalation = timeline
    assert accept_entry.actor == world.agent.name and accept_entry.data["action"] == "accept"
    assert handle_entry.data["status"] == ["accepted", "handling"]
    assert contact.data == {"direction": "out", "channel": "phone", "text": "已回电"}
    assert note.data == {"text": "先查日志", "internal": True}
    assert escalation.data == {"level": 1, "reason": "客户不满", "automatic": False}


def test_sla_clock_counts_working_minutes_and_stands_still_while_waiting(world):
    issue = accept(world)  # normal: 240 min to respond, 2,700 to resolve
    clock = sla_clock(issue, at(3, 2, 10))
    assert (clock.response.minutes_left, clock.resolution.minutes_left) == (180, 2640)
    assert not clock.paused and not clock.overdue
    services.handle_issue(actor=world.handler, issue_id=issue.id, now=at(3, 2, 10))
    services.wait_issue(actor=world.handler, issue_id=issue.id, reason="等", now=at(3, 2, 11))
    db.session.commit()
    tuesday, wednesday = sla_clock(issue, at(3, 3, 12)), sla_clock(issue, at(3, 4, 17))
    assert tuesday.paused and tuesday.resolution.paused
    assert tuesday.response.met_at == at(3, 2, 10) and tuesday.response.minutes_left == 180
    assert not tuesday.response.paused  # met: nothing left to pause
    assert tuesday.resolution.minutes_left == wednesday.resolution.minutes_left == 2700 - 120
    services.handle_issue(actor=world.handler, issue_id=issue.id, now=at(3, 4, 17))
    db.session.commit()
    later = sla_clock(issue, at(3, 4, 18))
    assert not later.paused and later.resolution.minutes_left == 2700 - 180
    assert [c.target for c in sla_clocks(issue, at(3, 4, 18))] == ["response", "resolution"]


def test_sla_clock_goes_negative_when_overdue(world):
    issue = accept(world, priority="urgent")  # 60 / 540 minutes
    clock = sla_clock(issue, at(3, 3, 9, 30))  # a working day and a half hour later
    assert clock.response.minutes_left == 60 - 570 and clock.response.overdue
    assert clock.resolution.minutes_left == -30 and clock.overdue
    assert clock.resolution.due_at == at(3, 2, 18)
    assert sla_clock(issue, at(3, 2, 9) + timedelta(minutes=59)).response.minutes_left == 1


def test_issue_notifications_show_each_mails_state_newest_first(world, mailed_issue):
    from app.core.outbox_service import MAX_ATTEMPTS
    from app.issues.queries import issue_notifications

    rows = issue_notifications(mailed_issue)
    seen = [(r.kind.code, r.kind.level, r.recipient, r.state, r.attempts) for r in rows]
    assert seen == [
        ("escalation", 3, "qa@example.com", "pending", 0),
        ("escalation", 2, "rm@east.example.com", "failed", MAX_ATTEMPTS),
        ("escalation", 1, "om@sh.example.com", "bounced", 1),
    ]
    queued, failed, bounced = rows
    assert queued.next_attempt_at is None and queued.detail is None  # not tried yet
    assert "SMTPRecipientsRefused" in failed.detail and "mailbox unavailable" in failed.detail
    assert failed.next_attempt_at is None and failed.sent_at is None
    assert bounced.detail == "5.1.1 smtp; 550 5.1.1 user unknown"
    assert bounced.sent_at is not None
    assert all(mailed_issue.number in r.subject for r in rows)  # not the other issue's


def test_a_retried_mail_shows_its_last_error_and_next_try(world):
    from datetime import timedelta

    from app.core.outbox_service import send_due
    from app.db import utcnow
    from app.issues.queries import issue_notifications
    from tests.issue_fixtures import RefusingSender

    issue = accept(world)
    services.escalate_issue(actor=world.handler, issue_id=issue.id, reason="客户要求升级")
    db.session.commit()
    now = utcnow() + timedelta(seconds=1)
    send_due(now, sender=RefusingSender(refused=world.om.email))
    (row,) = issue_notifications(issue)
    assert (row.kind.code, row.state, row.attempts) == ("escalation", "pending", 1)
    assert "SMTPRecipientsRefused" in row.detail
    assert row.next_attempt_at > now


def test_issue_notifications_name_warnings_and_low_ratings(world):
    from app.issues.jobs import escalate
    from app.issues.queries import issue_notifications

    issue = accept(world, priority="urgent", owner_id=world.handler.id)  # Monday 09:00
    escalate(at(3, 2, 9, 50))  # 50 of the 60 minutes to the first response: the owner is warned
    services.resolve_issue(
        actor=world.handler,
        issue_id=issue.id,
        resolution="已修复",
        root_cause="design",
        responsible="研发",
        now=at(3, 2, 9, 55),
    )
    services.close_issue(actor=world.agent, issue_id=issue.id, rating=1, now=at(3, 2, 10))
    db.session.commit()
    rows = issue_notifications(issue)
    assert [(r.kind.code, r.kind.target, r.recipient, r.state) for r in rows] == [
        ("low_rating", None, "om@sh.example.com", "pending"),
        ("sla_warning", "response", "handler@sh.example.com", "pending"),
    ]
