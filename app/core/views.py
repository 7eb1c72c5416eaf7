"""Health check and the home redirect."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, jsonify

from app.extensions import csrf, db

bp = Blueprint("core", __name__)


@bp.get("/healthz")
@csrf.exempt
def healthz() -> Any:
    db.session.execute(sa.text("SELECT 1"))
    return jsonify({"status": "ok"})
