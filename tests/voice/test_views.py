"""Voice pages: inbox, quick form, voice page and its actions, repeats JSON; CSRF and scope."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from app.extensions import db
from app.issues.models import Issue
from app.voice import services
from app.voice.models import Voice, VoiceIssueLink, VoiceRepeatDismissal
from tests.conftest import csrf_from


def voice(world, text="打印机卡纸，第三次了", who=None, customer=None, **kw):
    v = services.record_voice(
        actor=who or world.agent,
        channel=kw.pop("channel", "hotline"),
        text=text,
        customer_id=(customer or world.customer).id,
        **kw,
    )
    db.session.commit()
    return v


def test_the_nav_links_the_inbox(client, world, login_as):
    login_as(world.agent)
    page = client.get("/issues/").get_data(as_text=True)
    assert 'href="/voices/"' in page


def test_inbox_lists_scoped_voices_in_office_time_and_searches_chinese(client, world, login_as):
    voice(world, "客户投诉设备无法开机", occurred_at=datetime(2026, 11, 2, 1, 30, tzinfo=UTC))
    voice(world, "发票抬头开错了", channel="web")
    voice(world, "广州客户的声音", who=world.agent_gz, customer=world.customer_gz)
    login_as(world.agent)
    page = client.get("/voices/").get_data(as_text=True)
    assert "客户投诉设备无法开机" in page and "发票抬头开错了" in page
    assert "广州客户的声音" not in page
    assert "2026-11-02 09:30" in page  # Asia/Shanghai
    found = client.get("/voices/?q=无法开机").get_data(as_text=True)
    assert "客户投诉设备无法开机" in found and "发票抬头开错了" not in found
    short = client.get("/voices/?q=发票").get_data(as_text=True)
    assert "发票抬头开错了" in short and "无法开机" not in short
    by_channel = client.get("/voices/?channel=web").get_data(as_text=True)
    assert "发票抬头开错了" in by_channel and "无法开机" not in by_channel
    bad = client.get("/voices/?channel=fax&date_from=nope")
    assert bad.status_code == 200  # a bad filter is shown as an error, not a crash


def test_inbox_pages_with_a_cursor(client, world, login_as, monkeypatch):
    from app.voice import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for i in range(5):
        voice(world, f"第{i}条声音")
    login_as(world.agent)
    page = client.get("/voices/").get_data(as_text=True)
    assert page.count("条声音") == 2 and 'rel="next"' in page
    href = page.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    second = client.get(href).get_data(as_text=True)
    assert second.count("条声音") == 2


def test_quick_form_shows_shortcuts_and_saves_with_details(client, world, login_as, post_form):
    login_as(world.agent)
    page = client.get("/voices/new").get_data(as_text=True)
    assert "Ctrl+Enter" in page and "F2" in page
    assert 'data-detail="batch"' in page and "optgroup" in page
    response = post_form(
        "/voices/new",
        {
            "channel": "return",
            "customer_id": str(world.customer.id),
            "office": "SH",
            "occurred_at": "2026-11-20T14:05",
            "text": "第三批次电源退货",
            "category": "product_quality",
            "sentiment": "negative",
            "detail_batch": "B-7",
            "detail_reason_code": "DOA",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    v = db.session.scalars(sa.select(Voice)).one()
    assert (v.channel, v.kind, v.customer_id) == ("return", "passive", world.customer.id)
    assert v.details == {"batch": "B-7", "reason_code": "DOA"}
    assert v.occurred_at == datetime(2026, 11, 20, 6, 5, tzinfo=UTC)  # entered in office time
    assert v.reference in client.get(response.headers["Location"]).get_data(as_text=True)


def test_quick_form_links_and_dismisses_what_the_agent_chose(client, world, login_as, post_form):
    earlier = voice(world)
    other = voice(world, "打印机又卡纸了")
    login_as(world.agent)
    response = post_form(
        "/voices/new",
        {
            "channel": "hotline",
            "customer_id": str(world.customer.id),
            "office": "SH",
            "text": "打印机卡纸第三次",
            "repeat_target": f"voice:{earlier.id}",
            "dismissed": f"voice:{other.id},junk,issue:x",
        },
    )
    assert response.status_code == 302
    new = db.session.scalars(sa.select(Voice).order_by(Voice.id.desc())).first()
    assert new.repeat_of_id == earlier.id
    dismissed = db.session.scalars(sa.select(VoiceRepeatDismissal)).one()
    assert (dismissed.voice_id, dismissed.target_id) == (new.id, other.id)


def test_quick_form_errors_and_nothing_half_written(client, world, login_as, post_form):
    login_as(world.agent)
    response = post_form(
        "/voices/new",
        {"channel": "hotline", "office": "SH", "text": "x", "repeat_target": "voice:999999"},
    )
    assert response.status_code == 422
    assert "unknown voice" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voice)) == 0
    response = post_form("/voices/new", {"channel": "hotline", "office": "SH", "text": ""})
    assert response.status_code == 422
    response = post_form(
        "/voices/new",
        {"channel": "hotline", "customer_id": str(world.customer_gz.id), "text": "x"},
    )
    assert response.status_code == 422 and "unknown customer" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voice)) == 0


def test_quick_form_refuses_a_customer_of_another_office(client, world, login_as, post_form):
    login_as(world.qa)
    data = {"channel": "hotline", "customer_id": str(world.customer.id), "office": "GZ"}
    response = post_form("/voices/new?lang=en", {**data, "text": "上海的客户"})
    assert response.status_code == 422
    assert "a customer of office SH, not of GZ" in response.get_data(as_text=True)
    response = post_form("/voices/new?lang=zh", {**data, "text": "上海的客户"})
    assert "该客户属于代表处 SH，不属于 GZ" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voice)) == 0


def test_forms_need_csrf(client, world, login_as):
    v = voice(world)
    login_as(world.agent)
    assert client.post("/voices/new", data={"channel": "web", "text": "x"}).status_code == 400
    for action in ("raise", "link", "dismiss", "unlink"):
        r = client.post(f"/voices/{v.id}/{action}", data={"title": "x", "target": "V-1"})
        assert r.status_code in (400, 422), action
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Issue)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voice)) == 1


def test_voice_page_escapes_text_and_another_office_gets_404(client, world, login_as):
    v = voice(world, "<script>alert('x')</script>", details={"product": "<b>PSU</b>"})
    theirs = voice(world, "广州", who=world.agent_gz, customer=world.customer_gz)
    login_as(world.agent)
    page = client.get(f"/voices/{v.id}").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert(" in page
    assert "<b>PSU</b>" not in page and "&lt;b&gt;PSU&lt;/b&gt;" in page
    assert v.reference in page
    token = csrf_from(page)
    assert client.get(f"/voices/{theirs.id}").status_code == 404
    for path in ("/raise", "/link", "/dismiss", "/unlink"):
        r = client.post(f"/voices/{theirs.id}{path}", data={"csrf_token": token, "title": "x"})
        assert r.status_code == 404, path


def test_raise_issue_from_the_voice_page(client, world, login_as, post_form):
    v = voice(world, category="product_quality")
    login_as(world.agent)
    page = client.get(f"/voices/{v.id}").get_data(as_text=True)
    assert "voices/_classification.html" not in page
    response = post_form(
        f"/voices/{v.id}",
        {"title": "打印机卡纸", "priority": "high", "category": ""},
        action=f"/voices/{v.id}/raise",
    )
    assert response.status_code == 302 and "/issues/" in response.headers["Location"]
    issue = db.session.scalars(sa.select(Issue)).one()
    assert issue.voice_id == v.id and issue.priority == "high"
    issue_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert v.reference in issue_page  # the issue page shows the voice it came from
    voice_page = client.get(f"/voices/{v.id}").get_data(as_text=True)
    assert issue.number in voice_page


def test_raise_without_customer_says_why(client, world, login_as, post_form):
    v = services.record_voice(
        actor=world.agent, channel="observation", text="现场观察", office_code="SH"
    )
    db.session.commit()
    login_as(world.agent)
    response = post_form(
        f"/voices/{v.id}", {"title": "x", "priority": "normal"}, action=f"/voices/{v.id}/raise"
    )
    assert response.status_code == 422
    assert "customer_id" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Issue)) == 0


def test_link_by_number_or_reference_and_dismiss_on_the_voice_page(
    client, world, login_as, post_form, new_issue
):
    issue = new_issue(title="打印机卡纸")
    first = voice(world)
    v = voice(world, "打印机又卡纸了，第三次")
    login_as(world.agent)
    page = client.get(f"/voices/{v.id}").get_data(as_text=True)
    assert first.reference in page and issue["number"] in page  # offered as likely repeats
    r = post_form(f"/voices/{v.id}", {"target": issue["number"]}, action=f"/voices/{v.id}/link")
    assert r.status_code == 302
    link = db.session.scalars(sa.select(VoiceIssueLink)).one()
    assert (link.voice_id, link.kind) == (v.id, "repeat")
    r = post_form(
        f"/voices/{v.id}",
        {"target_kind": "voice", "target_id": str(first.id)},
        action=f"/voices/{v.id}/dismiss",
    )
    assert r.status_code == 302
    page = client.get(f"/voices/{v.id}").get_data(as_text=True)
    offered = page.split('id="candidates"')[1].split("</ul>")[0]
    assert first.reference not in offered and issue["number"] not in offered
    r = post_form(f"/voices/{v.id}", {"target": first.reference}, action=f"/voices/{v.id}/link")
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Voice, v.id).repeat_of_id == first.id
    r = post_form(f"/voices/{v.id}", {"target": "SH-0000-000000"}, action=f"/voices/{v.id}/link")
    assert r.status_code == 422
    r = post_form(f"/voices/{v.id}", {}, action=f"/voices/{v.id}/unlink")
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Voice, v.id).repeat_of_id is None


def test_repeats_json_for_the_forms(client, world, login_as, new_issue):
    first = voice(world)
    issue = new_issue(title="打印机卡纸", description="第三次卡纸")
    voice(world, "打印机卡纸", who=world.agent_gz, customer=world.customer_gz)
    login_as(world.agent)
    r = client.get(
        "/voices/repeats",
        query_string={"text": "打印机又卡纸了，第三次", "customer_id": world.customer.id},
    )
    items = r.get_json()["items"]
    assert {(i["kind"], i["id"]) for i in items} == {("voice", first.id), ("issue", issue["id"])}
    assert all(i["url"] and i["label"] for i in items)
    other = client.get(
        "/voices/repeats",
        query_string={"text": "打印机卡纸", "customer_id": world.customer_gz.id, "office": "GZ"},
    )
    assert other.get_json()["items"] == []  # another office's customer is not looked at
    assert client.get("/voices/repeats?text=&customer_id=x").get_json()["items"] == []


def test_the_hotline_screen_has_the_repeat_panel(client, world, login_as):
    login_as(world.agent)
    page = client.get("/issues/new").get_data(as_text=True)
    assert 'id="repeat-panel"' in page and "/voices/repeats" in page and "repeats.js" in page


def test_pages_need_a_login(client, world):
    assert client.get("/voices/").status_code == 302
    assert client.get("/voices/repeats?text=x").status_code in (302, 401)


def test_csrf_token_present_on_voice_page_forms(client, world, login_as):
    v = voice(world)
    login_as(world.agent)
    page = client.get(f"/voices/{v.id}").get_data(as_text=True)
    assert csrf_from(page)


def test_quick_form_files_into_the_customers_office_by_default(client, world, login_as, post_form):
    login_as(world.qa)  # a company role has no office of its own
    response = post_form(
        "/voices/new",
        {"channel": "hotline", "customer_id": str(world.customer_gz.id), "text": "广州的客户"},
    )
    assert response.status_code == 302
    assert db.session.scalars(sa.select(Voice)).one().office_id == world.gz.id


def test_inbox_queries_do_not_grow_with_the_page(world, count_queries):
    from app.core.scoping import Scope
    from app.voice import queries

    def statements():
        with count_queries() as sql:
            page = queries.list_voices(
                Scope.for_user(world.agent), queries.VoiceFilters(), limit=50, cursor=None
            )
            for v in page.items:
                _ = (v.office.code, v.customer.name, v.category)
        return len(sql)

    voice(world, "一")
    few = statements()
    for i in range(12):
        voice(world, f"声音{i}", category="product_quality")
    assert statements() == few
