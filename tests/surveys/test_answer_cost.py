"""What one request of the public answer page costs in statements (bench/survey_answer.py
measures the time): the rate counter is leased (one upsert per lease, not per request), the page
reads the link with its campaign in one round trip and the questions from the process's copy,
the response goes in without savepoints and its answers in one executemany."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.db import utcnow
from app.extensions import db
from app.surveys import ratelimit
from app.surveys.models import Draft, PublicRateCounter
from tests.surveys.conftest import GOOD

pytestmark = pytest.mark.committing


def test_open_page_and_submit_cost_few_statements(client, sent, count_queries):
    token = sent["tokens"]["王"]
    client.get("/s/warm-up")  # the client's lease is taken here
    with count_queries() as opening:
        assert client.get(f"/s/{token}").status_code == 303
    assert client.get("/s/").status_code == 200  # the questions are read once per process
    with count_queries() as page:
        assert client.get("/s/").status_code == 200
    with count_queries() as submit:
        assert client.post(f"/s/{token}", json={"answers": GOOD}).status_code == 200
    answers = [s for s in submit if "INSERT INTO survey_answers" in s]
    assert len(answers) == 1  # one executemany, not one per answer
    assert not [s for s in submit if "SAVEPOINT" in s]
    counters = [s for s in opening + page + submit if "survey_rate_counters" in s]
    assert counters == []  # spent from the lease
    assert not [s for s in page if "survey_questions" in s]
    # (BEGIN on SQLite), then: the link with its draft, opened_at | the link | the link, the
    # response, its answers, the draft's deletion, responded_at, the audit row
    assert len(opening) <= 3 and len(page) <= 2 and len(submit) <= 7


def test_the_paged_path_reads_each_draft_with_its_link(client, sent, count_queries):
    token = sent["tokens"]["王"]
    client.get("/s/warm-up")
    client.get(f"/s/{token}")
    client.get("/s/")  # the questions are read once per process
    with count_queries() as page:
        html = client.get("/s/").get_data(as_text=True)
    key = re.search(r'name="_key" value="([0-9a-f]+)"', html).group(1)
    form = {"quality": "5", "speed": "4", "nps": "9", "_key": key, "_page": "1"}
    with count_queries() as following:
        assert client.post("/s/", data={**form, "_action": "next"}).status_code == 303
    with count_queries() as page_2:
        html = client.get("/s/?page=2").get_data(as_text=True)
    assert 'name="quality"' not in html and "<progress" in html
    last = {"channel": "展会", "comment": "", "_key": key, "_page": "2", "_action": "send"}
    with count_queries() as send:
        assert "感谢" in client.post("/s/", data=last).get_data(as_text=True)
    everything = page + following + page_2 + send
    # the draft comes in the link's round trip, never in a query of its own
    assert not [s for s in everything if s.lstrip().startswith("SELECT") and "tokens" not in s]
    assert len([s for s in everything if "invitation_tokens" in s]) == 4
    assert [s for s in page_2 if "survey_drafts" in s]  # page 2 did read it (with the link)
    # (BEGIN on SQLite), then: the link | the link, the draft, its audit row | the link | the
    # link, the response, its answers, the draft's deletion, responded_at, the audit row
    assert len(page) <= 2 and len(following) <= 4 and len(page_2) <= 2 and len(send) <= 7
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Draft)) == 0


def _count(key):
    db.session.rollback()
    return db.session.scalar(sa.select(PublicRateCounter.count).where(PublicRateCounter.key == key))


def test_a_lease_counts_a_share_of_the_limit_at_once(app):
    now = utcnow()
    app.config["SURVEY_RATE_LIMIT_ALL"] = 32  # leases of 2
    try:
        with app.test_request_context():
            assert all(ratelimit.hit("all", "198.51.100.7", now) for _ in range(32))
            assert _count("all:198.51.100.7") == 32  # 16 upserts, each taken before spending
            assert not ratelimit.hit("all", "198.51.100.7", now)
            # the refusal is remembered: no statement until the window ends
            assert not ratelimit.hit("all", "198.51.100.7", now)
            # the next window starts afresh
            assert ratelimit.hit("all", "198.51.100.7", now + ratelimit.WINDOW)
    finally:
        app.config["SURVEY_RATE_LIMIT_ALL"] = 120


def test_other_processes_never_let_a_client_past_the_limit(app):
    """Two processes, one database: the sum of what both let through is the limit at most; the
    second is refused when the first holds the rest."""
    now = utcnow()
    app.config["SURVEY_RATE_LIMIT_ALL"] = 48  # leases of 3
    try:
        with app.test_request_context():
            assert ratelimit.hit("all", "203.0.113.9", now)  # process A leases 3, spends 1
            a_lease = dict(ratelimit._leases)
            ratelimit.forget()  # ... process B knows nothing of it
            allowed_b = 0
            while ratelimit.hit("all", "203.0.113.9", now):
                allowed_b += 1
            ratelimit._leases.update(a_lease)  # back in A: its lease is still good
            allowed_a = 1 + sum(ratelimit.hit("all", "203.0.113.9", now) for _ in range(10))
            assert allowed_a == 3 and allowed_b == 45 and allowed_a + allowed_b == 48
            assert _count("all:203.0.113.9") >= 48
    finally:
        app.config["SURVEY_RATE_LIMIT_ALL"] = 120


def test_used_up_bad_links_fill_up_the_clients_allowance_for_every_process(app):
    now = utcnow()
    with app.test_request_context():
        while ratelimit.hit("bad", "192.0.2.4", now):
            pass
        assert _count("bad:192.0.2.4") == 21 and _count("all:192.0.2.4") == 120
        ratelimit.forget()  # another process, which never saw a bad link of this client
        assert not ratelimit.hit("all", "192.0.2.4", now)
        assert ratelimit.hit("all", "192.0.2.5", now)  # a neighbour is not affected
        assert ratelimit.hit("all", "192.0.2.4", now + timedelta(minutes=10))


def test_the_page_ends_its_reads_with_a_commit(client, sent):
    """psycopg forgets a connection's prepared statements at each ROLLBACK: a page that left
    its read transaction to the teardown's rollback had the link query planned anew on every
    request (most of the database server's CPU per page on PostgreSQL)."""
    client.get(f"/s/{sent['tokens']['王']}")
    ends: list[str] = []

    def commit(_conn):
        ends.append("commit")

    def rollback(_conn):
        ends.append("rollback")

    sa.event.listen(db.engine, "commit", commit)
    sa.event.listen(db.engine, "rollback", rollback)
    try:
        for page in ("/s/", "/s/?page=2"):
            ends.clear()
            assert client.get(page).status_code == 200
            assert ends == ["commit"], page
    finally:
        sa.event.remove(db.engine, "commit", commit)
        sa.event.remove(db.engine, "rollback", rollback)
