"""Reading voice files: CSV (UTF-8 or GBK/GB18030, any of three delimiters) and XLSX (openpyxl
in read-only mode, behind zip-bomb and XML-entity guards), as rows of cells with the row number
a person sees in the file (the header is row 1). An XLSX formula cell comes as a Formula: the
formula typed, with the value computed for it.

Nothing here touches the database: app.voice.imports maps, validates and stores the rows.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from app.core.errors import DomainError, ValidationFailed
from app.voice.problems import problem

BOM = "\ufeff"
DELIMITERS = ",\t;"
SNIFF_CHARS = 64 * 1024
XLSX_MAGIC = b"PK\x03\x04"
# a member this small may compress as well as it likes: only big members are judged by ratio
RATIO_FLOOR_BYTES = 1024 * 1024


class FileTooLarge(DomainError):
    status = 413
    code = "payload_too_large"
    default_message = "The file is too large."


class UnreadableFile(ValidationFailed):
    """422 on the `file` field: the file cannot be read as a table."""

    def __init__(self, why: str) -> None:
        super().__init__("The file cannot be imported: " + why, fields={"file": why})


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 20 * 1024 * 1024
    max_rows: int = 200_000
    max_columns: int = 200
    max_uncompressed: int = 256 * 1024 * 1024  # all XLSX members together, as declared
    max_ratio: int = 100  # uncompressed / compressed size of one big XLSX member

    @classmethod
    def from_config(cls, config: Any) -> Limits:
        default = cls()
        return cls(
            max_bytes=int(config.get("VOICE_IMPORT_MAX_BYTES", default.max_bytes)),
            max_rows=int(config.get("VOICE_IMPORT_MAX_ROWS", default.max_rows)),
            max_columns=int(config.get("VOICE_IMPORT_MAX_COLUMNS", default.max_columns)),
            max_uncompressed=int(
                config.get("VOICE_IMPORT_MAX_UNCOMPRESSED", default.max_uncompressed)
            ),
            max_ratio=int(config.get("VOICE_IMPORT_MAX_RATIO", default.max_ratio)),
        )


@dataclass(frozen=True)
class SourceRow:
    """One record of the file: its cells, or why it could not be read (a cut-off record)."""

    number: int  # as a person sees it: the header is 1, the first data row 2
    cells: list[Any]
    error: str | None = None


class Table:
    """A file's header and its data rows, read lazily (so a 200,000-row file is never held as
    Python objects all at once). Iterating again starts from the first data row again."""

    def __init__(self, kind: str, headers: list[str], rows: Any) -> None:
        self.kind = kind  # "csv" | "xlsx"
        self.headers = headers
        self._rows = rows  # a callable giving a fresh iterator of SourceRow
        self._count: int | None = None

    def rows(self) -> Iterator[SourceRow]:
        rows: Iterator[SourceRow] = self._rows()
        return rows

    def count(self) -> int:
        """Data rows (blank ones included), counted once."""
        if self._count is None:
            self._count = sum(1 for _ in self.rows())
        return self._count


def detect_kind(filename: str, data: bytes) -> str:
    name = filename.lower()
    if name.endswith((".xlsx", ".xlsm")) or data.startswith(XLSX_MAGIC):
        return "xlsx"
    if name.endswith((".xls",)):
        raise UnreadableFile("old .xls workbooks are not supported; save it as .xlsx or CSV")
    return "csv"


def read_table(filename: str, data: bytes, limits: Limits) -> Table:
    """The file as a Table, after the size, row and column limits; 413 or 422 otherwise."""
    if len(data) > limits.max_bytes:
        raise FileTooLarge(f"The file is larger than {limits.max_bytes // (1024 * 1024)} MiB.")
    if not data.strip():
        raise UnreadableFile("the file is empty")
    table = read_xlsx(data, limits) if detect_kind(filename, data) == "xlsx" else read_csv(data)
    if not any(h for h in table.headers):
        raise UnreadableFile("the first row must name the columns")
    if len(table.headers) > limits.max_columns:
        raise UnreadableFile(f"more than {limits.max_columns} columns")
    rows = table.count()
    if rows > limits.max_rows:
        raise UnreadableFile(f"more than {limits.max_rows} rows")
    if rows == 0:
        raise UnreadableFile("the file has a header but no rows")
    return table


# --- CSV ------------------------------------------------------------------------------------


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK and GB2312), both strict:
    a file that is neither is refused rather than imported as mojibake."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("the text is neither UTF-8 nor GBK/GB18030")


def sniff_delimiter(text: str) -> str:
    sample = text[:SNIFF_CHARS]
    # a sample cut in the middle of a record can confuse the sniffer: whole lines only
    if len(text) > SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = sample.split("\n", 1)[0]
        counts = {d: first.count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _clean_cell(value: str) -> str:
    return value.replace(BOM, "") if BOM in value else value


def read_csv(data: bytes) -> Table:
    text = decode(data)
    delimiter = sniff_delimiter(text)
    has_bom = BOM in text

    def records() -> Iterator[SourceRow]:
        # strict: a record cut off inside quotes is an error we report, not a silent merge
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        number = 0
        while True:
            number += 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield SourceRow(number, [], _csv_error(exc))
                continue
            yield SourceRow(number, [_clean_cell(c) for c in cells] if has_bom else cells)

    rows = records()
    first = next(rows, None)
    if first is None:
        raise UnreadableFile("the file is empty")
    if first.error:
        raise UnreadableFile("the header row cannot be read: " + first.error)
    headers = [c.strip() for c in first.cells]

    def data_rows() -> Iterator[SourceRow]:
        it = records()
        next(it, None)
        yield from it

    return Table("csv", headers, data_rows)


def _csv_error(exc: csv.Error) -> str:
    message = str(exc)
    if "unexpected end of data" in message:
        return problem("record_cut_off")
    if "field larger than field limit" in message:
        return problem("field_too_large")
    return problem("malformed_record", detail=message)


# --- XLSX -----------------------------------------------------------------------------------


def check_zip(data: bytes, limits: Limits) -> None:
    """Refuse zip bombs before any XML is parsed: the declared uncompressed sizes in total, and
    each big member's compression ratio. Python's zipfile never inflates a member beyond its
    declared size, so a lying header cannot get past these checks either."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise UnreadableFile("not a valid XLSX workbook") from exc
    total = 0
    with archive:
        for info in archive.infolist():
            total += info.file_size
            if total > limits.max_uncompressed:
                raise UnreadableFile("the workbook unpacks to more than the allowed size")
            if info.file_size > RATIO_FLOOR_BYTES and (
                info.compress_size == 0 or info.file_size / info.compress_size > limits.max_ratio
            ):
                raise UnreadableFile("the workbook is compressed suspiciously well (a zip bomb?)")


class Formula(str):
    """An XLSX formula cell: the formula as the sender typed it (the string itself, e.g.
    `=HYPERLINK("http://x","y")`) and `computed`, the value the spreadsheet showed for it when
    the file was last saved (None when it never computed one, e.g. a file a program wrote).

    A voice's text keeps what was typed, so a formula is kept as text, seen as what it is and
    neutralised again on export (app.core.exports); the other columns (a date, an amount, a
    name) take what the sheet computed for the sender, when it did (app.voice.import_rows)."""

    computed: Any

    def __new__(cls, text: str, computed: Any) -> Formula:
        obj = super().__new__(cls, text)
        obj.computed = computed
        return obj

    def __reduce__(self) -> tuple[Any, ...]:  # rows are built in worker processes
        return (Formula, (str(self), self.computed))


def _looks_like_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("=")


class _ComputedRows:
    """The sheet's rows as the spreadsheet computed them (openpyxl's data_only), read alongside
    the typed rows from the first row with a formula on, so a file without formulas (most of
    them) is parsed once."""

    def __init__(self, workbook: Any, rows: Iterator[tuple[Any, ...]]) -> None:
        self.workbook = workbook
        self._rows = rows
        self._index = 0

    def row(self, index: int) -> tuple[Any, ...]:
        values: tuple[Any, ...] = ()
        while self._index < index:
            values = next(self._rows, ())
            self._index += 1
        return values


def _with_formulas(typed: list[Any], computed: tuple[Any, ...]) -> list[Any]:
    """A formula cell as a Formula; a text cell that only starts with `=` (the same text both
    ways) stays plain text."""
    cells = list(typed)
    for i, value in enumerate(typed):
        if _looks_like_formula(value):
            cached = computed[i] if i < len(computed) else None
            if cached != value:
                cells[i] = Formula(value, cached)
    return cells


def _open_sheet(data: bytes, *, data_only: bool) -> tuple[Any, Any]:
    """The workbook (to close) and its first sheet, read-only. data_only=False: a formula cell
    reads as its formula (what the sender typed); data_only=True gives the value cached at the
    last save, or None (then a formula such as =HYPERLINK(...) never reached the voice)."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=data_only, keep_links=False
        )
        return workbook, workbook.worksheets[0]
    except Exception as exc:  # openpyxl raises many types for broken or hostile files
        raise UnreadableFile("not a readable XLSX workbook") from exc


def _sheet_rows(data: bytes, max_col: int) -> Iterator[tuple[int, list[Any]]]:
    workbook, sheet = _open_sheet(data, data_only=False)
    computed: _ComputedRows | None = None
    try:
        for index, values in enumerate(sheet.iter_rows(values_only=True, max_col=max_col), 1):
            cells = list(values)
            if any(_looks_like_formula(v) for v in cells):
                if computed is None:
                    book, same = _open_sheet(data, data_only=True)
                    computed = _ComputedRows(
                        book, same.iter_rows(values_only=True, max_col=max_col)
                    )
                cells = _with_formulas(cells, computed.row(index))
            yield index, cells
    except UnreadableFile:
        raise
    except Exception as exc:
        raise UnreadableFile("not a readable XLSX workbook") from exc
    finally:
        workbook.close()
        if computed is not None:
            computed.workbook.close()


def read_xlsx(data: bytes, limits: Limits) -> Table:
    check_zip(data, limits)
    import openpyxl

    if not openpyxl.DEFUSEDXML:  # type: ignore[attr-defined]
        raise UnreadableFile("XLSX import needs defusedxml installed")
    max_col = limits.max_columns + 1

    def sheet_rows() -> Iterator[tuple[int, list[Any]]]:
        return _sheet_rows(data, max_col)

    first = next(sheet_rows(), None)
    if first is None:
        raise UnreadableFile("the workbook's first sheet is empty")
    headers = [cell_text(v) or "" for v in first[1]]
    while headers and not headers[-1]:
        headers.pop()

    def data_rows() -> Iterator[SourceRow]:
        it = sheet_rows()
        next(it, None)
        for number, cells in it:
            yield SourceRow(number, [_clean_cell(c) if isinstance(c, str) else c for c in cells])

    return Table("xlsx", headers, data_rows)


def cell_text(value: Any) -> str | None:
    """A cell as text: numbers without a spurious `.0`, dates in ISO form."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if type(value) is str else str(value)  # a Formula: its text
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)
