"""/api/v1/voices/import: a CSV or XLSX of voices (sales reports, returns, research) in one call.

Multipart: `file`, `channel`, `office` (code), `mapping` (a JSON object: product field → the
file's column header). The import runs in the request; its rows commit batch by batch, so a
broken connection leaves a resumable import (`flask voices import --resume ID`, or the page).
Who may import: office managers, regional managers, quality admins and admins (403 otherwise).
"""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, request
from flask_smorest.fields import Upload
from marshmallow import Schema, fields

from app.api import api_user, make_blueprint
from app.api.issue_schemas import ErrorEnvelopeSchema
from app.core.errors import ValidationFailed
from app.voice.importers import Limits
from app.voice.imports import IMPORT_FIELDS, prepare_import, run_import
from app.voice.problems import ENGLISH as PROBLEM_CODES

# the multipart envelope around the file: boundaries, the other fields
FORM_OVERHEAD = 1024 * 1024

voice_import = make_blueprint(
    "voice_import_api", "/voices/import", "Voice import (客户声音导入): CSV and XLSX files"
)
BLUEPRINTS = [voice_import]


class ImportFormSchema(Schema):
    channel = fields.String(required=True, metadata={"description": "channel code, e.g. return"})
    office = fields.String(required=True, metadata={"description": "office code"})
    mapping = fields.String(
        required=True,
        metadata={
            "description": "JSON object: field → column header; fields: " + ", ".join(IMPORT_FIELDS)
        },
    )


class ImportFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "CSV (UTF-8 or GBK) or XLSX"})


class ProblemCodeSchema(Schema):
    code = fields.String(
        required=True,
        metadata={"description": "stable problem code: " + ", ".join(PROBLEM_CODES)},
    )
    params = fields.Dict(
        keys=fields.String(),
        required=True,
        metadata={"description": 'values in the message, e.g. {"limit": 20000} for too_long'},
    )


class RejectedRowSchema(Schema):
    row = fields.Integer(required=True, metadata={"description": "row number; the header is 1"})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": "field (or `record`) → the problem in English"},
    )
    codes = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(ProblemCodeSchema),
        metadata={"description": "the same problems as codes with parameters, by field"},
    )


class ImportSummarySchema(Schema):
    import_id = fields.Integer(required=True)
    status = fields.String(required=True)
    total_rows = fields.Integer(required=True)
    processed_rows = fields.Integer(required=True)
    created = fields.Integer(required=True)
    duplicates = fields.Integer(required=True)
    rejected_count = fields.Integer(required=True)
    rejected = fields.List(
        fields.Nested(RejectedRowSchema),
        required=True,
        metadata={"description": "the first 1,000 rejected rows with their errors"},
    )


@voice_import.before_request
def _allow_large_body() -> None:
    request.max_content_length = _limits().max_bytes + FORM_OVERHEAD


def _limits() -> Limits:
    return Limits.from_config(current_app.config)


def _mapping(raw: str) -> Any:
    try:
        mapping = json.loads(raw)
    except ValueError:
        mapping = None
    if not isinstance(mapping, dict):
        raise ValidationFailed(fields={"mapping": "must be a JSON object: field → column header"})
    return mapping


@voice_import.route("", methods=["POST"])
@voice_import.arguments(ImportFormSchema, location="form")
@voice_import.arguments(ImportFileSchema, location="files")
@voice_import.response(201, ImportSummarySchema)
@voice_import.alt_response(403, schema=ErrorEnvelopeSchema, description="the role may not import")
@voice_import.alt_response(413, schema=ErrorEnvelopeSchema, description="the file is too large")
@voice_import.alt_response(
    422,
    schema=ErrorEnvelopeSchema,
    description="bad channel, office (also one outside the caller's scope), mapping or file",
)
def import_voices(form: dict[str, Any], files: dict[str, Any]) -> Any:
    """Import voices from a file: rows are validated like `POST /voices`; duplicates (by
    `external_id` when mapped, else by content) are counted, not stored again."""
    upload = files["file"]
    data = upload.read(_limits().max_bytes + 1)
    imp, table = prepare_import(
        actor=api_user(),
        office_code=form["office"],
        channel=form["channel"],
        filename=upload.filename or "upload",
        data=data,
        mapping=_mapping(form["mapping"]),
        limits=_limits(),
    )
    return run_import(imp, table, actor=api_user()).as_dict()
