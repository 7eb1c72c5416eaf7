from __future__ import annotations

import sqlalchemy as sa

from app.auth.models import User, UserSession
from app.auth.sessions import start_session
from app.core.audit import AuditEvent
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


def test_admin_adds_an_office_with_its_working_hours(
    client, make_region, make_user, login_as, post_form
):
    make_region("WEST")
    login_as(make_user("admin"))
    page = client.get("/admin/organisation").get_data(as_text=True)
    assert 'name="office-work_start"' in page and 'type="time"' in page
    assert "上班时间" in page and "下班时间" in page  # Chinese first
    response = post_form(
        "/admin/organisation",
        {
            "office-code": "CD",
            "office-name": "成都代表处",
            "office-region": "WEST",
            "office-timezone": "Asia/Shanghai",
            "office-work_start": "08:30",
            "office-work_end": "17:30",
        },
    )
    assert response.status_code == 302
    office = db.session.scalars(sa.select(Office)).one()
    assert (office.work_start, office.work_end) == ("08:30", "17:30")
    refused = post_form(
        "/admin/organisation",
        {
            "office-code": "XA",
            "office-name": "西安代表处",
            "office-region": "WEST",
            "office-timezone": "Asia/Shanghai",
            "office-work_start": "17:00",
            "office-work_end": "08:00",
        },
    )
    assert refused.status_code == 200
    assert "must be after the start of work" in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Office)) == 1


def test_admin_edits_an_offices_hours_and_it_is_audited(
    client, make_office, make_user, login_as, post_form
):
    office = make_office("SH")
    admin = make_user("admin")
    login_as(admin)
    listing = client.get("/admin/organisation").get_data(as_text=True)
    assert f"/admin/offices/{office.id}" in listing
    form = client.get(f"/admin/offices/{office.id}").get_data(as_text=True)
    assert 'value="09:00"' in form and 'value="18:00"' in form
    response = post_form(
        f"/admin/offices/{office.id}",
        {
            "name": office.name,
            "timezone": "Asia/Shanghai",
            "work_start": "08:00",
            "work_end": "17:00",
            "version": "1",
        },
    )
    assert response.status_code == 302
    db.session.refresh(office)
    assert (office.work_start, office.work_end, office.version) == ("08:00", "17:00", 2)
    audit = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.entity_type == "office")
    ).one()
    assert audit.action == "update" and audit.actor_id == admin.id
    assert audit.changes == {"work_start": ["09:00", "08:00"], "work_end": ["18:00", "17:00"]}


def test_an_office_edit_with_bad_hours_shows_why_and_saves_nothing(
    client, make_office, make_user, login_as, post_form
):
    office = make_office("SH")
    login_as(make_user("admin"))
    data = {"name": office.name, "timezone": "Asia/Shanghai", "version": "1"}
    late = post_form(
        f"/admin/offices/{office.id}", {**data, "work_start": "18:00", "work_end": "09:00"}
    )
    assert late.status_code == 200
    assert "must be after the start of work" in late.get_data(as_text=True)
    zone = post_form(
        f"/admin/offices/{office.id}",
        {**data, "timezone": "Asia/Nowhere", "work_start": "09:00", "work_end": "18:00"},
    )
    assert "unknown time zone" in zone.get_data(as_text=True)
    db.session.refresh(office)
    assert (office.work_start, office.work_end, office.timezone, office.version) == (
        "09:00",
        "18:00",
        "Asia/Shanghai",
        1,
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0


def test_a_stale_office_edit_shows_the_current_hours_and_keeps_the_input(
    client, make_office, make_user, login_as, post_form
):
    from app.org.services import update_office

    office = make_office("SH")
    admin = make_user("admin")
    login_as(admin)
    update_office(actor=admin, office_id=office.id, version=1, work_start="07:30")
    db.session.commit()
    stale = post_form(
        f"/admin/offices/{office.id}",
        {
            "name": office.name,
            "timezone": "Asia/Shanghai",
            "work_start": "10:00",
            "work_end": "19:00",
            "version": "1",
        },
    )
    assert stale.status_code == 409
    page = stale.get_data(as_text=True)
    assert "07:30" in page and 'value="10:00"' in page and 'value="2"' in page
    db.session.refresh(office)
    assert (office.work_start, office.work_end, office.version) == ("07:30", "18:00", 2)


def test_office_edit_is_for_admins_only(client, make_office, make_user, login_as):
    office = make_office("SH")
    login_as(make_user("office_manager", office=office))
    assert client.get(f"/admin/offices/{office.id}").status_code == 403
