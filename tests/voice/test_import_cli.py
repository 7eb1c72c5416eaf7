"""`flask voices import`: progress, summary, resume."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.voice import imports
from app.voice.models import Voice, VoiceImport
from tests.voice.import_helpers import csv_bytes

ROWS = (
    ["内容,日期,批次"]
    + [f"第{i}条退货,2026-11-2{i % 8},B{i}" for i in range(25)]
    + [",2026-11-23,"]
)
MAPS = ["--map", "text=内容", "--map", "occurred_at=日期", "--map", "batch=批次"]


def test_cli_imports_with_progress_and_summary(runner, world, tmp_path):
    path = tmp_path / "returns.csv"
    path.write_bytes(csv_bytes(ROWS))
    result = runner.invoke(
        args=["voices", "import", str(path), "--channel", "return", "--office", "SH", *MAPS]
    )
    assert result.exit_code == 0, result.output
    assert "Importing" in result.output  # the progress bar
    assert "25 created, 0 duplicates, 1 rejected of 26 rows" in result.output
    assert "row 27: text: required" in result.output
    again = runner.invoke(
        args=["voices", "import", str(path), "--channel", "return", "--office", "SH", *MAPS]
    )
    assert "0 created, 25 duplicates" in again.output


def test_cli_errors_are_messages_not_tracebacks(runner, world, tmp_path):
    path = tmp_path / "returns.csv"
    path.write_bytes(csv_bytes(ROWS))
    base = ["voices", "import", str(path), "--channel", "return", "--office", "SH"]
    result = runner.invoke(args=[*base, "--map", "text=正文"])
    assert result.exit_code == 1 and "mapping.text" in result.output
    result = runner.invoke(args=[*base, "--map", "text"])
    assert result.exit_code == 2 and "field=Header" in result.output
    result = runner.invoke(args=[*base, *MAPS, "--user", "agent@sh.example.com"])
    assert result.exit_code == 1 and "may not import" in result.output
    result = runner.invoke(args=["voices", "import", str(path), *MAPS])
    assert result.exit_code == 2


def test_cli_resumes_a_crashed_import(runner, world, tmp_path, monkeypatch):
    path = tmp_path / "returns.csv"
    path.write_bytes(csv_bytes(ROWS))
    monkeypatch.setattr(imports, "BATCH_SIZE", 10)
    real = imports._import_batch
    calls = {"n": 0}

    def crash_on_second_batch(ctx, batch):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("power cut")
        return real(ctx, batch)

    monkeypatch.setattr(imports, "_import_batch", crash_on_second_batch)
    args = ["voices", "import", str(path), "--channel", "return", "--office", "SH", *MAPS]
    result = runner.invoke(args=args)
    assert isinstance(result.exception, RuntimeError)
    imp = db.session.scalars(sa.select(VoiceImport)).one()
    assert (imp.status, imp.next_row, imp.created) == ("failed", 10, 10)
    monkeypatch.setattr(imports, "_import_batch", real)
    result = runner.invoke(args=["voices", "import", str(path), "--resume", str(imp.id)])
    assert result.exit_code == 0, result.output
    assert "starting at row 10" in result.output
    assert "25 created" in result.output
    rows = db.session.scalars(sa.select(Voice.import_row).order_by(Voice.import_row)).all()
    assert rows == list(range(2, 27))


@pytest.mark.parametrize("other", ["other.csv"])
def test_cli_resume_refuses_another_file(runner, world, tmp_path, other):
    path = tmp_path / "returns.csv"
    path.write_bytes(csv_bytes(ROWS))
    runner.invoke(
        args=["voices", "import", str(path), "--channel", "return", "--office", "SH", *MAPS]
    )
    imp = db.session.scalars(sa.select(VoiceImport)).one()
    db.session.execute(sa.update(VoiceImport).values(status="failed"))
    db.session.commit()
    wrong = tmp_path / other
    wrong.write_bytes(csv_bytes(ROWS[:5]))
    result = runner.invoke(args=["voices", "import", str(wrong), "--resume", str(imp.id)])
    assert result.exit_code == 1 and "not the same file" in result.output
