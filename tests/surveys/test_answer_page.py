"""The public answer page /s/<token>: cookie exchange, one response per link, validation,
the same page for every bad link, rate limit, closed loop, headers, parallel double submit."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from app.auth.models import LoginAttempt
from app.extensions import db
from app.issues.models import Issue
from app.surveys.invitations import new_token
from app.surveys.models import Answer, Invitation, Response
from tests.surveys.conftest import GOOD, close_campaign

pytestmark = pytest.mark.committing


def _open(client, token, **kw):
    first = client.get(f"/s/{token}", **kw)
    assert first.status_code == 303, first.get_data(as_text=True)
    return first


def _key(html):
    import re

    return re.search(r'name="_key" value="([0-9a-f]+)"', html).group(1)


def _count(model):
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_first_open_trades_the_token_for_a_cookie(client, sent):
    first = _open(client, sent["tokens"]["王"])
    assert first.headers["Location"].endswith("/s/?lang=zh")
    cookie = first.headers["Set-Cookie"]
    assert "survey_link=" in cookie and "HttpOnly" in cookie and "Path=/s/" in cookie
    assert "Max-Age=7200" in cookie and "SameSite=Lax" in cookie
    assert sent["tokens"]["王"] not in cookie  # only a signed hash travels in the cookie
    page = client.get("/s/?lang=zh")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "您对交付质量满意吗？" in html and "尊敬的王" in html
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in page.headers["Cache-Control"]
    assert "script-src 'none'" in page.headers["Content-Security-Policy"]
    assert "<script" not in html and "https://" not in html and "http://" not in html
    assert 'content="no-referrer"' in html


def test_english_contacts_land_in_english(client, sent):
    first = _open(client, sent["tokens"]["Amy"])
    assert first.headers["Location"].endswith("/s/?lang=en")
    html = client.get("/s/?lang=en").get_data(as_text=True)
    assert "How satisfied are you with the delivery quality?" in html and "Dear Amy" in html


def test_form_answer_is_recorded_once_and_a_retry_shows_the_same_thanks(client, sent):
    _open(client, sent["tokens"]["王"])
    key = _key(client.get("/s/").get_data(as_text=True))
    done = client.post("/s/", data={**GOOD, "_key": key})
    assert done.status_code == 200 and "感谢" in done.get_data(as_text=True)
    again = client.post("/s/", data={**GOOD, "nps": "0", "_key": key})
    assert again.status_code == 200 and again.get_data(as_text=True) == done.get_data(as_text=True)
    assert _count(Response) == 1 and _count(Answer) == 5
    values = dict(db.session.execute(sa.select(Answer.question_type, Answer.value)).all())
    assert values["nps"] == 9  # the retry changed nothing
    assert _count(Issue) == 0  # satisfied: no issue
    inv = db.session.scalars(
        sa.select(Invitation).where(Invitation.contact_id == sent["wang"].id)
    ).one()
    assert inv.responded_at is not None and inv.opened_at is not None
    # the link is used up: opening it again shows the generic page
    assert client.get(f"/s/{sent['tokens']['王']}").status_code == 404


def test_opening_again_keeps_the_first_open(app, client, sent):
    token = sent["tokens"]["王"]
    _open(client, token)
    opened = sa.select(Invitation.opened_at).where(Invitation.contact_id == sent["wang"].id)
    db.session.rollback()
    first = db.session.scalar(opened)
    assert first is not None
    _open(app.test_client(), token)  # the same e-mail opened later, on another device
    db.session.rollback()
    assert db.session.scalar(opened) == first


def test_form_without_the_cookie_key_is_refused(client, sent):
    _open(client, sent["tokens"]["王"])
    assert client.post("/s/", data=GOOD).status_code == 404
    assert client.post("/s/", data={**GOOD, "_key": "0" * 64}).status_code == 404
    assert _count(Response) == 0


def test_json_answers_recorded_then_409(client, sent):
    url = f"/s/{sent['tokens']['王']}"
    answers = {"quality": 5, "speed": 4, "nps": 10, "channel": "朋友", "comment": "ok"}
    first = client.post(url, json={"answers": answers})
    assert first.status_code == 200 and first.get_json() == {"status": "recorded"}
    second = client.post(url, json={"answers": answers})
    assert second.status_code == 409 and second.get_json()["error"]["code"] == "already_answered"
    assert _count(Response) == 1


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({**GOOD, "quality": 6}, "quality"),
        ({**GOOD, "quality": 0}, "quality"),
        ({**GOOD, "quality": True}, "quality"),
        ({**GOOD, "quality": 4.5}, "quality"),
        ({**GOOD, "nps": 11}, "nps"),
        ({**GOOD, "nps": -1}, "nps"),
        ({**GOOD, "channel": "别的"}, "channel"),
        ({**GOOD, "comment": "长" * 20_001}, "comment"),
        ({k: v for k, v in GOOD.items() if k != "speed"}, "speed"),
        ({**GOOD, "speed": "  "}, "speed"),
        ({**GOOD, "hacker": "1"}, "hacker"),
    ],
)
def test_bad_answers_are_422_and_store_nothing(client, sent, answers, field):
    url = f"/s/{sent['tokens']['王']}"
    response = client.post(url, json={"answers": answers})
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert _count(Response) == 0 and _count(Answer) == 0


def test_malformed_json_is_400(client, sent):
    url = f"/s/{sent['tokens']['王']}"
    assert client.post(url, json={"answers": [1, 2]}).status_code == 400
    assert client.post(url, data="{not json", content_type="application/json").status_code == 400


def test_text_is_kept_as_written_and_escaped_when_shown(client, sent):
    _open(client, sent["tokens"]["王"])
    key = _key(client.get("/s/").get_data(as_text=True))
    evil = '<script>alert("x")</script>'
    # the whole form at once, a wrong option: sent back on the page of that question
    bad = client.post("/s/", data={**GOOD, "comment": evil, "channel": "别的", "_key": key})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and evil not in html and "&lt;script&gt;" in html
    assert "请选择一个选项。" in html and "第 2 页，共 2 页" in html
    out_of_range = client.post("/s/", data={**GOOD, "quality": "9", "_key": key})
    assert out_of_range.status_code == 422
    assert "请选择 1 到 5 之间的数字。" in out_of_range.get_data(as_text=True)
    ok = client.post("/s/", data={**GOOD, "comment": evil + "\x00", "_key": key})
    assert ok.status_code == 200
    assert db.session.scalar(sa.select(Answer.text).where(Answer.question_type == "text")) == evil


def test_every_bad_link_gets_the_same_page(client, sent, count_queries):
    used = sent["tokens"]["Amy"]
    assert client.post(f"/s/{used}", json={"answers": {**GOOD, "quality": 5}}).status_code == 200
    expired = sent["tokens"]["王"]
    db.session.execute(sa.update(Invitation).values(expires_at=Invitation.created_at))
    db.session.commit()
    client.get("/s/warm-up")  # the rate counters' rows exist from here on
    pages, queries = [], []
    for token in (used, expired, "x" * 43, "%00"):
        with count_queries() as statements:
            response = client.get(f"/s/{token}")
        pages.append((response.status_code, response.get_data(as_text=True)))
        queries.append(len(statements))
    assert len(set(pages)) == 1 and pages[0][0] == 404
    assert "无法使用" in pages[0][1]
    assert len(set(queries)) == 1  # the same work whichever way the link is bad


def test_a_closed_campaign_link_is_invalid(client, sent):
    close_campaign(sent["campaign"].id)
    assert client.get(f"/s/{sent['tokens']['王']}").status_code == 404
    assert client.post(f"/s/{sent['tokens']['王']}", json={"answers": GOOD}).status_code == 404


def test_a_token_for_another_purpose_is_rejected(client, sent, world, new_issue):
    issue = new_issue()
    rating = Invitation(
        purpose="issue_rating",
        issue_id=issue["id"],
        contact_id=sent["wang"].id,
        office_id=world.sh.id,
        wave=f"issue:{issue['id']}",
        expires_at=sent["campaign"].close_at,
    )
    db.session.add(rating)
    db.session.flush()
    token = new_token(rating)
    db.session.commit()
    assert client.get(f"/s/{token}").status_code == 404
    assert client.post(f"/s/{token}", json={"answers": GOOD}).status_code == 404
    assert _count(Response) == 0


def test_a_survey_token_is_no_rating_link(client, sent):
    assert client.get(f"/s/rate/{sent['tokens']['王']}").status_code == 404


def test_tampered_cookie_is_invalid(client, sent):
    _open(client, sent["tokens"]["王"])
    client.set_cookie("survey_link", "eyJoIjoiYWFhIn0.forged.sig", path="/s/")
    assert client.get("/s/").status_code == 404


def test_dissatisfied_answer_opens_an_issue_in_the_contacts_office(client, sent, world):
    url = f"/s/{sent['tokens']['王']}"
    answers = {**GOOD, "nps": 3, "quality": 2, "comment": "交付延误两周"}
    assert client.post(url, json={"answers": answers}).status_code == 200
    db.session.rollback()
    issue = db.session.scalars(sa.select(Issue)).one()
    response = db.session.scalars(sa.select(Response)).one()
    assert response.issue_id == issue.id
    assert issue.channel == "survey" and issue.office_id == world.sh.id
    assert issue.customer_id == world.customer.id and issue.created_by_id is None
    assert "→ 3" in issue.description and "交付延误两周" in issue.description


def test_rate_limit_stops_token_guessing_and_is_not_the_login_throttle(client, sent, world, app):
    statuses = []
    for n in range(10_000):
        status = client.get(f"/s/guess{n:06d}aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").status_code
        statuses.append(status)
        if status == 429:
            break
    assert statuses[-1] == 429 and len(statuses) <= 25
    # a real link from the same client is refused too while the window lasts
    assert client.get(f"/s/{sent['tokens']['王']}").status_code == 429
    assert client.post(f"/s/{sent['tokens']['王']}", json={"answers": GOOD}).status_code == 429
    # the login throttle counts nothing of this, and sign-in still works
    assert _count(LoginAttempt) == 0
    page = client.get("/login")
    assert page.status_code == 200


def test_parallel_double_submit_records_one_response(app, sent):
    url = f"/s/{sent['tokens']['王']}"
    answers = {**GOOD, "nps": 2}
    db.session.commit()
    barrier = threading.Barrier(4)
    statuses = []
    lock = threading.Lock()

    def submit():
        c = app.test_client()
        barrier.wait()
        status = c.post(url, json={"answers": answers}).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(statuses) == [200, 409, 409, 409]
    assert _count(Response) == 1 and _count(Answer) == 5 and _count(Issue) == 1


def test_parallel_opens_and_submits_never_fail(app, sent):
    """Every public request writes its rate counter: under concurrency on SQLite a read
    transaction that later writes would fail with 'database is locked' (a 500)."""
    db.session.commit()
    tokens = [sent["tokens"]["王"], sent["tokens"]["Amy"]] * 3
    barrier = threading.Barrier(len(tokens))
    statuses = []
    lock = threading.Lock()

    def visit(token):
        c = app.test_client()
        barrier.wait()
        got = [c.get(f"/s/{token}").status_code, c.get("/s/").status_code]
        got.append(c.post(f"/s/{token}", json={"answers": GOOD}).status_code)
        with lock:
            statuses.extend(got)

    threads = [threading.Thread(target=visit, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert 500 not in statuses and statuses.count(200) >= 2
    assert _count(Response) == 2


def _guess_until_refused(client, headers):
    for n in range(40):
        status = client.get(f"/s/guess{n:04d}{'a' * 40}", headers=headers).status_code
        if status == 429:
            return n
    return None


def test_behind_a_trusted_proxy_each_customer_has_their_own_limit(app, database_url):
    """TRUSTED_PROXIES=1 (werkzeug ProxyFix): the address the proxy puts last in
    X-Forwarded-For is the client; one customer's guesses do not lock out the next."""
    from app import create_app
    from app.config import TestConfig, normalise_database_url
    from tests.conftest import IsolatedClient

    behind = create_app(
        TestConfig,
        SQLALCHEMY_DATABASE_URI=normalise_database_url(database_url),
        SECRET_KEY="test-secret-key",
        TRUSTED_PROXIES=1,
    )
    behind.test_client_class = IsolatedClient
    proxy = behind.test_client()
    assert _guess_until_refused(proxy, {"X-Forwarded-For": "198.51.100.1"}) is not None
    other = proxy.get(f"/s/guess{'b' * 40}", headers={"X-Forwarded-For": "198.51.100.2"})
    assert other.status_code == 404  # a bad link, not refused: a counter of its own
    # a client's own claim in front of the proxy's is not believed
    spoofed = {"X-Forwarded-For": "192.0.2.99, 198.51.100.1"}
    assert proxy.get(f"/s/guess{'c' * 40}", headers=spoofed).status_code == 429
    with behind.app_context():
        db.engine.dispose()


def test_without_trusted_proxies_forwarded_for_is_ignored(client):
    assert _guess_until_refused(client, {"X-Forwarded-For": "198.51.100.1"}) is not None
    other = client.get(f"/s/guess{'b' * 40}", headers={"X-Forwarded-For": "198.51.100.2"})
    assert other.status_code == 429  # the same peer address: the same counter
