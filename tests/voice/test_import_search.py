"""Imported voices are found by the inbox search. On SQLite the import adds its rows to the FTS5
index per batch, in the batch's transaction (the insert trigger skips rows with an import_id):
the index must hold every voice exactly once, after a crash mid-import and after the resume."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from app.core.scoping import Scope
from app.extensions import db
from app.voice import imports, queries
from app.voice.imports import prepare_resume, run_import
from app.voice.models import Voice, VoiceImport
from app.voice.services import record_voice
from tests.voice.import_helpers import LIMITS, csv_bytes, do_import

ROWS = ["内容", *[f"齿轮箱异响第{i}号，电源模块发热" for i in range(25)]]


def _sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def fts_documents() -> tuple[list[int], int]:
    """The voice ids the FTS5 index holds (from its own term instances, not the content table),
    and how many term instances it holds twice."""
    conn = db.session.connection()
    conn.exec_driver_sql(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.voices_fts_terms "
        "USING fts5vocab(main, voices_fts, instance)"
    )
    docs = sorted(conn.exec_driver_sql("SELECT DISTINCT doc FROM temp.voices_fts_terms").scalars())
    doubled = conn.exec_driver_sql(
        "SELECT count(*) FROM (SELECT 1 FROM temp.voices_fts_terms "
        "GROUP BY term, doc, col, offset HAVING count(*) > 1)"
    ).scalar_one()
    return docs, doubled


def assert_index_matches_voices() -> None:
    if not _sqlite():
        return
    ids = sorted(db.session.scalars(sa.select(Voice.id)))
    assert fts_documents() == (ids, 0)


def found(world, q: str) -> list[str]:
    texts, cursor = [], None
    while True:
        page = queries.list_voices(
            Scope.for_user(world.om), queries.VoiceFilters(q=q), limit=50, cursor=cursor
        )
        texts += [v.text for v in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return texts


@pytest.fixture
def small_window(monkeypatch):
    monkeypatch.setattr(queries, "SCAN_WINDOW", 1)  # answered by the index, not the window


def test_imported_and_recorded_voices_are_searchable(world, small_window):
    record_voice(actor=world.agent, channel="hotline", text="齿轮箱异响（电话）", office_code="SH")
    db.session.commit()
    summary = do_import(world.om, csv_bytes(ROWS), {"text": "内容"}, batch_size=10)
    assert summary.created == 25
    record_voice(actor=world.agent, channel="web", text="齿轮箱异响（网页）", office_code="SH")
    db.session.commit()
    assert len(found(world, "齿轮箱异响")) == 27
    assert found(world, "异响第17号") == ["齿轮箱异响第17号，电源模块发热"]
    assert_index_matches_voices()
    # the same file again: every row a duplicate, nothing indexed twice
    again = do_import(world.om, csv_bytes(ROWS), {"text": "内容"}, batch_size=10)
    assert (again.created, again.duplicates) == (0, 25)
    assert_index_matches_voices()


def test_a_crash_mid_import_leaves_whole_batches_indexed_and_resumes(
    world, small_window, monkeypatch
):
    calls = {"n": 0}
    real = imports._save_progress

    def crash_on_second_batch(**kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("power cut")  # after the batch's insert and indexing
        return real(**kw)

    monkeypatch.setattr(imports, "_save_progress", crash_on_second_batch)
    data = csv_bytes(ROWS)
    with pytest.raises(RuntimeError):
        do_import(world.om, data, {"text": "内容"}, batch_size=10)
    imp = db.session.scalars(sa.select(VoiceImport)).one()
    assert (imp.status, imp.next_row, imp.created) == ("failed", 10, 10)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voice)) == 10
    assert_index_matches_voices()
    assert len(found(world, "齿轮箱异响")) == 10

    monkeypatch.setattr(imports, "_save_progress", real)
    imp, table = prepare_resume(
        actor=world.om, import_id=imp.id, filename="voices.csv", data=data, limits=LIMITS
    )
    summary = run_import(imp, table, actor=world.om, batch_size=10)
    assert (summary.status, summary.created) == ("done", 25)
    assert_index_matches_voices()
    assert len(found(world, "齿轮箱异响")) == 25


@contextmanager
def insert_trigger(sql: str):
    conn = db.session.connection()
    old = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'voices_fts_ai'"
    ).scalar_one()
    conn.exec_driver_sql("DROP TRIGGER voices_fts_ai")
    conn.exec_driver_sql(sql)
    db.session.commit()
    try:
        yield
    finally:
        db.session.rollback()
        conn = db.session.connection()
        conn.exec_driver_sql("DROP TRIGGER voices_fts_ai")
        conn.exec_driver_sql(old)
        db.session.commit()


def test_with_a_trigger_that_indexes_every_row_nothing_is_indexed_twice(world, small_window):
    """A schema whose insert trigger fires for every row (before migration 1577efe981e7, or
    restored from an older definition): the import leaves the indexing to it."""
    if not _sqlite():
        pytest.skip("SQLite's FTS5 index; PostgreSQL's trigram index is an ordinary index")
    every_row = (
        "CREATE TRIGGER voices_fts_ai AFTER INSERT ON voices BEGIN "
        "INSERT INTO voices_fts(rowid, text) VALUES (new.id, new.text); END"
    )
    with insert_trigger(every_row):
        summary = do_import(world.om, csv_bytes(ROWS), {"text": "内容"}, batch_size=10)
        assert summary.created == 25
        assert_index_matches_voices()
        assert len(found(world, "齿轮箱异响")) == 25


def test_the_migrated_trigger_leaves_imported_rows_to_the_import(world):
    if not _sqlite():
        pytest.skip("SQLite only")
    assert imports._fts_trigger_skips_imports()


def _insert_trigger_sql() -> str | None:
    return (
        db.session.connection()
        .exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'voices_fts_ai'"
        )
        .scalar()
    )


def test_the_insert_trigger_set_aside_per_batch_is_back_after_an_import_and_a_crash(
    world, small_window, monkeypatch
):
    """The import drops the (bulk-aware) insert trigger around each batch's insert and creates
    it again in the same transaction: after a finished import, and after one that failed
    mid-batch, it is there as migrated and indexes what the hotline records next."""
    if not _sqlite():
        pytest.skip("SQLite's FTS5 trigger")
    migrated = _insert_trigger_sql()
    summary = do_import(world.om, csv_bytes(ROWS), {"text": "内容"}, batch_size=10)
    assert summary.created == 25 and _insert_trigger_sql() == migrated

    real = imports._index_for_search
    calls = {"n": 0}

    def crash_on_second_batch(ctx, after_id):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(ctx, after_id)

    monkeypatch.setattr(imports, "_index_for_search", crash_on_second_batch)
    more = ["内容", *[f"变频器报警第{i}号" for i in range(25)]]
    with pytest.raises(RuntimeError, match="disk full"):
        do_import(world.om, csv_bytes(more), {"text": "内容"}, batch_size=10)
    assert _insert_trigger_sql() == migrated
    record_voice(
        actor=world.agent, channel="hotline", text="来电：变频器过热停机", office_code="SH"
    )
    db.session.commit()
    assert_index_matches_voices()
    assert found(world, "变频器过热") == ["来电：变频器过热停机"]
