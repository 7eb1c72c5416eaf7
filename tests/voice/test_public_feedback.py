"""The public web feedback page: no account, Chinese first, defended against bots and floods."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.auth.models import LoginAttempt
from app.core.audit import AuditEvent
from app.extensions import db
from app.voice import public
from app.voice.models import Voice
from tests.conftest import csrf_from

REFERENCE = re.compile(r"V-[2-9A-HJ-NP-Z]{8}")


@pytest.fixture
def offices(make_region, make_office):
    east, south = make_region("EAST"), make_region("SOUTH")
    return (
        make_office("SH", name="上海代表处", region=east),
        make_office("GZ", name="广州代表处", region=south),
    )


def voices():
    db.session.expire_all()
    return db.session.scalars(sa.select(Voice).order_by(Voice.id)).all()


def submit(client, url="/feedback", *, age=10.0, started=None, **data):
    """GET the form (for its CSRF token), then POST it as a person would after `age` s."""
    html = client.get(url).get_data(as_text=True)
    if started is None:
        started = public.fill_token(public.now_ms() - int(age * 1000))
    body = {"csrf_token": csrf_from(html), "started": started, "homepage": "", **data}
    return client.post(url, data=body)


def test_the_form_is_chinese_by_default_public_and_lists_the_offices(client, offices):
    response = client.get("/feedback")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in html and "意见与建议" in html and "提交" in html
    assert "上海代表处" in html and "广州代表处" in html and 'name="office"' in html
    # no staff navigation, no account needed, no third-party assets
    assert 'class="topbar"' not in html and "/logout" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert 'href="/feedback?lang=en"' in html


def test_the_form_in_english(client, offices):
    html = client.get("/feedback?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html and "Tell us what you think" in html
    assert "Send feedback" in html and 'action="/feedback?lang=en"' in html
    assert 'href="/feedback"' in html  # back to Chinese


def test_a_submission_is_stored_as_a_web_voice_and_confirmed(client, offices):
    text = "XR-200 网关每天掉线两三次，希望尽快解决。"
    response = submit(
        client,
        text=text,
        about="product",
        office="SH",
        name="王先生",
        phone="138 0013 8000",
        email="wang@example.com",
    )
    assert response.status_code == 302 and response.headers["Location"] == "/feedback/thanks"
    [voice] = voices()
    assert (voice.channel, voice.kind, voice.office.code) == ("web", "passive", "SH")
    assert voice.text == text and voice.dimension == "product" and voice.customer_id is None
    assert (voice.contact_name, voice.contact_phone, voice.contact_email) == (
        "王先生",
        "13800138000",
        "wang@example.com",
    )
    assert voice.created_by_id is None
    audit = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_id == voice.id))
    assert [(e.entity_type, e.action, e.actor_id) for e in audit] == [("voice", "create", None)]

    thanks = client.get("/feedback/thanks")
    html = thanks.get_data(as_text=True)
    assert thanks.status_code == 200 and "您的反馈编号" in html
    assert f'<p class="pub-reference" id="reference">{voice.reference}</p>' in html


def test_an_english_submission_is_confirmed_in_english(client, offices):
    response = submit(client, "/feedback?lang=en", text="Great service, thanks!", office="GZ")
    assert response.headers["Location"] == "/feedback/thanks?lang=en"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    [voice] = voices()
    assert "Your confirmation number" in html and voice.reference in html
    assert voice.office.code == "GZ" and voice.dimension is None


def test_the_confirmation_shows_the_reference_and_nothing_else(client, app, offices):
    submit(
        client,
        text="私密内容：合同编号 HT-2026-001",
        office="SH",
        name="李女士",
        phone="13912345678",
        email="li@example.com",
    )
    [voice] = voices()
    html = client.get("/feedback/thanks").get_data(as_text=True)
    assert REFERENCE.findall(html) == [voice.reference]
    for private in ("私密内容", "HT-2026-001", "李女士", "13912345678", "li@example.com", "上海"):
        assert private not in html
    # another browser has nothing to see, and the page takes no reference or id from the URL
    other = app.test_client()
    for url in ("/feedback/thanks", f"/feedback/thanks?reference={voice.reference}&id=1"):
        page = other.get(url).get_data(as_text=True)
        assert "暂无可确认的反馈" in page and not REFERENCE.search(page)


@pytest.mark.parametrize(
    ("lang", "messages"),
    [
        (
            "zh",
            [
                "请填写您的意见。",
                "请选择为您服务的代表处。",
                "请输入有效的电子邮箱",
                "请用数字填写电话号码",
            ],
        ),
        (
            "en",
            [
                "Please tell us what you want to say.",
                "Please choose the office that serves you.",
                "Please enter a valid e-mail address",
                "Please enter a phone number in digits",
            ],
        ),
    ],
)
def test_validation_messages_in_both_languages(client, offices, lang, messages):
    url = "/feedback" if lang == "zh" else "/feedback?lang=en"
    response = submit(client, url, text="  ", office="", email="not-an-email", phone="abc")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for message in messages:
        assert message in html
    assert 'aria-invalid="true"' in html
    assert voices() == []


def test_text_longer_than_5000_characters_is_refused_with_a_message(client, offices):
    response = submit(client, text="长" * 5001, office="SH")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "最多 5000 个字。" in html
    assert voices() == []
    ok = submit(client, text="长" * 5000, office="SH")
    assert ok.status_code == 302 and len(voices()[0].text) == 5000


def test_the_office_fixed_by_the_link(client, offices):
    html = client.get("/feedback?office=gz").get_data(as_text=True)
    assert "广州代表处" in html and "上海代表处" not in html
    assert '<select id="office"' not in html
    assert 'action="/feedback?office=GZ"' in html
    # the link decides, whatever a tampered form says
    response = submit(client, "/feedback?office=GZ", text="安装很顺利", office="SH")
    assert response.status_code == 302
    assert voices()[0].office.code == "GZ"


def test_the_office_chosen_by_the_customer(client, offices):
    submit(client, text="客服态度很好", office="SH")
    assert voices()[0].office.code == "SH"


def test_an_unknown_office_code_shows_the_chooser(client, offices):
    response = client.get("/feedback?office=NOPE")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<select id="office"' in html and "上海代表处" in html and "广州代表处" in html
    assert "NOPE" not in html
    assert submit(client, "/feedback?office=NOPE", text="好", office="SH").status_code == 302
    assert voices()[0].office.code == "SH"


def test_control_characters_a_customer_cannot_see_are_dropped_not_refused(client, offices):
    """On either engine: PostgreSQL text cannot hold NUL, and a customer can neither see nor
    remove what a paste carried in, so the page drops them (as survey answers do)."""
    response = submit(
        client, text="网关\x00掉线\x0b\n第二行", office="SH", name="王\x00先生", email=""
    )
    assert response.status_code == 302
    [voice] = voices()
    assert voice.text == "网关掉线\n第二行" and voice.contact_name == "王先生"
    # nothing but control characters is no text
    response = submit(client, text="\x00\x01", office="SH")
    assert response.status_code == 200 and len(voices()) == 1


def test_script_in_the_text_is_stored_as_typed_and_shown_escaped(client, offices):
    text = '<script>alert("x")</script> 设备&配件'
    # an invalid e-mail sends the form back with the text in it
    html = submit(client, text=text, office="SH", email="bad").get_data(as_text=True)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; 设备&amp;配件" in html
    submit(client, text=text, office="SH")
    assert voices()[0].text == text


def test_a_filled_honeypot_pretends_success_and_stores_nothing(client, offices):
    response = submit(client, text="cheap pills", office="SH", homepage="http://spam.example")
    assert response.status_code == 302 and response.headers["Location"] == "/feedback/thanks"
    html = client.get("/feedback/thanks").get_data(as_text=True)
    assert REFERENCE.search(html)  # looks like any confirmation
    assert voices() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0


@pytest.mark.parametrize(
    "started",
    [
        None,  # the real token, but answered after 0.5 s
        "",  # no token
        "1700000000000.forged-signature",  # backdated by hand
    ],
)
def test_too_fast_or_unsigned_submissions_are_taken_for_bots(client, offices, started):
    response = submit(client, text="自动提交的内容", office="SH", age=0.5, started=started)
    assert response.status_code == 302
    assert REFERENCE.search(client.get("/feedback/thanks").get_data(as_text=True))
    assert voices() == []


def test_a_form_left_open_for_days_is_sent_back_with_the_text_kept(client, offices):
    response = submit(client, text="放了很久的页面", office="SH", age=3 * 24 * 3600)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "此页面打开时间过长" in html and "放了很久的页面" in html
    assert voices() == []


def test_without_csrf_token_nothing_is_stored(client, offices):
    response = client.post("/feedback", data={"text": "没有令牌", "office": "SH"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "页面已过期" in html and 'href="/feedback"' in html
    assert voices() == []


def test_a_flood_from_one_client_gets_429_while_others_may_still_write(
    client, app, offices, post_form
):
    html = client.get("/feedback").get_data(as_text=True)
    token = csrf_from(html)
    statuses = []
    for i in range(7):
        body = {
            "csrf_token": token,
            "started": public.fill_token(public.now_ms() - 10_000),
            "text": f"第 {i} 条",
            "office": "SH",
        }
        statuses.append(client.post("/feedback", data=body))
    assert [r.status_code for r in statuses] == [302] * 5 + [429] * 2
    refused = statuses[-1]
    page = refused.get_data(as_text=True)
    assert "请求过于频繁" in page and "请过几分钟再试" in page
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.headers["Referrer-Policy"] == "no-referrer"
    assert len(voices()) == 5

    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert submit(other, text="另一位客户", office="GZ").status_code == 302
    assert len(voices()) == 6

    # a separate counter: the sign-in throttle has not counted any of this
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginAttempt)) == 0
    login = post_form("/login", {"email": "x@example.com", "password": "wrong-password"})
    assert "错误" in login.get_data(as_text=True) and login.status_code == 200


def test_page_views_are_limited_too(client, app, offices, monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_GET_LIMIT", 3)
    assert [client.get("/feedback").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert client.get("/feedback/thanks").status_code == 429
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.8"
    assert other.get("/feedback?lang=en").status_code == 200


def test_a_request_too_large_gets_a_friendly_413_and_stores_nothing(client, offices):
    html = client.get("/feedback").get_data(as_text=True)
    response = client.post(
        "/feedback",
        data={"csrf_token": csrf_from(html), "text": "长" * 30_000, "office": "SH"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 413 and "内容过长" in page and "5,000" in page
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert voices() == []


def test_every_page_sends_no_referrer_and_keeps_out_of_caches(client, offices):
    for url in ("/feedback", "/feedback?lang=en&office=SH", "/feedback/thanks"):
        response = client.get(url)
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_behind_a_trusted_proxy_the_forwarded_client_is_counted(client, app, offices, monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_GET_LIMIT", 2)
    spoofed = {"X-Forwarded-For": "10.9.9.9, 203.0.113.5"}
    # without a trusted proxy the header is ignored: one peer, one counter
    assert [client.get("/feedback", headers=spoofed).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    monkeypatch.setitem(app.config, "FEEDBACK_TRUSTED_PROXIES", 1)
    # with one proxy of ours the client is the last address, whatever it put to the left
    statuses = [
        client.get("/feedback", headers={"X-Forwarded-For": f"10.0.0.{i}, 203.0.113.5"})
        for i in range(3)
    ]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    other = {"X-Forwarded-For": "203.0.113.6"}
    assert client.get("/feedback", headers=other).status_code == 200
