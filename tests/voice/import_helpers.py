"""Building import files in tests: CSV text in any encoding, XLSX workbooks, hostile XLSX."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from app.voice.importers import Limits
from app.voice.imports import prepare_import, run_import

LIMITS = Limits()


def csv_bytes(lines: list[str], encoding: str = "utf-8", bom: bool = False) -> bytes:
    text = "\r\n".join(lines) + "\r\n"
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def rewrite_xlsx(data: bytes, replace: dict[str, bytes]) -> bytes:
    """The same workbook with some members' contents replaced."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = replace.get(info.filename, source.read(info.filename))
            target.writestr(info.filename, body)
    return out.getvalue()


def do_import(
    actor,
    data: bytes,
    mapping: dict[str, str],
    *,
    channel="return",
    office="SH",
    filename="voices.csv",
    limits=LIMITS,
    **kw,
):
    imp, table = prepare_import(
        actor=actor,
        office_code=office,
        channel=channel,
        filename=filename,
        data=data,
        mapping=mapping,
        limits=limits,
    )
    return run_import(imp, table, actor=actor, **kw)
