from __future__ import annotations

import sqlalchemy as sa

from app.auth.models import User, UserSession
from app.auth.sessions import start_session
from app.extensions import db
from app.org.models import Office, Region


def test_admin_pages_are_for_admins_only(client, make_office, make_user, login_as):
    login_as(make_user("office_manager", office=make_office()))
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/organisation").status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_admin_creates_a_user_with_the_right_place(
    client, make_office, make_user, login_as, post_form
):
    make_office("SH")
    login_as(make_user("admin"))
    response = post_form(
        "/admin/users/new",
        {
            "email": "new@example.com",
            "name": "新人",
            "role": "handler",
            "office": "SH",
            "region": "",
            "password": "long enough password",
        },
    )
    assert response.status_code == 302
    user = db.session.scalars(sa.select(User).where(User.email == "new@example.com")).one()
    assert user.role == "handler" and user.office.code == "SH"
    wrong = post_form(
        "/admin/users/new",
        {
            "email": "rm@example.com",
            "name": "x",
            "role": "regional_manager",
            "office": "SH",
            "region": "",
            "password": "long enough password",
        },
    )
    assert wrong.status_code == 200
    assert db.session.scalar(sa.select(User.id).where(User.email == "rm@example.com")) is None


def test_deactivating_a_user_signs_them_out(client, make_office, make_user, login_as, post_form):
    office = make_office("SH")
    agent = make_user("agent", office=office)
    start_session(agent)
    db.session.commit()
    login_as(make_user("admin"))
    response = post_form(
        f"/admin/users/{agent.id}",
        {"name": agent.name, "role": "agent", "office": "SH", "region": ""},
    )
    assert response.status_code == 302
    db.session.refresh(agent)
    assert agent.active is False
    assert (
        db.session.scalars(sa.select(UserSession).where(UserSession.user_id == agent.id))
        .one()
        .revoked_at
    )


def test_admin_adds_region_and_office(client, make_user, login_as, post_form):
    login_as(make_user("admin"))
    post_form("/admin/organisation", {"region-code": "west", "region-name": "西部地区部"})
    post_form(
        "/admin/organisation",
        {"office-code": "cd", "office-name": "成都代表处", "office-region": "WEST"},
    )
    office = db.session.scalars(sa.select(Office)).one()
    assert office.code == "CD" and office.region.code == "WEST"
    dup = post_form("/admin/organisation", {"region-code": "WEST", "region-name": "x"})
    assert dup.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Region)) == 1
