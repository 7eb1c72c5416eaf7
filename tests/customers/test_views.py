from __future__ import annotations

import pytest

from app.customers.models import Customer
from app.customers.services import create_customer
from app.extensions import db


@pytest.fixture
def setup(make_region, make_office, make_user):
    sh = make_office("SH", region=make_region("EAST"))
    gz = make_office("GZ", region=make_region("SOUTH"))
    agent = make_user("agent", office=sh)
    customer = create_customer(
        actor=agent, name="张伟", office_code=None, company="上海电气", phones=["138 0013 8000"]
    )
    other = create_customer(
        actor=make_user("agent", office=gz), name="李娜", office_code=None, phones=["13900000000"]
    )
    db.session.commit()
    return agent, customer, other


def test_requires_login(client):
    response = client.get("/customers/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_list_and_search_by_full_width_phone(client, setup, login_as):
    agent, customer, other = setup
    login_as(agent)
    html = client.get("/customers/").get_data(as_text=True)
    assert "张伟" in html and "李娜" not in html
    found = client.get("/customers/", query_string={"q": "１３８００"}).get_data(as_text=True)
    assert "张伟" in found
    suggestions = client.get("/customers/search.json?q=13800").get_json()["items"]
    assert [s["name"] for s in suggestions] == ["张伟"]
    assert client.get("/customers/search.json?q=13900").get_json()["items"] == []


def test_other_office_customer_is_404(client, setup, login_as):
    agent, _, other = setup
    login_as(agent)
    assert client.get(f"/customers/{other.id}").status_code == 404
    assert client.get(f"/customers/{other.id}/edit").status_code == 404


def test_detail_escapes_user_text(client, setup, login_as):
    agent, customer, _ = setup
    customer.notes = "<script>alert(1)</script>"
    db.session.commit()
    login_as(agent)
    html = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_create_customer_form(client, setup, login_as, post_form):
    agent, _, _ = setup
    login_as(agent)
    response = post_form(
        "/customers/new",
        {"name": "王芳", "phones": "+86 137-0000-0000", "office": "SH", "tier": "B"},
    )
    assert response.status_code == 302
    created = db.session.query(Customer).filter_by(name="王芳").one()
    assert [p.number for p in created.phones] == ["13700000000"]


def test_create_customer_form_errors(client, setup, login_as, post_form):
    agent, _, _ = setup
    login_as(agent)
    response = post_form(
        "/customers/new", {"name": "王芳", "phones": "abc", "office": "SH", "tier": "B"}
    )
    assert response.status_code == 200
    assert "abc" in response.get_data(as_text=True)
    bad_office = post_form("/customers/new", {"name": "王芳", "office": "GZ", "tier": "B"})
    assert bad_office.status_code == 200
    assert db.session.query(Customer).filter_by(name="王芳").count() == 0


def test_stale_edit_shows_conflict_and_keeps_input(client, setup, login_as):
    agent, customer, _ = setup
    login_as(agent)
    page = client.get(f"/customers/{customer.id}/edit").get_data(as_text=True)
    from tests.conftest import csrf_from

    token = csrf_from(page)
    customer.name = "张伟（别人改的）"
    db.session.commit()
    response = client.post(
        f"/customers/{customer.id}/edit",
        data={"csrf_token": token, "name": "我的输入", "office": "SH", "tier": "C", "version": "1"},
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "张伟（别人改的）" in html and "我的输入" in html
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).name == "张伟（别人改的）"


def test_detail_shows_the_customers_facts(client, setup, login_as):
    agent, customer, _ = setup
    login_as(agent)
    html = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert "张伟" in html and "上海电气" in html and "138 0013 8000" in html
    assert "SH office (SH)" in html
    # the sections later features fill say honestly that there is nothing yet
    assert "暂无问题或客户声音" in html and "暂无调查答卷" in html


def test_detail_lists_the_customers_issues_newest_first(client, world, new_issue, login_as):
    first = new_issue(title="第一次来电")
    second = new_issue(title="第二次来电")
    login_as(world.agent)
    html = client.get(f"/customers/{world.customer.id}").get_data(as_text=True)
    assert html.index(second["number"]) < html.index(first["number"])
    assert "status-accepted" in html and "已受理" in html
    assert "暂无问题或客户声音" not in html


def test_edit_saves_and_bumps_the_version(client, setup, login_as, post_form):
    agent, customer, _ = setup
    login_as(agent)
    page = client.get(f"/customers/{customer.id}/edit").get_data(as_text=True)
    assert 'name="version"' in page and 'value="1"' in page and "138 0013 8000" in page
    response = post_form(
        f"/customers/{customer.id}/edit",
        {
            "name": "张伟",
            "company": "上海电气集团",
            "phones": "138 0013 8000， 021-5555 0000",
            "office": "SH",
            "tier": "A",
            "version": "1",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/customers/{customer.id}")
    db.session.expire_all()
    saved = db.session.get(Customer, customer.id)
    assert (saved.company, saved.tier, saved.version) == ("上海电气集团", "A", 2)
    assert len(saved.phones) == 2
    assert "已保存" in client.get(f"/customers/{customer.id}").get_data(as_text=True)


def test_list_pages_with_a_cursor(client, setup, login_as, monkeypatch):
    agent, _, _ = setup
    for i in range(3):
        create_customer(actor=agent, name=f"客户{i}", office_code=None)
    db.session.commit()
    monkeypatch.setattr("app.customers.views.PAGE_SIZE", 2)
    login_as(agent)
    seen: list[str] = []
    url = "/customers/"
    for _page in range(3):
        html = client.get(url).get_data(as_text=True)
        seen += [n for n in ("张伟", "客户0", "客户1", "客户2") if f">{n}</a>" in html]
        if 'rel="next"' not in html:
            break
        url = html.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    assert sorted(seen) == sorted(["张伟", "客户0", "客户1", "客户2"])
    assert 'rel="next"' not in html


def test_search_keeps_the_query_on_the_next_page_link(client, setup, login_as, monkeypatch):
    agent, _, _ = setup
    for i in range(3):
        create_customer(actor=agent, name=f"王{i}", office_code=None)
    db.session.commit()
    monkeypatch.setattr("app.customers.views.PAGE_SIZE", 2)
    login_as(agent)
    html = client.get("/customers/?q=王").get_data(as_text=True)
    next_url = html.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    assert "q=%E7%8E%8B" in next_url
    rest = client.get(next_url).get_data(as_text=True)
    names = [n for n in ("王0", "王1", "王2") if f">{n}</a>" in html + rest]
    assert names == ["王0", "王1", "王2"] and "张伟" not in rest


def test_search_without_a_match_escapes_the_query(client, setup, login_as):
    agent, _, _ = setup
    login_as(agent)
    html = client.get("/customers/", query_string={"q": "<b>x</b>"}).get_data(as_text=True)
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert "没有" in html


def test_out_of_scope_customer_gets_the_friendly_404_page(client, setup, login_as):
    agent, _, other = setup
    login_as(agent)
    response = client.get(f"/customers/{other.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "李娜" not in html and "未找到" in html and 'class="topbar"' in html


def test_search_json_requires_login(client):
    response = client.get("/customers/search.json?q=138")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
