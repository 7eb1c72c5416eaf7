"""CSV and XLSX exports of tabular sections, safe to open in a spreadsheet.

Every text cell that a spreadsheet could read as a formula (starting with =, +, -, @, a tab or
a carriage return) is prefixed with an apostrophe, headers included (OWASP "CSV injection").
Numbers stay numbers. One section becomes one XLSX sheet; in CSV the sections follow each
other, each with its title line and its header row.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv; charset=utf-8"
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


@dataclass
class Section:
    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]


def neutralise(value: Any) -> Any:
    """A cell value safe for a spreadsheet: text that could start a formula gets a leading '."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def to_csv(sections: Sequence[Section]) -> bytes:
    """UTF-8 with a BOM, so Excel opens Chinese text correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for index, section in enumerate(sections):
        if index:
            writer.writerow([])
        if len(sections) > 1:
            writer.writerow([neutralise(section.title)])
        writer.writerow([neutralise(h) for h in section.headers])
        for row in section.rows:
            writer.writerow([neutralise(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _sheet_title(title: str, used: set[str]) -> str:
    base = _SHEET_BAD.sub(" ", title).strip().lstrip("'")[:28] or "Sheet"
    name, n = base, 2
    while name.lower() in used:
        name = f"{base[:25]} {n}"
        n += 1
    used.add(name.lower())
    return name


def to_xlsx(sections: Sequence[Section]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    used: set[str] = set()
    for section in sections:
        sheet = workbook.create_sheet(_sheet_title(section.title, used))
        sheet.append([neutralise(h) for h in section.headers])
        for row in section.rows:
            sheet.append([neutralise(v) for v in row])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    if not sections:
        workbook.create_sheet("Sheet")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
