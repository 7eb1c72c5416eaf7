"""Customers (and, in the same module, staff users: both are people records)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from marshmallow import Schema, ValidationError, fields, validate

from app.api import api_user, make_blueprint, page_args
from app.api.schemas import PageArgs, Timestamp, page_schema
from app.auth import services as auth_services
from app.auth.models import User
from app.auth.permissions import has_role
from app.auth.roles import Role
from app.core.errors import Forbidden, ValidationFailed
from app.core.scoping import Scope
from app.customers import queries, services
from app.customers.models import TIERS, Customer
from app.extensions import db
from app.voice.queries_timeline import recent_voices

customers = make_blueprint("customers_api", "/customers", "Customers (客户)")
users = make_blueprint("users_api", "/users", "Staff users")
BLUEPRINTS = [customers, users]


class CustomerSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    company = fields.String(allow_none=True, validate=validate.Length(max=200))
    phone = fields.String(
        load_only=True,
        allow_none=True,
        validate=validate.Length(max=64),
        metadata={"description": "one phone number; use `phones` for several"},
    )
    phones = fields.Method(
        "dump_phones",
        deserialize="load_phones",
        metadata={"description": "normalised digits, e.g. 13800138000"},
    )
    email = fields.String(allow_none=True, validate=validate.Length(max=254))
    office = fields.Function(lambda c: c.office.code, deserialize=str, allow_none=True)
    tier = fields.String(load_default="C", validate=validate.OneOf(TIERS))
    contract_end = fields.Date(allow_none=True)
    notes = fields.String(load_default="", validate=validate.Length(max=10_000))
    version = fields.Integer(dump_only=True)
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)

    def dump_phones(self, customer: Customer) -> list[str]:
        return [p.number for p in customer.phones]

    def load_phones(self, value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValidationError("a list of phone numbers")
        if len(value) > 10:
            raise ValidationError("at most 10 phone numbers")
        return value


class CustomerDetailSchema(CustomerSchema):
    open_issues = fields.List(fields.Dict(), metadata={"description": "issues not yet resolved"})
    ratings = fields.List(fields.Dict(), metadata={"description": "the last ratings given"})
    recent_voices = fields.List(
        fields.Dict(),
        metadata={
            "description": "the last 10 voices: id, reference, channel, kind, occurred_at, "
            "text (start), dimension, category, sentiment, repeat_of_id"
        },
    )


class CustomerPatchSchema(CustomerSchema):
    version = fields.Integer(required=True)
    name = fields.String(validate=validate.Length(min=1, max=120))
    tier = fields.String(validate=validate.OneOf(TIERS))
    notes = fields.String(validate=validate.Length(max=10_000))


class CustomerQuery(PageArgs):
    q = fields.String(load_default=None, validate=validate.Length(max=100))


CustomerPage = page_schema(CustomerSchema, "CustomerPage")


def _phones_of(data: dict[str, Any]) -> list[str] | None:
    if "phones" not in data and "phone" not in data:
        return None
    phones = list(data.get("phones") or [])
    if data.get("phone"):
        phones.insert(0, data["phone"])
    return phones


@contextmanager
def _errors_named_as_sent(data: dict[str, Any]) -> Iterator[None]:
    """The service reports phone problems on `phones`; a caller who sent `phone` hears it
    on `phone`."""
    try:
        yield
    except ValidationFailed as exc:
        if "phones" in exc.fields and "phone" in data and "phones" not in data:
            exc.fields["phone"] = exc.fields.pop("phones")
        raise


@customers.route("", methods=["POST"])
@customers.arguments(CustomerSchema)
@customers.response(201, CustomerSchema)
def create_customer(data: dict[str, Any]) -> Customer:
    with _errors_named_as_sent(data):
        customer = services.create_customer(
            actor=api_user(),
            name=data["name"],
            office_code=data.get("office"),
            company=data.get("company"),
            phones=_phones_of(data) or [],
            email=data.get("email"),
            tier=data["tier"],
            contract_end=data.get("contract_end"),
            notes=data["notes"],
        )
    db.session.commit()
    return customer


@customers.route("", methods=["GET"])
@customers.arguments(CustomerQuery, location="query")
@customers.response(200, CustomerPage)
def list_customers(args: dict[str, Any]) -> Any:
    limit, cursor = page_args(args)
    page = queries.search_customers(
        Scope.for_user(api_user()), args.get("q"), limit=limit, cursor=cursor
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


class CustomerDetail:
    """A customer plus open issues, recent ratings (and, later, voices) for the detail schema."""

    def __init__(self, customer: Customer) -> None:
        from app.issues.models import Issue
        from app.issues.queries import OPEN

        self._customer = customer
        recent = db.session.scalars(
            sa.select(Issue)
            .where(Issue.customer_id == customer.id)
            .order_by(Issue.id.desc())
            .limit(50)
        ).all()
        self.open_issues = [
            {
                "id": i.id,
                "number": i.number,
                "title": i.title,
                "status": i.status,
                "resolve_due_at": i.resolve_due_at.isoformat(),
            }
            for i in recent
            if i.status in OPEN
        ]
        self.ratings = [
            {
                "issue_id": i.id,
                "number": i.number,
                "rating": i.rating,
                "closed_at": i.closed_at.isoformat() if i.closed_at else None,
            }
            for i in recent
            if i.rating is not None
        ][:10]
        self.recent_voices = recent_voices(Scope.for_user(api_user()), customer.id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._customer, name)


@customers.route("/<int:customer_id>", methods=["GET"])
@customers.response(200, CustomerDetailSchema)
def get_customer(customer_id: int) -> Any:
    return CustomerDetail(queries.get_customer(Scope.for_user(api_user()), customer_id))


@customers.route("/<int:customer_id>", methods=["PATCH"])
@customers.arguments(CustomerPatchSchema)
@customers.response(200, CustomerSchema)
def patch_customer(data: dict[str, Any], customer_id: int) -> Customer:
    changes = {k: v for k, v in data.items() if k not in {"version", "phone", "phones", "office"}}
    phones = _phones_of(data)
    if phones is not None:
        changes["phones"] = phones
    if "office" in data:
        changes["office_code"] = data["office"]
    with _errors_named_as_sent(data):
        customer = services.update_customer(
            actor=api_user(), customer_id=customer_id, version=data["version"], **changes
        )
    db.session.commit()
    return customer


class UserSchema(Schema):
    id = fields.Integer(dump_only=True)
    email = fields.String(required=True, validate=validate.Length(max=254))
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))
    office = fields.Function(
        lambda u: u.office.code if u.office else None, deserialize=str, allow_none=True
    )
    region = fields.Function(
        lambda u: u.region.code if u.region else None, deserialize=str, allow_none=True
    )
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=8, max=512)
    )
    active = fields.Boolean(dump_only=True)


@users.route("", methods=["POST"])
@users.arguments(UserSchema)
@users.response(201, UserSchema)
def create_user(data: dict[str, Any]) -> User:
    actor = api_user()
    if not has_role(actor, Role.ADMIN):
        raise Forbidden("Only administrators can add users.")
    user = auth_services.create_user(
        email=data["email"],
        name=data["name"],
        role=data["role"],
        password=data["password"],
        office_code=data.get("office"),
        region_code=data.get("region"),
        actor=actor,
    )
    db.session.commit()
    return user
