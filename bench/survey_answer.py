"""Survey answering and results.

1. The answer page over HTTP under gunicorn (2 workers) with 8 concurrent clients, each
   customer opening a fresh link (GET /s/<token> → cookie), loading the page (GET /s/) and
   sending the answers (POST /s/<token>, JSON), beside the floor (bench/floor_app.py: a bare
   Flask + SQLAlchemy endpoint inserting one row) measured the same way in the same run.
2. A campaign's results (invited, responded, NPS, CSAT, weighted index with margins) at
   200,000 answers, beside the bare GROUP BY the figures rest on.

    .venv/bin/python bench/survey_answer.py [--seconds 10] [--clients 8] [--answers 200000]
        [--no-pg]
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import re
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa

from bench._common import make_app, percentile, scratch_databases, summary, timed
from bench.issue_intake import load, serve, stop

DESIGN = {
    "title": "项目交付满意度调查",
    "kind": "project",
    "questions": [
        {
            "key": "quality",
            "type": "rating5",
            "text": "交付质量",
            "indicator": "quality",
            "weight": 60,
        },
        {"key": "speed", "type": "rating5", "text": "响应速度", "indicator": "speed", "weight": 40},
        {"key": "nps", "type": "nps", "text": "推荐意愿"},
        {"key": "channel", "type": "choice", "text": "渠道", "options": ["展会", "朋友"]},
        {"key": "comment", "type": "text", "text": "其他意见", "required": False},
    ],
}
ANSWERS = {"quality": 5, "speed": 4, "nps": 9, "channel": "展会", "comment": "很好"}


def prepare(url: str, links: int) -> tuple[list[str], int]:
    """Organisation, a quality admin, an active survey, `links` contacts invited to one
    campaign. Returns (the links' tokens, campaign id)."""
    from app.auth.services import create_user
    from app.contacts.models import Contact
    from app.core.outbox import OutboxMessage
    from app.customers.services import create_customer
    from app.db import utcnow
    from app.extensions import db
    from app.issues.reference import ensure_reference_data
    from app.org.services import create_office, create_region
    from app.surveys import campaigns, services
    from app.surveys.invitations import invite_audience

    app = make_app(url)
    with app.app_context():
        create_region(code="EAST", name="华东", actor=None)
        create_office(code="SH", name="上海", region_code="EAST", actor=None)
        qa = create_user(
            email="qa@example.com", name="质量", role="quality_admin", password="bench-password"
        )
        agent = create_user(
            email="a@example.com",
            name="坐席",
            role="agent",
            password="bench-password",
            office_code="SH",
        )
        ensure_reference_data()
        customer = create_customer(actor=agent, name="压测客户", office_code=None)
        db.session.add_all(
            Contact(customer_id=customer.id, name=f"联系人{n}", email=f"c{n}@example.com")
            for n in range(links)
        )
        survey = services.create_survey(actor=qa, data=DESIGN)
        services.activate_survey(actor=qa, survey_id=survey.id)
        now = utcnow()
        campaign = campaigns.create_campaign(
            actor=qa,
            survey_id=survey.id,
            name="压测",
            audience={"office": "SH"},
            close_at=now + timedelta(days=7),
            now=now,
        )
        invite_audience(campaign, "once", now)
        db.session.commit()
        tokens = [
            re.search(r"/s/([A-Za-z0-9_-]+)", body).group(1)  # type: ignore[union-attr]
            for body in db.session.scalars(sa.select(OutboxMessage.body))
        ]
        campaign_id = campaign.id
        db.engine.dispose()
    return tokens, campaign_id


def answer_load(port: int, tokens: list[str], seconds: float, clients: int) -> dict[str, object]:
    """Each client takes fresh links: open (303 + cookie), page (200), answers (200)."""
    lock = threading.Lock()
    pool = list(tokens)
    lat: dict[str, list[float]] = {"open": [], "page": [], "submit": []}
    errors = [0]
    deadline = time.perf_counter() + seconds

    def request(
        method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], float]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        started = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        conn.close()
        return response.status, dict(response.getheaders()), (time.perf_counter() - started) * 1000

    def client() -> None:
        mine: dict[str, list[float]] = {"open": [], "page": [], "submit": []}
        while time.perf_counter() < deadline:
            with lock:
                if not pool:
                    break
                token = pool.pop()
            status, headers, ms = request("GET", f"/s/{token}", None, {})
            if status != 303:
                errors[0] += 1
                continue
            mine["open"].append(ms)
            cookie = headers.get("Set-Cookie", "").split(";", 1)[0]
            status, _, ms = request("GET", "/s/", None, {"Cookie": cookie})
            if status != 200:
                errors[0] += 1
                continue
            mine["page"].append(ms)
            body = json.dumps({"answers": ANSWERS}).encode()
            status, _, ms = request(
                "POST", f"/s/{token}", body, {"Content-Type": "application/json"}
            )
            if status != 200:
                errors[0] += 1
                continue
            mine["submit"].append(ms)
        with lock:
            for key, values in mine.items():
                lat[key].extend(values)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    return {"lat": lat, "errors": errors[0], "customers_per_s": len(lat["submit"]) / elapsed}


def load_answers(url: str, n_answers: int) -> int:
    """A campaign with n_answers answers (five per response), inserted in bulk."""
    from app.auth.services import create_user
    from app.contacts.models import Contact
    from app.customers.services import create_customer
    from app.db import utcnow
    from app.extensions import db
    from app.org.models import Office
    from app.surveys import campaigns, services
    from app.surveys.models import Answer, Invitation, Response

    app = make_app(url)
    rng = random.Random(7)
    with app.app_context():
        office = db.session.scalars(sa.select(Office)).first()
        qa = create_user(
            email="qa2@example.com", name="质量2", role="quality_admin", password="bench-password"
        )
        customer = create_customer(
            actor=create_user(
                email="a2@example.com",
                name="坐席2",
                role="agent",
                password="bench-password",
                office_code=office.code,
            ),
            name="结果客户",
            office_code=None,
        )
        survey = services.create_survey(actor=qa, data={**DESIGN, "title": "结果压测"})
        services.activate_survey(actor=qa, survey_id=survey.id)
        now = utcnow()
        campaign = campaigns.create_campaign(
            actor=qa, survey_id=survey.id, name="结果", audience={"contact_ids": []}, now=now
        )
        db.session.commit()
        questions = {q.key: q for q in survey.questions}
        responses = n_answers // 5
        batch = 5000
        for start in range(0, responses, batch):
            size = min(batch, responses - start)
            first_contact = (
                db.session.execute(
                    sa.insert(Contact).returning(Contact.id),
                    [
                        {
                            "customer_id": customer.id,
                            "name": f"r{start + i}",
                            "email": None,
                            "language": "zh",
                            "active": True,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for i in range(size)
                    ],
                )
                .scalars()
                .all()
            )
            invitations = (
                db.session.execute(
                    sa.insert(Invitation).returning(Invitation.id),
                    [
                        {
                            "purpose": "survey",
                            "campaign_id": campaign.id,
                            "survey_id": survey.id,
                            "contact_id": cid,
                            "office_id": office.id,
                            "wave": "once",
                            "created_at": now,
                            "sent_at": now,
                            "expires_at": now + timedelta(days=30),
                            "reminders_sent": 0,
                            "responded_at": now,
                        }
                        for cid in first_contact
                    ],
                )
                .scalars()
                .all()
            )
            response_ids = (
                db.session.execute(
                    sa.insert(Response).returning(Response.id),
                    [
                        {
                            "invitation_id": iid,
                            "campaign_id": campaign.id,
                            "survey_id": survey.id,
                            "contact_id": cid,
                            "office_id": office.id,
                            "language": "zh",
                            "submitted_at": now,
                        }
                        for iid, cid in zip(invitations, first_contact, strict=True)
                    ],
                )
                .scalars()
                .all()
            )
            rows = []
            for rid in response_ids:
                for key in ("quality", "speed", "nps", "channel", "comment"):
                    q = questions[key]
                    value = (
                        rng.choices([1, 2, 3, 4, 5], [1, 2, 4, 8, 6])[0]
                        if q.type == "rating5"
                        else rng.randint(0, 10)
                        if q.type == "nps"
                        else None
                    )
                    text = (
                        rng.choice(["展会", "朋友"])
                        if q.type == "choice"
                        else ("还不错" if q.type == "text" else None)
                    )
                    rows.append(
                        {
                            "response_id": rid,
                            "question_id": q.id,
                            "campaign_id": campaign.id,
                            "question_type": q.type,
                            "indicator_id": q.indicator_id,
                            "value": value,
                            "text": text,
                        }
                    )
            db.session.execute(sa.insert(Answer), rows)
            db.session.commit()
        campaign_id = campaign.id
        db.engine.dispose()
    return campaign_id


def results_timing(url: str, campaign_id: int, repeat: int) -> tuple[list[float], list[float]]:
    from app.extensions import db
    from app.surveys.models import Campaign
    from app.surveys.results import campaign_figures

    app = make_app(url)
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        reference_sql = sa.text(
            "SELECT value, count(*) FROM survey_answers WHERE campaign_id = :c "
            "AND question_type = 'nps' AND value IS NOT NULL GROUP BY value"
        )
        reference = timed(
            lambda: db.session.execute(reference_sql, {"c": campaign_id}).all(), repeat
        )
        figures = timed(lambda: campaign_figures(campaign).as_dict(), repeat)
        check = campaign_figures(campaign)
        print(
            f"    (responded {check.responded}, NPS {check.nps.value:.1f} ± "
            f"{check.nps.margin:.1f}, index {check.index.value:.1f} ± {check.index.margin:.1f})"
        )
        db.engine.dispose()
    return reference, figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--answers", type=int, default=200_000)
    parser.add_argument("--links", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    print(
        f"survey answering, gunicorn 2 workers, {args.clients} clients, {args.seconds:.0f} s;"
        f" results at {args.answers:,} answers"
    )
    with scratch_databases(include_pg=not args.no_pg) as urls:
        for label, url in urls:
            tokens, _ = prepare(url, args.links)
            floor_url = url.replace("bench.db", "floor.db") if label == "sqlite" else url
            floor, floor_port = serve("bench.floor_app:app", {"FLOOR_DATABASE_URL": floor_url})
            try:
                load(floor_port, "/floor", {"title": "warm-up"}, {}, 1, 2)
                f_rps, f_lat, f_err = load(
                    floor_port, "/floor", {"title": "答卷"}, {}, args.seconds, args.clients
                )
            finally:
                stop(floor)
            env = {
                "DATABASE_URL": url,
                "SECRET_KEY": "bench",
                "SCHEDULER_ENABLED": "0",
                "SURVEY_RATE_LIMIT_ALL": "1000000",
                "SURVEY_RATE_LIMIT_BAD": "1000000",
            }
            server, port = serve("app.wsgi:app", env)
            try:
                answer_load(port, tokens[:20], 1, 2)  # warm-up
                result = answer_load(port, tokens[20:], args.seconds, args.clients)
            finally:
                stop(server)
            print(
                f"{label:<11} floor (bare insert)   {f_rps:7.1f} req/s  p50 "
                f"{percentile(f_lat, 50):6.1f} ms  p95 {percentile(f_lat, 95):6.1f} ms  "
                f"errors {f_err}"
            )
            lat = result["lat"]
            assert isinstance(lat, dict)
            for step in ("open", "page", "submit"):
                print(f"{label:<11} answer page: {step:<8} {summary(lat[step])}")
            print(
                f"{label:<11} customers answered    {result['customers_per_s']:7.1f} /s  "
                f"errors {result['errors']}"
            )
            campaign_id = load_answers(url, args.answers)
            reference, figures = results_timing(url, campaign_id, args.repeat)
            print(f"{label:<11} reference: bare GROUP BY (nps)  {summary(reference)}")
            print(f"{label:<11} campaign figures (all)          {summary(figures)}")


if __name__ == "__main__":
    main()
