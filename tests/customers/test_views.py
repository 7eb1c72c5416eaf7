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
