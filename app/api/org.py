"""Regions and offices."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from app.api import api_user, make_blueprint
from app.api.auth import require_api_role
from app.auth.roles import Role
from app.core.scoping import Scope
from app.extensions import db
from app.org import services
from app.org.models import Office, Region

regions = make_blueprint("regions", "/regions", "Regions (地区部)")
offices = make_blueprint("offices", "/offices", "Representative offices (代表处)")
BLUEPRINTS = [regions, offices]


class RegionSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))


class OfficeSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    region = fields.Function(
        lambda o: o.region.code, deserialize=str, required=True, metadata={"description": "code"}
    )
    timezone = fields.String(load_default="Asia/Shanghai", validate=validate.Length(max=64))


class RegionList(Schema):
    items = fields.List(fields.Nested(RegionSchema), required=True)


class OfficeList(Schema):
    items = fields.List(fields.Nested(OfficeSchema), required=True)


def _require_admin() -> None:
    require_api_role(Role.ADMIN, message="Only administrators can change the organisation.")


@regions.route("", methods=["GET"])
@regions.response(200, RegionList)
def list_regions() -> Any:
    return {"items": services.list_regions()}


@regions.route("", methods=["POST"])
@regions.arguments(RegionSchema)
@regions.response(201, RegionSchema)
def create_region(data: dict[str, Any]) -> Region:
    _require_admin()
    region = services.create_region(code=data["code"], name=data["name"], actor=api_user())
    db.session.commit()
    return region


@offices.route("", methods=["GET"])
@offices.response(200, OfficeList)
def list_offices() -> Any:
    return {"items": services.list_offices(Scope.for_user(api_user()))}


@offices.route("", methods=["POST"])
@offices.arguments(OfficeSchema)
@offices.response(201, OfficeSchema)
def create_office(data: dict[str, Any]) -> Office:
    _require_admin()
    office = services.create_office(
        code=data["code"],
        name=data["name"],
        region_code=data["region"],
        timezone=data["timezone"],
        actor=api_user(),
    )
    db.session.commit()
    return office
