"""Hostile spreadsheet cells from import to export: a formula, or text that looks like one, is
kept in the voice as the sender typed it, and the voice list exported for a manager carries it
as inert text (CSV and XLSX), never as a formula a spreadsheet would run."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import sqlalchemy as sa
from openpyxl import load_workbook

from app.extensions import db
from app.voice.models import Voice
from tests.voice.import_helpers import csv_bytes, do_import, xlsx_bytes

HOSTILE = ['=HYPERLINK("http://evil.example/x","点这里")', "+cmd|' /C calc'!A0", "@SUM(1)", "-1+2"]
NAIVE = datetime(2026, 11, 23, 9, 0)  # noqa: DTZ001 (an Excel date cell)


def quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def test_formulas_imported_from_csv_and_xlsx_are_exported_neutralised(client, world, login_as):
    csv_file = csv_bytes(["内容,日期"] + [f"{quoted(t)},2026-11-23" for t in HOSTILE])
    from_csv = do_import(world.om, csv_file, {"text": "内容", "occurred_at": "日期"})
    # in the workbook, =HYPERLINK(...) is a true formula cell (openpyxl writes it as one)
    xlsx_file = xlsx_bytes([["内容", "日期"]] + [[t, NAIVE] for t in HOSTILE])
    from_xlsx = do_import(
        world.om,
        xlsx_file,
        {"text": "内容", "occurred_at": "日期"},
        channel="sales_report",
        filename="sales.xlsx",
    )
    assert (from_csv.created, from_xlsx.created) == (4, 4)
    for channel in ("return", "sales_report"):  # kept as typed, from either file
        texts = db.session.scalars(sa.select(Voice.text).where(Voice.channel == channel)).all()
        assert sorted(texts) == sorted(HOSTILE), channel

    login_as(world.om)
    response = client.get("/reports/export/voices?format=csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    text_column = rows[0].index("text")
    exported = sorted(r[text_column] for r in rows[1:])
    assert exported == sorted(["'" + t for t in HOSTILE] * 2)

    response = client.get("/reports/export/voices?format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active  # formulas as formulas
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row]
    assert all(c.data_type != "f" for c in cells)
    exported = sorted(c.value for c in cells if c.column == text_column + 1)
    assert exported == sorted(["'" + t for t in HOSTILE] * 2)
