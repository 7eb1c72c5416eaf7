"""The weekly monitoring: figures, boundaries in the office time zone, scope, bad input."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.core.scoping import Scope
from app.extensions import db
from app.issues.models import Escalation, Issue
from app.reports.periods import ReportScope, Week, resolve_scope
from app.reports.services import weekly_report
from app.voice.models import Voice
from tests.reports.conftest import NOW, W46_START, W47_END, W47_START

W47 = Week.parse("2026-W47")


def report_for(user, **kw):
    return weekly_report(resolve_scope(Scope.for_user(user), **kw), W47, NOW)


def test_week_edges_are_monday_to_sunday_in_the_office_time_zone(world, make_issue):
    make_issue(received_at=W47_START)  # Monday 00:00 in Shanghai: W47
    make_issue(received_at=W47_START - timedelta(seconds=1))  # Sunday 23:59:59 before: W46
    make_issue(received_at=W47_END - timedelta(seconds=1))  # Sunday 23:59:59: W47
    make_issue(received_at=W47_END)  # next Monday 00:00: W48
    db.session.commit()
    figures = report_for(world.om).figures
    assert (figures["new"].value, figures["new"].previous) == (2, 1)


def test_figures_beside_last_week(world, make_issue, make_escalation, make_reopen, make_voice):
    day = timedelta(days=1)
    # new this week 3, last week 2; one in GZ is not SH's
    a = make_issue(received_at=W47_START + day)
    b = make_issue(
        received_at=W47_START + 2 * day,
        first_response_at=W47_START + 2 * day + timedelta(hours=1),
        resolved_at=W47_START + 3 * day,
        root_cause="process",
    )
    c = make_issue(
        received_at=W47_START + 3 * day,
        first_response_at=W47_START + 3 * day + timedelta(hours=9),  # late
    )
    make_issue(
        received_at=W46_START + day,
        resolved_at=W46_START + 2 * day,
        closed_at=W47_START + day,
        rating=5,
    )
    make_issue(
        received_at=W46_START + 2 * day,
        resolved_at=W47_START + 5 * day,
        resolve_due_at=W46_START + 4 * day,
        closed_at=W47_START + 5 * day,
        rating=2,
    )
    make_issue(world.gz, received_at=W47_START + day)
    make_escalation(a, 1, W47_START + 2 * day)
    make_escalation(a, 2, W47_START + 3 * day)
    make_escalation(c, 1, W46_START + day)  # before c existed, but counted where it falls
    make_reopen(b, W47_START + 4 * day)
    first = make_voice(sentiment="negative")
    make_voice(channel="web", sentiment="negative", repeat_of=first)
    make_voice(channel="interview", kind="active", sentiment="positive")
    make_voice(occurred_at=W46_START + day)
    make_voice(world.gz)
    db.session.commit()

    f = report_for(world.om).figures
    assert (f["new"].value, f["new"].previous) == (3, 2)
    assert (f["closed"].value, f["closed"].previous) == (2, 0)
    assert (f["csat"].value, f["csat"].n) == (0.5, 2)
    assert f["average_rating"].value == 3.5
    # resolved this week: b on time, the W46 issue late
    assert (f["sla_resolution_rate"].value, f["sla_resolution_rate"].n) == (0.5, 2)
    assert (f["sla_response_rate"].value, f["sla_response_rate"].n) == (0.5, 2)
    # open at the end of W47: a and c; at the end of W46: the W46 issue resolved late, which
    # was past its deadline then
    assert (f["open"].value, f["open"].previous) == (2, 1)
    assert (f["overdue"].value, f["overdue"].previous) == (2, 1)  # a and c: 3 days each
    assert (f["escalated"].value, f["escalated"].previous) == (2, 1)
    assert (f["escalated_l2"].value, f["escalated_l1"].previous) == (1, 1)
    assert (f["reopened"].value, f["reopened"].previous) == (1, 0)
    assert (f["voices"].value, f["voices"].previous) == (3, 1)
    assert f["repeats"].value == 1
    assert f["new"].change == 1

    r = report_for(world.om)
    channels = {i.key: (i.value, i.previous) for i in r.voices_by_channel}
    assert channels["hotline"] == (1, 1) and channels["web"] == (1, 0)
    assert {i.key: i.value for i in r.voices_by_kind} == {"passive": 2, "active": 1}
    assert {i.key: i.value for i in r.voices_by_sentiment}["negative"] == 2
    assert sorted(i.key for i in r.root_causes) == ["none", "process"]  # none: not given
    assert {i.key: i.value for i in r.ratings} == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}
    assert r.categories[0].key == "product_quality" and r.categories[0].value == 3
    assert r.backlog[-1].period == "2026-W47" and r.backlog[-1].open == 2
    assert r.backlog[-1].new == 3 and r.backlog[-2].new == 2
    assert {i.key: i.value for i in r.ageing}["d3_7"] == 2


def test_overdue_and_escalated_issues_to_discuss(world, make_issue, make_escalation):
    late = make_issue(
        received_at=W46_START, resolve_due_at=W46_START + timedelta(days=2), title="<b>late</b>"
    )
    escalated = make_issue(
        received_at=W47_START + timedelta(days=1),
        escalation_level=1,
        status="escalated",
        resolve_due_at=W47_END + timedelta(days=1),
    )
    make_escalation(escalated, 1, W47_START + timedelta(days=2))
    make_issue(received_at=W47_START + timedelta(days=1), resolve_due_at=W47_END)  # neither
    make_issue(world.gz, received_at=W46_START, resolve_due_at=W46_START + timedelta(days=1))
    db.session.commit()
    lines = report_for(world.om).discuss
    assert [i.id for i in lines] == [late.id, escalated.id]
    assert lines[0].overdue and not lines[1].overdue


def test_a_week_with_no_data_is_zeros(world):
    r = report_for(world.rm)
    for name in ("new", "closed", "open", "overdue", "escalated", "reopened", "voices"):
        assert (r.figures[name].value, r.figures[name].previous) == (0, 0), name
    assert r.figures["csat"].value is None and r.figures["csat"].n == 0
    assert r.discuss == [] and r.categories == []
    assert all(p.open == 0 for p in r.backlog) and len(r.backlog) == 12
    assert [row.code for row in r.rows] == ["SH"]


def test_region_has_one_row_per_office_and_company_one_per_region(world, make_office, make_issue):
    hz = make_office("HZ", region=world.east)
    make_issue(received_at=W47_START + timedelta(hours=5))
    make_issue(hz, received_at=W47_START + timedelta(hours=5), customer=world.customer)
    make_issue(world.gz, received_at=W47_START + timedelta(hours=5))
    db.session.commit()
    region = report_for(world.rm)
    assert [(r.code, r.figures["new"].value) for r in region.rows] == [("HZ", 1), ("SH", 1)]
    assert region.figures["new"].value == 2
    company = report_for(world.qa)
    assert [(r.code, r.figures["new"].value) for r in company.rows] == [("EAST", 2), ("SOUTH", 1)]
    assert company.figures["new"].value == 3


# --- totals equal direct database counts --------------------------------------------------


def _count(stmt):
    return db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))


def _direct(office_ids, start, end):
    """Each figure counted straight from the tables, without the bucketing helper."""
    mine = Issue.office_id.in_(office_ids)
    rows = sa.select(Issue.id).where(mine)

    def between(col):
        return sa.and_(col >= start, col < end)

    unresolved = sa.or_(Issue.resolved_at.is_(None), Issue.resolved_at >= end)
    return {
        "new": _count(rows.where(between(Issue.received_at))),
        "closed": _count(rows.where(between(Issue.closed_at))),
        "open": _count(rows.where(Issue.received_at < end, unresolved)),
        "overdue": _count(
            rows.where(Issue.received_at < end, unresolved, Issue.resolve_due_at < end)
        ),
        "escalated": _count(
            sa.select(Escalation.id).join(Issue).where(mine, between(Escalation.at))
        ),
        "reopened": _count(
            sa.select(AuditEvent.id).where(
                AuditEvent.office_id.in_(office_ids),
                AuditEvent.action == "reopen",
                between(AuditEvent.at),
            )
        ),
        "voices": _count(
            sa.select(Voice.id).where(Voice.office_id.in_(office_ids), between(Voice.occurred_at))
        ),
        "repeats": _count(
            sa.select(Voice.id).where(
                Voice.office_id.in_(office_ids),
                between(Voice.occurred_at),
                Voice.repeat_of_id.is_not(None),
            )
        ),
        "rated": _count(rows.where(between(Issue.closed_at), Issue.rating.is_not(None))),
        "satisfied": _count(rows.where(between(Issue.closed_at), Issue.rating >= 4)),
        "resolved": _count(rows.where(between(Issue.resolved_at))),
        "resolved_on_time": _count(
            rows.where(between(Issue.resolved_at), Issue.resolved_at <= Issue.resolve_due_at)
        ),
    }


def test_totals_equal_direct_counts(
    world, make_office, make_issue, make_escalation, make_reopen, make_voice
):
    rng = random.Random(47)
    hz = make_office("HZ", region=world.east)
    offices = [world.sh, hz, world.gz]
    span = (W47_END - W46_START - timedelta(days=21)).total_seconds()
    origin = W46_START - timedelta(days=21)
    voices = []
    for _ in range(240):
        office = rng.choice(offices)
        received = origin + timedelta(seconds=rng.uniform(0, span + 86400 * 7))
        resolved = received + timedelta(hours=rng.uniform(1, 400)) if rng.random() < 0.7 else None
        closed = (
            resolved + timedelta(hours=rng.uniform(0, 50))
            if resolved and rng.random() < 0.7
            else None
        )
        issue = make_issue(
            office,
            received_at=received,
            resolved_at=resolved,
            closed_at=closed,
            rating=rng.randint(1, 5) if closed and rng.random() < 0.8 else None,
            resolve_due_at=received + timedelta(hours=rng.uniform(10, 200)),
            first_response_at=received + timedelta(hours=rng.uniform(0.1, 8)),
            customer=world.customer,
        )
        if rng.random() < 0.2:
            make_escalation(issue, 1, received + timedelta(hours=rng.uniform(1, 100)))
        if rng.random() < 0.1:
            make_reopen(issue, received + timedelta(hours=rng.uniform(1, 300)))
        at = origin + timedelta(seconds=rng.uniform(0, span + 86400 * 7))
        voices.append(
            make_voice(
                office, at, repeat_of=rng.choice(voices) if voices and rng.random() < 0.3 else None
            )
        )
    db.session.commit()

    for user, kw, ids in [
        (world.om, {}, [world.sh.id]),
        (world.rm, {"office": "HZ"}, [hz.id]),
        (world.rm, {}, [world.sh.id, hz.id]),
        (world.qa, {"region": "SOUTH"}, [world.gz.id]),
        (world.qa, {}, [o.id for o in offices]),
    ]:
        r = report_for(user, **kw)
        for when, start, end in (("value", W47_START, W47_END), ("previous", W46_START, W47_START)):
            direct = _direct(ids, start, end)
            for name in (
                "new",
                "closed",
                "open",
                "overdue",
                "escalated",
                "reopened",
                "voices",
                "repeats",
            ):
                assert getattr(r.figures[name], when) == direct[name], (kw, when, name)
            csat = r.figures["csat"]
            assert (csat.n if when == "value" else csat.n_previous) == direct["rated"]
            if direct["rated"]:
                assert getattr(csat, when) == round(direct["satisfied"] / direct["rated"], 4)
            sla = r.figures["sla_resolution_rate"]
            if direct["resolved"]:
                assert getattr(sla, when) == round(
                    direct["resolved_on_time"] / direct["resolved"], 4
                )
        if r.rows:  # the rows add up to the total
            for name in ("new", "closed", "open", "overdue", "escalated", "voices"):
                assert sum(row.figures[name].value for row in r.rows) == r.figures[name].value
        assert r.backlog[-1].open == r.figures["open"].value
        assert r.backlog[-2].open == r.figures["open"].previous
        assert sum(i.value for i in r.ageing) == r.figures["open"].value


# --- scope and bad input ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "kw"),
    [
        ("om", {"office": "GZ"}),
        ("om", {"region": "EAST"}),
        ("rm", {"office": "GZ"}),
        ("rm", {"region": "SOUTH"}),
        ("qa", {"office": "NOPE"}),
        ("qa", {"region": "NOPE"}),
    ],
)
def test_out_of_scope_or_unknown_is_404(world, client, login_as, api_headers, who, kw):
    login_as(getattr(world, who))
    assert client.get("/reports/weekly", query_string={**kw, "week": "2026-W47"}).status_code == 404
    response = client.get(
        "/api/v1/reports/weekly", query_string={**kw, "week": "2026-W47"}, headers=world.h[who]
    )
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("week", ["2026-47", "2026-W54", "2026-W00", "W47", "2026-W4x", "<x>"])
def test_malformed_week_is_422(world, client, login_as, week):
    response = client.get(
        "/api/v1/reports/weekly", query_string={"week": week}, headers=world.h["om"]
    )
    assert response.status_code == 422
    assert "week" in response.get_json()["error"]["fields"]
    login_as(world.om)
    assert client.get("/reports/weekly", query_string={"week": week}).status_code == 422


def test_non_managers_get_403(world, client, login_as):
    assert client.get("/api/v1/reports/weekly", headers=world.h["agent"]).status_code == 403
    login_as(world.agent)
    assert client.get("/reports/weekly").status_code == 403


def test_default_scope_and_week(world):
    assert resolve_scope(Scope.for_user(world.om)) == ReportScope(
        "office", "SH", world.sh.name, resolve_scope(Scope.for_user(world.om)).offices
    )
    assert resolve_scope(Scope.for_user(world.rm)).key == "region:EAST"
    assert resolve_scope(Scope.for_user(world.qa)).key == "company"
    # 2026-11-23 00:30 in Shanghai is Monday of W48: the last complete week is W47
    assert Week.last_complete(W47_END + timedelta(minutes=30), "Asia/Shanghai").key == "2026-W47"
    assert Week.last_complete(W47_END - timedelta(minutes=30), "Asia/Shanghai").key == "2026-W46"
