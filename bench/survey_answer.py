"""Survey answering and results.

1. The answer page over HTTP under gunicorn (2 workers) with 8 concurrent clients, beside the
   floor (bench/floor_app.py: a bare Flask + SQLAlchemy endpoint inserting one row) measured the
   same way in the same run, before and after. Each client takes fresh links, one customer
   each, along the customer's path on the two pages of the questionnaire:
   open the e-mail link (GET /s/<token> -> 303 + cookie), page 1 (GET /s/), next (POST /s/,
   kept as the draft -> 303), page 2 (GET /s/?page=2), send (POST /s/ -> thank-you).
   `--path json` measures the earlier path instead: open, page, answers as JSON to /s/<token>.
   Two client-address shapes:
   - one address: every request from 127.0.0.1, rate limits raised out of the way; all clients
     share one counter row (the worst case: everyone behind one NAT);
   - spread: the app runs with TRUSTED_PROXIES=1 (as behind nginx) and each customer's requests
     carry their own X-Forwarded-For address, under the default limits (120/20 per 10 min).
   The gunicorn workers' CPU time is read from /proc before and after: CPU ms per request;
   on PostgreSQL also the CPU of the database server processes serving the benchmark's database.
2. A campaign's results (invited, responded, NPS, CSAT, weighted index with margins) at
   200,000 answers, beside the bare GROUP BY the figures rest on.

    .venv/bin/python bench/survey_answer.py [--seconds 10] [--clients 8] [--answers 200000]
        [--path form|json] [--shapes one,spread] [--no-results] [--no-pg]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import urllib.parse
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


FORM_PAGE_1 = {"quality": "5", "speed": "4", "nps": "9"}
FORM_PAGE_2 = {"channel": "展会", "comment": "很好"}
STEPS = {"form": ("open", "page", "next", "page 2", "send"), "json": ("open", "page", "submit")}


def wait_ready(port: int, seconds: float = 120) -> None:
    """gunicorn's master listens before its workers have imported the app: wait for one."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/static/css/survey.css")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the app did not answer")


def workers_cpu_ms(master: int) -> float:
    """User + system CPU time of the gunicorn master's children (the workers), in ms."""
    children = subprocess.run(
        ["pgrep", "-P", str(master)], capture_output=True, text=True, check=False
    ).stdout.split()
    total = 0
    for pid in children:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total * 1000 / os.sysconf("SC_CLK_TCK")


def database_cpu_ms(url: str) -> dict[int, float]:
    """PostgreSQL only: CPU time (ms) of each server process connected to the benchmark's
    database, by pid ({} on SQLite, or when /proc cannot tell). The database server runs on
    the same two cores as the workers, so its share of a request matters as much as theirs."""
    if not url.startswith("postgresql"):
        return {}
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            pids = conn.execute(
                sa.text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid()"
                )
            ).scalars()
            found = {}
            for pid in pids:
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                found[pid] = (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")
            return found
    finally:
        engine.dispose()


def database_cpu_line(before: dict[int, float], after: dict[int, float], requests: int) -> str:
    """ ", database CPU x ms/request" for the server processes seen before and after the load
    (the pools connect during the warm-up); "" on SQLite."""
    if not before:
        return ""
    spent = sum(after[pid] - before[pid] for pid in before if pid in after)
    return f", database CPU {spent / max(requests, 1):.2f} ms/request"


def _request(
    port: int, method: str, target: str, body: bytes | None, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    conn.request(method, target, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return (
        response.status,
        dict(response.getheaders()),
        data,
        (time.perf_counter() - started) * 1000,
    )


def _pages(port: int, html: bytes, cookie: dict[str, str], mine: dict[str, list[float]]) -> str:
    """Page 1 answered, next, page 2, send: "" when it went as a customer expects."""
    key = re.search(rb'name="_key" value="([0-9a-f]+)"', html)
    if key is None:
        return "page without its form key"
    form = {**cookie, "Content-Type": "application/x-www-form-urlencoded"}
    fields = {"_key": key.group(1).decode(), "_page": "1", "_action": "next", **FORM_PAGE_1}
    status, _, _, ms = _request(port, "POST", "/s/", urllib.parse.urlencode(fields).encode(), form)
    if status != 303:
        return f"next {status}"
    mine["next"].append(ms)
    status, _, html, ms = _request(port, "GET", "/s/?page=2", None, cookie)
    if status != 200 or b'id="q-channel"' not in html:
        return f"page 2 {status}"
    mine["page 2"].append(ms)
    fields = {"_key": fields["_key"], "_page": "2", "_action": "send", **FORM_PAGE_2}
    status, _, html, ms = _request(
        port, "POST", "/s/", urllib.parse.urlencode(fields).encode(), form
    )
    if status != 200 or b'name="_key"' in html:
        return f"send {status}"
    mine["send"].append(ms)
    return ""


def _customer(
    port: int, n: int, token: str, mine: dict[str, list[float]], *, path: str, spread: bool
) -> str:
    """One customer's path: "" when it went as a customer expects, else what failed."""
    # behind the proxy each customer has an address of their own (10.0.0.0/8)
    base = {"X-Forwarded-For": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"} if spread else {}
    status, headers, _, ms = _request(port, "GET", f"/s/{token}", None, base)
    if status != 303:
        return f"open {status}"
    mine["open"].append(ms)
    cookie = {**base, "Cookie": headers.get("Set-Cookie", "").split(";", 1)[0]}
    status, _, html, ms = _request(port, "GET", "/s/", None, cookie)
    if status != 200:
        return f"page {status}"
    mine["page"].append(ms)
    if path == "form":
        return _pages(port, html, cookie, mine)
    body = json.dumps({"answers": ANSWERS}).encode()
    json_headers = {**base, "Content-Type": "application/json"}
    status, _, _, ms = _request(port, "POST", f"/s/{token}", body, json_headers)
    if status != 200:
        return f"submit {status}"
    mine["submit"].append(ms)
    return ""


def answer_load(
    port: int,
    tokens: list[str],
    seconds: float,
    clients: int,
    *,
    path: str,
    spread: bool,
    first: int = 0,
) -> dict[str, object]:
    """Each client takes fresh links and goes through the customer's path on each; customer
    number `first` + i has the i-th link (and, spread, an address of its own)."""
    lock = threading.Lock()
    pool = list(enumerate(tokens, start=first))
    steps = STEPS[path]
    lat: dict[str, list[float]] = {step: [] for step in steps}
    errors: list[str] = []
    done = [0]
    deadline = time.perf_counter() + seconds

    def client() -> None:
        mine: dict[str, list[float]] = {step: [] for step in steps}
        failed: list[str] = []
        finished = 0
        while time.perf_counter() < deadline:
            with lock:
                if not pool:
                    break
                n, token = pool.pop()
            try:
                problem = _customer(port, n, token, mine, path=path, spread=spread)
            except OSError as exc:  # a timeout or a refused connection
                problem = type(exc).__name__
            if problem:
                failed.append(problem)
            else:
                finished += 1
        with lock:
            for key, values in mine.items():
                lat[key].extend(values)
            errors.extend(failed)
            done[0] += finished

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    return {
        "lat": lat,
        "errors": errors,
        "customers": done[0],
        "customers_per_s": done[0] / elapsed,
    }


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


def floor_run(url: str, label: str, seconds: float, clients: int) -> str:
    floor_url = url.replace("bench.db", "floor.db") if label == "sqlite" else url
    floor, floor_port = serve("bench.floor_app:app", {"FLOOR_DATABASE_URL": floor_url})
    try:
        load(floor_port, "/floor", {"title": "warm-up"}, {}, 1, 2)
        db_before = database_cpu_ms(floor_url)
        cpu_before = workers_cpu_ms(floor.pid)
        f_rps, f_lat, f_err = load(floor_port, "/floor", {"title": "答卷"}, {}, seconds, clients)
        cpu = workers_cpu_ms(floor.pid) - cpu_before
        db_after = database_cpu_ms(floor_url)
    finally:
        stop(floor)
    return (
        f"{label:<11} floor (bare insert)     {f_rps:7.1f} req/s  p50 "
        f"{percentile(f_lat, 50):6.1f} ms  p95 {percentile(f_lat, 95):6.1f} ms  workers' CPU "
        f"{cpu / max(len(f_lat), 1):.2f} ms/request"
        f"{database_cpu_line(db_before, db_after, len(f_lat))}  errors {f_err}"
    )


def answer_run(
    url: str, label: str, tokens: list[str], args: argparse.Namespace, shape: str
) -> list[str]:
    spread = shape == "spread"
    env = {
        "DATABASE_URL": url,
        "SECRET_KEY": "bench",
        "SCHEDULER_ENABLED": "0",
        "TRUSTED_PROXIES": "1" if spread else "0",
    }
    if not spread:  # one address for everyone: the limits would refuse the benchmark itself
        env |= {"SURVEY_RATE_LIMIT_ALL": "1000000", "SURVEY_RATE_LIMIT_BAD": "1000000"}
    server, port = serve("app.wsgi:app", env)
    try:
        wait_ready(port)
        answer_load(port, tokens[:20], 2, 2, path=args.path, spread=spread)  # warm-up
        db_before = database_cpu_ms(url)
        cpu_before = workers_cpu_ms(server.pid)
        result = answer_load(
            port, tokens[20:], args.seconds, args.clients, path=args.path, spread=spread, first=20
        )
        cpu = workers_cpu_ms(server.pid) - cpu_before
        db_after = database_cpu_ms(url)
    finally:
        stop(server)
    lat = result["lat"]
    assert isinstance(lat, dict)
    requests = sum(len(v) for v in lat.values())
    everyone = [ms for values in lat.values() for ms in values]
    name = "one address" if not spread else "spread"
    lines = [
        f"{label:<11} answer page ({name}): {step:<7} {summary(lat[step])}"
        for step in STEPS[args.path]
        if lat[step]
    ]
    if everyone:
        lines.append(f"{label:<11} answer page ({name}): all     {summary(everyone)}")
    errors = result["errors"]
    assert isinstance(errors, list)
    lines.append(
        f"{label:<11} answer page ({name}): {result['customers']} customers "
        f"({result['customers_per_s']:.1f}/s), {requests} requests, workers' CPU "
        f"{cpu / max(requests, 1):.2f} ms/request"
        f"{database_cpu_line(db_before, db_after, requests)}, errors {len(errors)}"
        + (f" ({', '.join(sorted(set(errors))[:5])})" if errors else "")
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--answers", type=int, default=200_000)
    parser.add_argument("--links", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--path", choices=sorted(STEPS), default="form")
    parser.add_argument("--shapes", default="one,spread")
    parser.add_argument("--no-results", action="store_true")
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    shapes = [s for s in args.shapes.split(",") if s]
    print(
        f"survey answering ({args.path}), gunicorn 2 workers, {args.clients} clients, "
        f"{args.seconds:.0f} s; load average {os.getloadavg()[0]:.1f}"
    )
    with scratch_databases(include_pg=not args.no_pg) as urls:
        for label, url in urls:
            tokens, _ = prepare(url, args.links * len(shapes))
            print(floor_run(url, label, args.seconds, args.clients), flush=True)
            for number, shape in enumerate(shapes):
                share = tokens[number * args.links : (number + 1) * args.links]
                for line in answer_run(url, label, share, args, shape):
                    print(line, flush=True)
            print(floor_run(url, label, args.seconds, args.clients), flush=True)
            print(f"{label:<11} load average {os.getloadavg()[0]:.1f}", flush=True)
            if args.no_results:
                continue
            campaign_id = load_answers(url, args.answers)
            reference, figures = results_timing(url, campaign_id, args.repeat)
            print(f"{label:<11} reference: bare GROUP BY (nps)  {summary(reference)}")
            print(f"{label:<11} campaign figures (all)          {summary(figures)}")


if __name__ == "__main__":
    main()
