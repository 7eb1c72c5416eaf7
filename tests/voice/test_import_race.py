"""Two imports of overlapping files at the same time, each in its own thread, session and
connection, committing for real: the unique constraints keep every voice once."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.auth.models import User
from app.extensions import db
from app.voice.models import Voice
from tests.issues.test_concurrency import run_together
from tests.voice.import_helpers import csv_bytes, do_import

pytestmark = pytest.mark.committing

HEADER = "内容,日期"
ROWS = [f"第{i}条退货反馈,2026-11-23 {i // 60:02d}:{i % 60:02d}" for i in range(300)]


def test_two_racing_imports_store_each_row_once(app, world):
    first = csv_bytes([HEADER, *ROWS[:200]])
    second = csv_bytes([HEADER, *ROWS[100:]])
    mapping = {"text": "内容", "occurred_at": "日期"}
    manager_id = world.om.id

    def importer(data):
        def work():
            actor = db.session.get(User, manager_id)
            return do_import(actor, data, mapping, batch_size=25)

        return work

    results, errors = run_together(app, [importer(first), importer(second)])
    assert errors == []
    assert sum(r.created for r in results) == 300
    assert sum(r.duplicates for r in results) == 100
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Voice))
    assert count == 300
