"""Reports at scale: 1,000,000 issues, 1,000,000 voices and 200,000 survey answers over two
years in six offices.

Measures, beside bare SQL references in the same run on the same database:
- an office's weekly monitoring (the service, the HTML page with its plotly figures, the API);
- the company's monthly quality review (service, page, API);
- the same page and API requests served by one gunicorn worker, and that worker's peak memory
  (VmHWM from /proc) after serving them.
Targets: weekly report ≤ 300 ms, monthly review ≤ 3 s, worker peak ≤ 150 MiB.
The survey answers: 40,000 responses of five answers (four rated indicators and an NPS) to
monthly project-survey waves per office, plus quarterly third-party waves scoring us and two
competitors; the monthly review's survey sections and the survey measurement read them.

    .venv/bin/python bench/reports.py [--n 1000000] [--voices 1000000] [--answers 200000]
        [--repeat 20] [--no-pg] [--keep DIR]

--keep DIR loads into DIR/reports.db and the PostgreSQL database named in DIR/pg-database and
keeps them; a later run with the same DIR measures them again without loading (after applying
any new migration), so the long load can run before the code being measured is final.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (
    kept_databases,
    make_app,
    scratch_databases,
    summary,
    timed,
)

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wednesday of 2026-W48
WEEK, MONTH = "2026-W47", "2026-10"
PASSWORD = "bench-password-2026"  # noqa: S105  (scratch database)
DEPARTMENTS = ["服务部", "交付部", "研发部", "物流部", "销售部", "质量部", "备件中心", "培训中心"]
CHANNELS = [
    ("hotline", "passive"),
    ("service_request", "passive"),
    ("web", "passive"),
    ("return", "passive"),
    ("interview", "active"),
    ("survey", "active"),
    ("observation", "active"),
]
BATCH = 20_000
INDICATORS = ("quality", "speed", "attitude", "docs")
COMPETITORS = ("竞品甲", "竞品乙")


def _org(app):
    from app.auth.services import create_user
    from app.extensions import db
    from app.issues.reference import ensure_reference_data
    from app.org.services import create_office, create_region

    with app.app_context():
        for region in ("EAST", "SOUTH"):
            create_region(code=region, name=region, actor=None)
        for i in range(6):
            create_office(
                code=f"O{i}", name=f"代表处 {i}", region_code=("EAST", "SOUTH")[i % 2], actor=None
            )
        create_user(
            email="om@bench.example.com",
            name="主管",
            role="office_manager",
            password=PASSWORD,
            office_code="O0",
        )
        create_user(
            email="qa@bench.example.com", name="质量部", role="quality_admin", password=PASSWORD
        )
        ensure_reference_data()
        db.session.commit()


def _issue_rows(rng, k, n, office_ids, customers, categories, causes, start, span):
    received = start + timedelta(seconds=span * k / n)
    office_index = rng.randrange(6)
    resolved = closed = first = None
    status = "handling"
    age = (NOW - received).total_seconds() / 86400
    if age > 12 or rng.random() < 0.5:
        first = received + timedelta(hours=rng.uniform(0.2, 8))
        resolved = received + timedelta(days=rng.uniform(0.2, 9))
        if resolved < NOW:
            status = "resolved"
            if rng.random() < 0.9:
                closed = resolved + timedelta(hours=rng.uniform(1, 60))
                status = "closed" if closed < NOW else "resolved"
                closed = closed if status == "closed" else None
        else:
            resolved = None
    return {
        "number": f"O{office_index}-{k:08d}",
        "office_id": office_ids[office_index],
        "customer_id": customers[office_index][rng.randrange(len(customers[office_index]))],
        "title": "设备故障",
        "description": "",
        "channel": "hotline",
        "category_id": rng.choice(categories),
        "priority": "normal",
        "status": status,
        "escalation_level": 0,
        "received_at": received,
        "response_due_at": received + timedelta(hours=6),
        "resolve_due_at": received + timedelta(days=5),
        "response_target_minutes": 240,
        "resolve_target_minutes": 2700,
        "first_response_at": first,
        "resolved_at": resolved,
        "closed_at": closed,
        "rating": rng.choice((1, 2, 3, 4, 4, 5, 5, 5)) if closed else None,
        "root_cause_id": rng.choice(causes) if resolved else None,
        "responsible": rng.choice(DEPARTMENTS) if resolved else None,
        "reopen_count": 0,
        "version": 1,
        "created_at": received,
        "updated_at": received,
    }


def load(app, n: int, n_voices: int) -> None:
    from app.core.audit import AuditEvent
    from app.customers.models import Customer
    from app.extensions import db
    from app.issues.models import Category, Escalation, Issue, RootCause
    from app.org.models import Office
    from app.voice.models import Voice

    _org(app)
    rng = random.Random(7)
    with app.app_context():
        office_ids = list(db.session.scalars(sa.select(Office.id).order_by(Office.code)))
        categories = list(db.session.scalars(sa.select(Category.id)))
        causes = list(db.session.scalars(sa.select(RootCause.id)))
        customers = []
        for office_id in office_ids:
            customers.append(
                list(
                    db.session.scalars(
                        sa.insert(Customer).returning(Customer.id),
                        [
                            {
                                "name": f"客户{office_id}-{i}",
                                "office_id": office_id,
                                "tier": "C",
                                "notes": "",
                                "version": 1,
                            }
                            for i in range(3000)
                        ],
                    )
                )
            )
        db.session.commit()
        start, span = NOW - timedelta(days=730), 730 * 86400
        with click.progressbar(length=n, label="loading issues") as bar:
            for first in range(0, n, BATCH):
                rows = [
                    _issue_rows(rng, k, n, office_ids, customers, categories, causes, start, span)
                    for k in range(first, min(n, first + BATCH))
                ]
                ids = list(range(first + 1, first + 1 + len(rows)))
                for issue_id, row in zip(ids, rows, strict=True):
                    row["id"] = issue_id
                db.session.execute(sa.insert(Issue.__table__), rows)
                escalations, reopens = [], []
                for issue_id, row in zip(ids, rows, strict=True):
                    if rng.random() < 0.04:
                        at = row["received_at"] + timedelta(days=rng.uniform(0.1, 3))
                        for level in range(1, rng.choice((2, 2, 3, 4))):
                            escalations.append(
                                {
                                    "issue_id": issue_id,
                                    "level": level,
                                    "reason": "SLA",
                                    "automatic": True,
                                    "at": at + timedelta(hours=level),
                                }
                            )
                    if row["closed_at"] and rng.random() < 0.02:
                        reopens.append(
                            {
                                "actor_id": None,
                                "entity_type": "issue",
                                "entity_id": issue_id,
                                "action": "reopen",
                                "changes": {},
                                "office_id": row["office_id"],
                                "at": row["closed_at"] + timedelta(hours=5),
                            }
                        )
                if escalations:
                    db.session.execute(sa.insert(Escalation.__table__), escalations)
                if reopens:
                    db.session.execute(sa.insert(AuditEvent.__table__), reopens)
                db.session.commit()
                bar.update(len(rows))
        with click.progressbar(length=n_voices, label="loading voices") as bar:
            for first in range(0, n_voices, BATCH):
                rows = []
                for k in range(first, min(n_voices, first + BATCH)):
                    channel, kind = rng.choice(CHANNELS)
                    rows.append(
                        {
                            "id": k + 1,
                            "reference": f"V{k:09d}",
                            "channel": channel,
                            "kind": kind,
                            "office_id": rng.choice(office_ids),
                            "occurred_at": start + timedelta(seconds=span * k / n_voices),
                            "text": "客户反映设备噪音偏大",
                            "sentiment": rng.choice(("negative", "neutral", "positive", None)),
                            "details": {},
                            "repeat_of_id": rng.randrange(max(1, k - 500), k + 1)
                            if k > 0 and rng.random() < 0.15
                            else None,
                            "created_at": start + timedelta(seconds=span * k / n_voices),
                        }
                    )
                db.session.execute(sa.insert(Voice.__table__), rows)
                db.session.commit()
                bar.update(len(rows))
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def settle(db) -> None:
    """What autovacuum does to freshly loaded tables before anyone reads a report from them:
    statistics, and on PostgreSQL the visibility map without which an index-only scan still
    visits every heap page (a loaded but never vacuumed database ran the month's bare root-cause
    query 2.1 times slower)."""
    if db.engine.dialect.name == "postgresql":
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
    else:
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def _survey(qa, kind: str, title: str):
    from app.surveys import services

    questions = [
        {"key": key, "type": "rating5", "text": f"{key}?", "indicator": key, "weight": 25}
        for key in INDICATORS
    ]
    questions.append({"key": "nps", "type": "nps", "text": "推荐?"})
    survey = services.create_survey(
        actor=qa, data={"title": title, "kind": kind, "questions": questions}
    )
    services.activate_survey(actor=qa, survey_id=survey.id)
    return survey


def load_surveys(app, n_answers: int) -> None:
    """n_answers / 5 responses to monthly project waves per office over two years (a contact per
    response), and quarterly third-party waves of 300 respondents for us and each competitor."""
    from app.auth.models import User
    from app.contacts.models import Contact
    from app.customers.models import Customer
    from app.extensions import db
    from app.org.models import Office
    from app.surveys.models import Answer, Campaign, Invitation, Response, ThirdPartyAnswer

    rng = random.Random(11)
    per_response = len(INDICATORS) + 1
    responses = n_answers // per_response
    with app.app_context():
        qa = db.session.scalars(sa.select(User).where(User.email == "qa@bench.example.com")).one()
        project = _survey(qa, "project", "项目满意度")
        third = _survey(qa, "third_party", "第三方满意度")
        questions = {q.key: (q.id, q.type, q.indicator_id) for q in project.questions}
        tp_questions = {q.key: (q.id, q.type, q.indicator_id) for q in third.questions}
        project_id, third_id = project.id, third.id
        db.session.commit()
        offices = list(db.session.scalars(sa.select(Office.id).order_by(Office.code)))
        customers = {
            o: list(
                db.session.scalars(sa.select(Customer.id).where(Customer.office_id == o).limit(500))
            )
            for o in offices
        }
        start = NOW - timedelta(days=730)
        months = [(start.year * 12 + start.month - 1 + i) for i in range(25)]
        campaigns: dict[tuple[int, int], int] = {}
        for o in offices:
            for m in months:
                at = datetime(m // 12, m % 12 + 1, 1, tzinfo=UTC)
                campaigns[(o, m)] = db.session.scalar(
                    sa.insert(Campaign)
                    .values(
                        survey_id=project_id,
                        name=f"O{o} {m // 12}-{m % 12 + 1:02d}",
                        office_id=o,
                        audience={},
                        send_at=at,
                        reminders=0,
                        status="closed",
                        last_wave="once",
                        created_at=at,
                        updated_at=at,
                    )
                    .returning(Campaign.id)
                )
        db.session.commit()
        span = 730 * 86400
        with click.progressbar(length=responses, label="loading survey answers") as bar:
            step = BATCH // per_response
            for first in range(0, responses, step):
                count = min(step, responses - first)
                contacts, invitations, rows = [], [], []
                for k in range(first, first + count):
                    office = offices[rng.randrange(len(offices))]
                    at = start + timedelta(seconds=span * k / responses)
                    contacts.append(
                        {
                            "customer_id": rng.choice(customers[office]),
                            "name": f"联系人{k}",
                            "email": f"c{k}@bench.example.com",
                            "language": "zh",
                            "active": True,
                            "created_at": at,
                            "updated_at": at,
                        }
                    )
                    campaign = campaigns[(office, at.year * 12 + at.month - 1)]
                    invitations.append((office, campaign, at))
                contact_ids = list(
                    db.session.scalars(sa.insert(Contact).returning(Contact.id), contacts)
                )
                invitation_ids = list(
                    db.session.scalars(
                        sa.insert(Invitation).returning(Invitation.id),
                        [
                            {
                                "purpose": "survey",
                                "campaign_id": campaign,
                                "survey_id": project_id,
                                "contact_id": contact,
                                "office_id": office,
                                "wave": "once",
                                "created_at": at - timedelta(days=2),
                                "sent_at": at - timedelta(days=2),
                                "expires_at": at + timedelta(days=30),
                                "responded_at": at,
                            }
                            for contact, (office, campaign, at) in zip(
                                contact_ids, invitations, strict=True
                            )
                        ],
                    )
                )
                response_ids = list(
                    db.session.scalars(
                        sa.insert(Response).returning(Response.id),
                        [
                            {
                                "invitation_id": invitation,
                                "campaign_id": campaign,
                                "survey_id": project_id,
                                "contact_id": contact,
                                "office_id": office,
                                "language": "zh",
                                "submitted_at": at,
                            }
                            for invitation, contact, (office, campaign, at) in zip(
                                invitation_ids, contact_ids, invitations, strict=True
                            )
                        ],
                    )
                )
                for response, (_office, campaign, _at) in zip(
                    response_ids, invitations, strict=True
                ):
                    for question, qtype, indicator in questions.values():
                        if rng.random() < 0.03:
                            continue  # a skipped question is no answer at all
                        value = (
                            rng.choice((3, 4, 4, 5, 5, 2, 5))
                            if qtype == "rating5"
                            else rng.choice((10, 9, 9, 8, 7, 6, 3, 10))
                        )
                        rows.append(
                            {
                                "response_id": response,
                                "question_id": question,
                                "campaign_id": campaign,
                                "question_type": qtype,
                                "indicator_id": indicator,
                                "value": value,
                            }
                        )
                db.session.execute(sa.insert(Answer.__table__), rows)
                db.session.commit()
                bar.update(count)
        for quarter in range(8):
            at = start + timedelta(days=91 * quarter + 45)
            wave = db.session.scalar(
                sa.insert(Campaign)
                .values(
                    survey_id=third_id,
                    name=f"第三方 Q{quarter + 1}",
                    office_id=None,
                    audience={},
                    send_at=at,
                    reminders=0,
                    status="closed",
                    created_at=at,
                    updated_at=at,
                )
                .returning(Campaign.id)
            )
            rows = []
            for company in (None, *COMPETITORS):
                for r in range(300):
                    for question, qtype, indicator in tp_questions.values():
                        rows.append(
                            {
                                "campaign_id": wave,
                                "row_key": f"{company or 'ours'}-{r}",
                                "company": company,
                                "question_id": question,
                                "question_type": qtype,
                                "indicator_id": indicator,
                                "value": rng.randint(2, 5)
                                if qtype == "rating5"
                                else rng.randint(4, 10),
                            }
                        )
            db.session.execute(sa.insert(ThirdPartyAnswer.__table__), rows)
            db.session.commit()
        settle(db)


def _login(client, user):
    """A server-side session row and its cookie, as the login page would make them."""
    from app.auth.sessions import start_session
    from app.extensions import db

    key = start_session(user)
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = key
        session["_fresh"] = True


def _ok(app, client, path, headers=None):
    """GET in its own app context, as a real request has (flask-login caches the user in g)."""
    with app.app_context():
        response = client.get(path, headers=headers or {})
    assert response.status_code == 200, (path, response.status_code)
    return response


def measure_in_process(app, label: str, repeat: int) -> None:
    from app.auth.models import User
    from app.auth.tokens import issue_token
    from app.core.scoping import Scope
    from app.extensions import db
    from app.reports.periods import Month, Week, resolve_review_scope, resolve_scope
    from app.reports.review import monthly_review
    from app.reports.services import weekly_report
    from app.reports.surveys import survey_sections as survey_sections_of
    from app.reports.surveys import third_party_sections

    with app.app_context():
        om = db.session.scalars(sa.select(User).where(User.email == "om@bench.example.com")).one()
        qa = db.session.scalars(sa.select(User).where(User.email == "qa@bench.example.com")).one()
        office_scope = resolve_scope(Scope.for_user(om))
        company = resolve_review_scope(Scope.for_user(qa))
        week, month = Week.parse(WEEK), Month.parse(MONTH)
        _, om_token = issue_token(om)
        _, qa_token = issue_token(qa)
        db.session.commit()
        office_id = office_scope.office_ids[0]
        w_start, w_end = week.start("Asia/Shanghai"), week.end("Asia/Shanghai")
        m_start, m_end = month.start("Asia/Shanghai"), month.end("Asia/Shanghai")
        raw = db.engine.raw_connection()
        cur = raw.cursor()
        p = "?" if db.engine.dialect.name == "sqlite" else "%s"
        sqlite = db.engine.dialect.name == "sqlite"

        def bind(dt):
            return dt.replace(tzinfo=None) if sqlite else dt

        def ref_week():
            cur.execute(
                f"SELECT count(*) FROM issues WHERE office_id = {p} AND received_at >= {p}"
                f" AND received_at < {p}",
                (office_id, bind(w_start), bind(w_end)),
            )
            cur.fetchall()

        def ref_month():
            cur.execute(
                f"SELECT root_cause_id, count(*) FROM issues WHERE resolved_at >= {p} AND"
                f" resolved_at < {p} GROUP BY root_cause_id",
                (bind(m_start), bind(m_end)),
            )
            cur.fetchall()

        def weekly_service():
            weekly_report(office_scope, week, NOW)
            db.session.rollback()

        def monthly_service():
            monthly_review(company, month, NOW)
            db.session.rollback()

        total = db.session.scalar(sa.select(sa.func.count()).select_from(sa.table("issues")))
        voices = db.session.scalar(sa.select(sa.func.count()).select_from(sa.table("voices")))
        answers = db.session.scalar(
            sa.select(sa.func.count()).select_from(sa.table("survey_answers"))
        )
        results = [
            ("reference: count an office's week", timed(ref_week, repeat)),
            ("weekly report, office (service)", timed(weekly_service, repeat)),
        ]
        client = app.test_client()
        _login(client, om)
        results.append(
            (
                "weekly report, office (page)",
                timed(lambda: _ok(app, client, f"/reports/weekly?week={WEEK}"), repeat),
            )
        )
        api = app.test_client()
        results.append(
            (
                "weekly report, office (API)",
                timed(
                    lambda: _ok(
                        app,
                        api,
                        f"/api/v1/reports/weekly?week={WEEK}",
                        {"Authorization": f"Bearer {om_token}"},
                    ),
                    repeat,
                ),
            )
        )

        def survey_sections():
            survey_sections_of(company, month)
            third_party_sections(company, month)
            db.session.rollback()

        few = max(3, repeat // 4)
        results += [
            ("reference: month's root causes, all", timed(ref_month, few)),
            ("monthly review, company (service)", timed(monthly_service, few)),
            ("  of which the survey sections", timed(survey_sections, few)),
        ]
        qa_client = app.test_client()
        _login(qa_client, qa)
        results.append(
            (
                "monthly review, company (page)",
                timed(lambda: _ok(app, qa_client, f"/reports/quality?month={MONTH}"), few),
            )
        )
        results.append(
            (
                "monthly review, company (API)",
                timed(
                    lambda: _ok(
                        app,
                        api,
                        f"/api/v1/reports/quality?month={MONTH}",
                        {"Authorization": f"Bearer {qa_token}"},
                    ),
                    few,
                ),
            )
        )
        results.append(
            (
                "survey measurement, company (API)",
                timed(
                    lambda: _ok(
                        app,
                        api,
                        f"/api/v1/surveys/measurement?period={MONTH}&segment=office",
                        {"Authorization": f"Bearer {qa_token}"},
                    ),
                    few,
                ),
            )
        )
        raw.close()
    print(f"{label:<11} {total:,} issues, {voices:,} voices, {answers:,} survey answers")
    for name, samples in results:
        print(f"{label:<11} {name:<38} {summary(samples)}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure_gunicorn(url: str, label: str, repeat: int) -> None:
    """One sync worker serves the pages and the API; its peak RSS is read afterwards."""
    import requests

    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "SCHEDULER_ENABLED": ""}
    proc = subprocess.Popen(
        [
            GUNICORN,
            "-w",
            "1",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--timeout",
            "120",
            "app.wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        base = f"http://127.0.0.1:{port}"
        workers = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(proc.pid)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        worker = int(workers[0])
        rss_start = _rss(worker, "VmRSS")
        sessions = {}
        for email in ("om@bench.example.com", "qa@bench.example.com"):
            s = requests.Session()
            page = s.get(f"{base}/login").text
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
            r = s.post(
                f"{base}/login",
                data={"email": email, "password": PASSWORD, "csrf_token": token},
                allow_redirects=False,
            )
            assert r.status_code == 302, r.status_code
            sessions[email] = s

        def get(session, path):
            r = session.get(base + path)
            assert r.status_code == 200, (path, r.status_code)

        weekly = timed(
            lambda: get(sessions["om@bench.example.com"], f"/reports/weekly?week={WEEK}"), repeat
        )
        monthly = timed(
            lambda: get(sessions["qa@bench.example.com"], f"/reports/quality?month={MONTH}"),
            max(3, repeat // 4),
        )
        xlsx = timed(
            lambda: get(
                sessions["qa@bench.example.com"], f"/reports/quality?month={MONTH}&format=xlsx"
            ),
            2,
        )
        peak = _rss(worker, "VmHWM")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    print(f"{label:<11} gunicorn worker: weekly page, office       {summary(weekly)}")
    print(f"{label:<11} gunicorn worker: monthly page, company     {summary(monthly)}")
    print(f"{label:<11} gunicorn worker: monthly XLSX, company     {summary(xlsx)}")
    print(
        f"{label:<11} gunicorn worker memory: at start {rss_start / 1024:6.1f} MiB, "
        f"peak {peak / 1024:6.1f} MiB"
    )


def _rss(pid: int, field: str) -> int:
    """kB of `field` (VmRSS, VmHWM) in /proc/<pid>/status."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--voices", type=int, default=1_000_000)
    parser.add_argument("--answers", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="one engine only")
    parser.add_argument("--keep", type=Path, metavar="DIR")
    parser.add_argument("--load-only", action="store_true", help="with --keep: load, measure later")
    args = parser.parse_args()
    print(
        f"reports, {args.n:,} issues, {args.voices:,} voices and {args.answers:,} survey answers"
        f" over two years, six offices; week {WEEK}, month {MONTH}; {datetime.now(UTC).date()}"
    )
    databases = (
        kept_databases(args.keep, not args.no_pg, stem="reports")
        if args.keep
        else scratch_databases(include_pg=not args.no_pg)
    )
    with databases as urls:
        for label, url in urls:
            if args.only and label != args.only:
                continue
            app = make_app(url)
            marker = args.keep / f"loaded-{label}" if args.keep else None
            if marker is not None and marker.exists():
                print(f"{label:<11} kept database: {marker.read_text().strip()}")
            else:
                started = time.perf_counter()
                load(app, args.n, args.voices)
                load_surveys(app, args.answers)
                print(f"{label:<11} loaded in {time.perf_counter() - started:.0f} s")
                if marker is not None:
                    marker.write_text(
                        f"{args.n:,} issues, {args.voices:,} voices, {args.answers:,} answers"
                    )
            if args.load_only:
                continue
            measure_in_process(app, label, args.repeat)
            with app.app_context():
                from app.extensions import db

                db.engine.dispose()
            measure_gunicorn(url, label, args.repeat)


if __name__ == "__main__":
    main()
