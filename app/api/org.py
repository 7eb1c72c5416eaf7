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
    timezone = fields.String(
        load_default=services.DEFAULT_TIMEZONE, validate=validate.Length(max=64)
    )
    # the SLA clocks count these hours, in the office's time zone ("HH:MM", start < end)
    work_start = fields.String(
        load_default=services.DEFAULT_WORK_START, metadata={"example": "09:00"}
    )
    work_end = fields.String(load_default=services.DEFAULT_WORK_END, metadata={"example": "18:00"})
    version = fields.Integer(dump_only=True)


class OfficePatchSchema(Schema):
    """The fields an admin may change; the code and the region stay (unknown fields: 422)."""

    version = fields.Integer(required=True)
    name = fields.String(validate=validate.Length(min=1, max=120))
    timezone = fields.String(validate=validate.Length(max=64))
    work_start = fields.String(metadata={"example": "08:30"})
    work_end = fields.String(metadata={"example": "17:30"})


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
        work_start=data["work_start"],
        work_end=data["work_end"],
        actor=api_user(),
    )
    db.session.commit()
    return office


@offices.route("/<int:office_id>", methods=["PATCH"])
@offices.arguments(OfficePatchSchema)
@offices.response(200, OfficeSchema)
def patch_office(data: dict[str, Any], office_id: int) -> Office:
    """Name, time zone and working hours; new SLA deadlines of the office follow at once."""
    _require_admin()
    changes = {k: v for k, v in data.items() if k != "version"}
    office = services.update_office(
        actor=api_user(), office_id=office_id, version=data["version"], **changes
    )
    db.session.commit()
    return office
