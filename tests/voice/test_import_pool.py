"""Big imports build their rows in a pool of processes: the same voices, the same report, the
same resumable failure as an import built in-process."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.voice import imports
from app.voice.import_pool import built_batches, workers_for
from app.voice.import_rows import RowBuilder
from app.voice.importers import SourceRow
from app.voice.imports import prepare_resume, run_import
from app.voice.models import Voice, VoiceImport
from app.voice.rules import ensure_default_rules
from tests.voice.import_helpers import LIMITS, csv_bytes, do_import

MAP = {
    "text": "内容",
    "occurred_at": "日期",
    "customer_phone": "电话",
    "customer_name": "客户",
    "category": "类别",
    "batch": "批次",
}
SKIP = {"id", "reference", "import_id", "created_at"}


def mixed_file(rows: int = 90) -> bytes:
    """Good rows in every date form, known and unknown customers, categories by code and by
    Chinese name, a bad date, an unknown category, an empty text, blank lines, a repeat."""
    lines = ["内容,日期,电话,客户,类别,批次"]
    forms = ("2026-11-{d:02d} 14:05", "2026/11/{d:02d}", "2026年11月{d:02d}日 09:30", "")
    for i in range(rows):
        day = i % 27 + 1
        text = f"第{i}条：设备通电后无反应，客服响应很快，非常满意" if i % 2 else f"发货延迟{i}天"
        phone = "138 0013 8000" if i % 5 == 0 else f"186{i:08d}"
        category = ("product_quality", "产品质量", "", "no_such_category")[i % 4 if i % 17 else 3]
        when = forms[i % 4].format(d=day) if i % 23 else "昨天"
        lines.append(f"{'' if i % 31 == 30 else text},{when},{phone},张伟,{category},B{i % 3}")
        if i % 29 == 28:
            lines.append(",,,,,")
    lines.append(lines[2])  # the second row again: a duplicate within the file
    return csv_bytes(lines)


def stored() -> list[dict[str, object]]:
    rows = db.session.execute(sa.select(Voice.__table__).order_by(Voice.import_row)).mappings()
    return [{k: v for k, v in row.items() if k not in SKIP} for row in rows]


def forget_imports() -> None:
    db.session.execute(sa.delete(Voice))
    db.session.execute(sa.delete(VoiceImport))
    db.session.commit()


def test_a_file_built_in_the_pool_is_stored_as_one_built_in_process(world):
    ensure_default_rules()
    data = mixed_file()
    here = do_import(world.om, data, MAP, batch_size=7, workers=1)
    expected = stored()
    forget_imports()
    pooled = do_import(world.om, data, MAP, batch_size=7, workers=2)
    assert stored() == expected
    assert (pooled.created, pooled.duplicates, pooled.rejected_count, pooled.rejected) == (
        here.created,
        here.duplicates,
        here.rejected_count,
        here.rejected,
    )
    assert here.created > 50 and here.rejected_count >= 5 and here.duplicates == 1
    # the rules classified rows in the pool too, and customers were matched by the writer
    assert any(row["classified_by"] == "rules" for row in expected)
    assert any(row["customer_id"] == world.customer.id for row in expected)


def test_a_crash_while_writing_leaves_whole_batches_and_the_pool_resumes(world, monkeypatch):
    data = mixed_file(40)
    real = imports._import_batch
    calls = {"n": 0}

    def crash_on_third_batch(ctx, batch):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("power cut")
        return real(ctx, batch)

    monkeypatch.setattr(imports, "_import_batch", crash_on_third_batch)
    with pytest.raises(RuntimeError, match="power cut"):
        do_import(world.om, data, MAP, batch_size=10, workers=2)
    imp = db.session.scalars(sa.select(VoiceImport)).one()
    assert (imp.status, imp.next_row) == ("failed", 20)
    assert db.session.scalar(sa.select(sa.func.max(Voice.import_row))) <= 21

    monkeypatch.setattr(imports, "_import_batch", real)
    imp, table = prepare_resume(
        actor=world.om, import_id=imp.id, filename="voices.csv", data=data, limits=LIMITS
    )
    summary = run_import(imp, table, actor=world.om, batch_size=10, workers=2)
    assert summary.status == "done" and summary.processed_rows == summary.total_rows
    rows = db.session.scalars(sa.select(Voice.import_row).order_by(Voice.import_row)).all()
    assert len(rows) == len(set(rows)) == summary.created  # each row once, across both runs


@dataclass
class FailingBuilder(RowBuilder):
    """Refuses to build the batch holding row `fail_at` (a bug, a worker out of memory)."""

    fail_at: int = 0

    def build(self, batch):  # type: ignore[no-untyped-def]
        if any(row.number == self.fail_at for row in batch):
            raise ValueError(f"cannot build row {self.fail_at}")
        return super().build(batch)


def test_an_error_in_a_pool_process_reaches_the_importer(world):
    ensure_default_rules()
    from app.voice.imports import _row_builder

    imp, table = imports.prepare_import(
        actor=world.om,
        office_code="SH",
        channel="return",
        filename="voices.csv",
        data=mixed_file(30),
        mapping=MAP,
        limits=LIMITS,
    )
    base = _row_builder(imp, table, actor_id=None, now=imp.started_at, sqlite=True)
    fields = {
        name: getattr(base, name)
        for name in RowBuilder.__dataclass_fields__
        if RowBuilder.__dataclass_fields__[name].init
    }
    builder = FailingBuilder(**fields, fail_at=25)
    seen = []
    with (
        pytest.raises(ValueError, match="cannot build row 25"),
        built_batches(builder, table.rows(), batch_size=10, workers=2) as built,
    ):
        seen.extend(batch.size for batch in built)
    assert seen == [10, 10]  # rows 2-21 came back in order; rows 22-31 hold row 25


def test_in_order_batches_cover_every_row_once(world):
    rows = [SourceRow(n, [f"第{n}条"]) for n in range(2, 40)]
    builder = RowBuilder(
        channel="web",
        kind="passive",
        office_id=world.sh.id,
        import_id=1,
        actor_id=None,
        columns={"text": 0},
        detail_columns=(),
        categories={},
        timezone="Asia/Shanghai",
        now=imports.utcnow(),
        sqlite=True,
        use_external_id=False,
        ruleset=imports.current_rules(),
        lexicon=imports.default_lexicon(),
    )
    with built_batches(builder, rows, batch_size=5, workers=2) as built:
        numbers = [p.number for batch in built for p in batch.pending]
    assert numbers == list(range(2, 40))


@pytest.mark.parametrize(
    ("config", "rows", "expected"),
    [
        ({"VOICE_IMPORT_WORKERS": 3, "VOICE_IMPORT_PARALLEL_ROWS": 100}, 100, 3),
        ({"VOICE_IMPORT_WORKERS": 3, "VOICE_IMPORT_PARALLEL_ROWS": 100}, 99, 1),
        ({"VOICE_IMPORT_WORKERS": 1, "VOICE_IMPORT_PARALLEL_ROWS": 0}, 10**6, 1),
        ({"VOICE_IMPORT_WORKERS": 0, "VOICE_IMPORT_PARALLEL_ROWS": 0}, 10**6, None),
    ],
)
def test_workers_for_a_file(config, rows, expected):
    from app.voice.import_pool import default_workers

    assert workers_for(rows, config) == (default_workers() if expected is None else expected)
