"""Customer services: validation, scope, versions and the audit trail."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.customers.models import Customer, CustomerPhone
from app.customers.services import create_customer, update_customer
from app.extensions import db


@pytest.fixture
def offices(make_region, make_office):
    east = make_region("EAST")
    return (
        make_office("SH", region=east),
        make_office("HZ", region=east),
        make_office("GZ", region=make_region("SOUTH")),
    )


@pytest.fixture
def agent(offices, make_user):
    return make_user("agent", office=offices[0])


def audit_rows(customer_id):
    stmt = (
        sa.select(AuditEvent)
        .where(AuditEvent.entity_type == "customer", AuditEvent.entity_id == customer_id)
        .order_by(AuditEvent.id)
    )
    return list(db.session.scalars(stmt))


def test_create_normalises_and_audits(agent, offices):
    customer = create_customer(
        actor=agent,
        name="  张伟 ",
        office_code=None,
        company="上海电气",
        phones=["+86 138-0013-8000", "0086 13800138000", "021-6888 8888", " "],
        email="Zhang.Wei@Example.COM",
        tier="a",
        contract_end=date(2027, 6, 30),
    )
    db.session.commit()
    assert customer.office_id == offices[0].id  # an office role's own office by default
    assert customer.name == "张伟" and customer.tier == "A"
    assert customer.email == "Zhang.Wei@example.com"  # the domain is case-insensitive
    assert [(p.number, p.raw) for p in customer.phones] == [
        ("13800138000", "+86 138-0013-8000"),  # the same number twice is stored once
        ("02168888888", "021-6888 8888"),
    ]
    (row,) = audit_rows(customer.id)
    assert row.action == "create" and row.actor_id == agent.id
    assert row.office_id == offices[0].id
    assert row.changes["name"] == [None, "张伟"]


def test_create_reports_every_bad_field(agent):
    with pytest.raises(ValidationFailed) as caught:
        create_customer(
            actor=agent,
            name="x" * 121,
            office_code=None,
            phones=["13800138000", "not a number"],
            email="zhang@",
            tier="Z",
            notes="n" * 10_001,
        )
    assert set(caught.value.fields) == {"name", "phones", "email", "tier", "notes"}
    assert "not a number" in caught.value.fields["phones"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 0


def test_blank_name_is_refused(agent):
    with pytest.raises(ValidationFailed) as caught:
        create_customer(actor=agent, name="   ", office_code=None)
    assert set(caught.value.fields) == {"name"}


def test_office_must_be_in_the_actors_scope(offices, make_user, agent):
    with pytest.raises(ValidationFailed) as caught:
        create_customer(actor=agent, name="李娜", office_code="GZ")
    assert caught.value.fields == {"office": "unknown office"}
    with pytest.raises(ValidationFailed) as unknown:
        create_customer(actor=agent, name="李娜", office_code="NOWHERE")
    assert unknown.value.fields == {"office": "unknown office"}
    east_manager = make_user("regional_manager", region=offices[0].region)
    in_region = create_customer(actor=east_manager, name="李娜", office_code="hz")
    assert in_region.office_id == offices[1].id
    with pytest.raises(ValidationFailed):
        create_customer(actor=east_manager, name="李娜", office_code="GZ")


def test_roles_above_an_office_must_name_one(make_user, offices):
    admin = make_user("admin")
    with pytest.raises(ValidationFailed) as caught:
        create_customer(actor=admin, name="王芳", office_code=None)
    assert "office" in caught.value.fields
    assert create_customer(actor=admin, name="王芳", office_code="GZ").office_id == offices[2].id


def test_update_applies_changes_and_audits_the_diff(agent):
    customer = create_customer(actor=agent, name="张伟", office_code=None, phones=["13800138000"])
    db.session.commit()
    updated = update_customer(
        actor=agent,
        customer_id=customer.id,
        version=1,
        name="张伟",  # unchanged: not in the diff
        company="上海电气",
        tier="B",
    )
    db.session.commit()
    assert updated.version == 2 and updated.company == "上海电气" and updated.tier == "B"
    last = audit_rows(customer.id)[-1]
    assert last.action == "update"
    assert last.changes == {"company": [None, "上海电气"], "tier": ["C", "B"]}


def test_changing_only_phones_moves_the_version(agent):
    customer = create_customer(actor=agent, name="张伟", office_code=None, phones=["13800138000"])
    db.session.commit()
    kept_id = customer.phones[0].id
    update_customer(
        actor=agent,
        customer_id=customer.id,
        version=1,
        phones=["138 0013 8000", "13900000000"],
    )
    db.session.commit()
    db.session.expire_all()
    customer = db.session.get(Customer, customer.id)
    assert customer.version == 2
    assert [p.number for p in customer.phones] == ["13800138000", "13900000000"]
    assert customer.phones[0].id == kept_id  # the unchanged number keeps its row
    assert audit_rows(customer.id)[-1].changes == {
        "phones": ["13800138000", "13800138000, 13900000000"]
    }
    update_customer(actor=agent, customer_id=customer.id, version=2, phones=[])
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CustomerPhone)) == 0


def test_no_change_means_no_new_version_and_no_audit(agent):
    customer = create_customer(actor=agent, name="张伟", office_code=None)
    db.session.commit()
    update_customer(actor=agent, customer_id=customer.id, version=1, name="张伟")
    db.session.commit()
    assert customer.version == 1
    assert [r.action for r in audit_rows(customer.id)] == ["create"]


def test_stale_version_conflicts_and_changes_nothing(agent):
    customer = create_customer(actor=agent, name="张伟", office_code=None)
    db.session.commit()
    update_customer(actor=agent, customer_id=customer.id, version=1, name="张伟伟")
    db.session.commit()
    with pytest.raises(Conflict):
        update_customer(actor=agent, customer_id=customer.id, version=1, name="覆盖")
    db.session.rollback()
    db.session.expire_all()
    fresh = db.session.get(Customer, customer.id)
    assert fresh.name == "张伟伟" and fresh.version == 2
    assert len(audit_rows(customer.id)) == 2


def test_out_of_scope_update_is_not_found(agent, offices, make_user):
    customer = create_customer(actor=agent, name="张伟", office_code=None)
    db.session.commit()
    outsider = make_user("office_manager", office=offices[2])
    with pytest.raises(NotFound):
        update_customer(actor=outsider, customer_id=customer.id, version=1, name="x")
    with pytest.raises(NotFound):
        update_customer(actor=agent, customer_id=customer.id + 1000, version=1, name="x")


def test_update_refuses_unknown_fields_and_foreign_offices(agent):
    customer = create_customer(actor=agent, name="张伟", office_code=None)
    db.session.commit()
    with pytest.raises(ValidationFailed) as unknown:
        update_customer(actor=agent, customer_id=customer.id, version=1, version_id=5)
    assert unknown.value.fields == {"version_id": "not editable"}
    with pytest.raises(ValidationFailed) as foreign:
        update_customer(actor=agent, customer_id=customer.id, version=1, office_code="GZ")
    assert foreign.value.fields == {"office": "unknown office"}
    db.session.rollback()
    assert db.session.get(Customer, customer.id).version == 1


def test_a_manager_can_move_a_customer_within_the_region(agent, offices, make_user):
    customer = create_customer(actor=agent, name="张伟", office_code=None)
    db.session.commit()
    manager = make_user("regional_manager", region=offices[0].region)
    moved = update_customer(actor=manager, customer_id=customer.id, version=1, office_code="HZ")
    db.session.commit()
    assert moved.office_id == offices[1].id
    last = audit_rows(customer.id)[-1]
    assert last.changes == {"office_id": [offices[0].id, offices[1].id]}
    assert last.office_id == offices[1].id
