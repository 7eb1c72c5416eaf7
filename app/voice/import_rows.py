"""A file's rows made into voice rows: validated with record_voice's field rules, classified by
the keyword rules and the sentiment lexicon, given their dedup key, in the form the database
driver takes. Pure: no database, no Flask, nothing but what the builder carries, so the rows of
a big import can be built in other processes while the importing one writes
(app.voice.import_pool). app.voice.imports matches customers, inserts and commits.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.core.fields import control_character
from app.customers.phones import normalise_phone
from app.voice.classification import RuleSet, apply_suggestion, classify
from app.voice.import_values import (
    DIMENSION_WORDS,
    SENTIMENT_WORDS,
    normalise_text,
    parse_occurred_at,
    word,
)
from app.voice.importers import Formula, SourceRow, cell_text
from app.voice.problems import code_of, problem
from app.voice.sentiment import Lexicon
from app.voice.services import REFERENCE_ALPHABET, clean_voice_fields

# The voices' columns an import writes, in the INSERT's order (the id comes from the database);
# a built row is a list of their values, as the database driver takes them.
INSERT_COLUMNS = (
    "reference",
    "channel",
    "kind",
    "office_id",
    "customer_id",
    "occurred_at",
    "text",
    "dimension",
    "category_id",
    "sentiment",
    "classified_by",
    "suggested_dimension",
    "suggested_category_id",
    "suggested_sentiment",
    "sentiment_score",
    "details",
    "contact_name",
    "contact_phone",
    "contact_email",
    "external_id",
    "content_hash",
    "import_id",
    "import_row",
    "repeat_of_id",
    "created_by_id",
    "created_at",
)
REFERENCE = INSERT_COLUMNS.index("reference")
CUSTOMER = INSERT_COLUMNS.index("customer_id")
EXTERNAL_ID = INSERT_COLUMNS.index("external_id")
CONTENT_HASH = INSERT_COLUMNS.index("content_hash")
IMPORT_ROW = INSERT_COLUMNS.index("import_row")


@dataclass
class Pending:
    """A row ready to store: its values in INSERT_COLUMNS order (the customer is set when the
    batch is matched), and who it names, to match a customer by."""

    number: int
    row: list[Any]
    phone: str | None  # normalised customer phone
    name: str | None  # customer name, when the phone matches nobody

    @property
    def dedup_key(self) -> str:
        return str(self.row[EXTERNAL_ID] or self.row[CONTENT_HASH])


@dataclass
class BuiltBatch:
    """One batch of the file, built: the rows to store and the rows refused, in file order."""

    size: int  # the batch's rows, blank and refused ones included (the import's next_row)
    pending: list[Pending] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)


def rejection(number: int, errors: dict[str, str]) -> dict[str, Any]:
    """A rejected row as the import reports it: the English messages by field (what the API
    has always answered) and, for each problem with a code, `{"code", "params"}` by field, from
    which the report page speaks the reader's language (app.voice.problems)."""
    codes = {name: code for name, message in errors.items() if (code := code_of(message))}
    entry: dict[str, Any] = {"row": number, "errors": {k: str(v) for k, v in errors.items()}}
    if codes:
        entry["codes"] = codes
    return entry


_REFERENCE_SPACE = len(REFERENCE_ALPHABET) ** 8


def new_references(count: int) -> list[str]:
    """`count` references in new_reference's form (V- and 8 of its 31 letters), from the same
    system randomness, drawn 48 bits at a time: a 100,000-row import spends milliseconds here
    instead of a second. (2**48 is 330 times 31**8, so the modulo bias is below 0.3 %.)"""
    alphabet = REFERENCE_ALPHABET
    raw = secrets.token_bytes(6 * count)
    out = []
    for i in range(count):
        n = int.from_bytes(raw[6 * i : 6 * i + 6], "big") % _REFERENCE_SPACE
        chars = []
        for _ in range(8):
            n, digit = divmod(n, 31)
            chars.append(alphabet[digit])
        out.append("V-" + "".join(chars))
    return out


def content_hash(channel: str, occurred: datetime | None, text: str, *who: str | None) -> str:
    """The same voice from the same person at the same time, whatever the file it came in.
    Built from what the file says (not the matched customer record), so it is stable even when
    customer records change between two imports. Without a date, the text and person decide."""
    when = str(int(occurred.timestamp())) if occurred else ""  # the instant, to the second
    people = normalise_text("|".join([w or "" for w in who]).lower())
    key = "\x1f".join((channel, when, normalise_text(text), people))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def db_time(value: datetime, sqlite: bool) -> Any:
    """An aware datetime as UTCDateTime binds it: UTC; on SQLite the text SQLAlchemy's DATETIME
    stores (`2026-11-23 06:05:00.000000`), so imported rows sort and compare with the rest."""
    utc = value.astimezone(UTC)
    if sqlite:
        return utc.replace(tzinfo=None).isoformat(" ", "microseconds")
    return utc


def _cell(cells: Sequence[Any], column: int | None) -> Any:
    if column is None or column >= len(cells):
        return None
    return cells[column]


def _computed(value: Any) -> Any:
    """A cell as data: an XLSX formula's computed value (what the sender saw), or the formula
    itself when the file carries none. Only the voice's text keeps a formula as typed."""
    if type(value) is Formula:
        return value.computed if value.computed is not None else str(value)
    return value


def _text(cells: Sequence[Any], column: int | None) -> str | None:
    """A mapped cell as text (a formula by its computed value); None when the column is not
    mapped, missing or blank."""
    if column is None or column >= len(cells):
        return None
    value = cells[column]
    if value is None:
        return None
    if type(value) is not str:
        value = cell_text(_computed(value))
        if value is None:
            return None
    return value if value and not value.isspace() else None


@dataclass(frozen=True)
class CategoryRef:
    id: int
    dimension: str


@dataclass
class RowBuilder:
    """Everything a row needs besides its cells, fixed for one run of an import (and picklable:
    plain values, the rule set and the lexicon)."""

    channel: str
    kind: str
    office_id: int
    import_id: int
    actor_id: int | None
    columns: dict[str, int]  # product field → column index
    detail_columns: tuple[tuple[str, int], ...]
    categories: dict[str, CategoryRef]  # code, Chinese name, English name (lower) → category
    timezone: str  # the office's: naive dates in the file are its local time
    now: datetime
    sqlite: bool
    use_external_id: bool
    ruleset: RuleSet
    lexicon: Lexicon
    tz: ZoneInfo = field(init=False, repr=False)
    now_value: Any = field(init=False, repr=False)  # `now` as the driver takes it

    def __post_init__(self) -> None:
        self.tz = ZoneInfo(self.timezone)
        self.now_value = db_time(self.now, self.sqlite)

    def build(self, batch: Sequence[SourceRow]) -> BuiltBatch:
        built = BuiltBatch(size=len(batch))
        for source in batch:
            if source.error is not None:
                built.rejected.append(rejection(source.number, {"record": source.error}))
                continue
            if not any(c not in (None, "") and str(c).strip() for c in source.cells):
                continue  # a blank line: nothing to import, nothing wrong
            row, errors = self.build_row(source)
            if errors:
                built.rejected.append(rejection(source.number, errors))
            else:
                built.pending.append(row)
        for pending, reference in zip(
            built.pending, new_references(len(built.pending)), strict=True
        ):
            pending.row[REFERENCE] = reference
        return built

    def _lookup_text(self, cells: Sequence[Any], field: str, errors: dict[str, str]) -> str | None:
        value = _text(cells, self.columns.get(field))
        if value is not None and (char := control_character(value)) is not None:
            errors[field] = problem("control_character", char=char)
            return None
        return value

    def build_row(self, source: SourceRow) -> tuple[Pending, dict[str, str]]:
        cols, cells = self.columns, source.cells
        errors: dict[str, str] = {}
        occurred = None
        raw_when = _computed(_cell(cells, cols.get("occurred_at")))
        if isinstance(raw_when, str) and not raw_when.strip():
            raw_when = None  # a blank date is no date: the import's time stands in
        if raw_when is not None:
            try:
                occurred = parse_occurred_at(raw_when, self.tz)
            except ValueError as exc:
                errors["occurred_at"] = exc.args[0] if exc.args else str(exc)
        category = None
        category_text = _text(cells, cols.get("category"))
        if category_text is not None:
            key = category_text.strip()
            category = self.categories.get(key) or self.categories.get(key.lower())
            if category is None:
                errors["category"] = problem("unknown_category")
        dimension = word(_text(cells, cols.get("dimension")), DIMENSION_WORDS)
        sentiment = word(_text(cells, cols.get("sentiment")), SENTIMENT_WORDS)
        details = {f: _text(cells, i) for f, i in self.detail_columns}
        # looked up among the office's customers, so held to the stored fields' rule as well
        # (and then not offered as the contact's, which would report the same cell twice)
        customer_name = self._lookup_text(cells, "customer_name", errors)
        customer_phone = self._lookup_text(cells, "customer_phone", errors)
        fields = clean_voice_fields(
            channel=self.channel,
            text=cell_text(_cell(cells, cols["text"])) or "",  # a formula as typed
            dimension=dimension,
            sentiment=sentiment,
            occurred_at=occurred,
            details=details,
            contact_name=_text(cells, cols.get("contact_name")) or customer_name,
            contact_phone=_text(cells, cols.get("contact_phone")) or customer_phone,
            contact_email=_text(cells, cols.get("contact_email")),
            external_id=_text(cells, cols.get("external_id")),
            now=self.now,
            errors=errors,
        )
        if errors:  # rejected: nothing more to work out for this row
            errors = {key.removeprefix("details."): message for key, message in errors.items()}
            return Pending(source.number, [], None, None), errors
        phone = normalise_phone(customer_phone) if customer_phone else None
        text = fields.text or ""
        # what a person put in the file wins; the keyword rules and the sentiment lexicon fill
        # the rest and are kept as the suggestion, as the quick form stores them (record_voice)
        hint = classify(text, self.ruleset, self.lexicon)
        dimension, category_id, sentiment, classified_by = apply_suggestion(
            hint,
            dimension=dimension,
            category_id=category.id if category is not None else None,
            category_dimension=category.dimension if category is not None else None,
            sentiment=sentiment,
        )
        ext = fields.external_id if self.use_external_id else None
        now_value = self.now_value
        row = [
            "",  # reference: drawn per batch (new_references)
            self.channel,
            self.kind,
            self.office_id,
            None,  # customer_id: matched per batch by the importer
            db_time(occurred, self.sqlite) if occurred is not None else now_value,
            text,
            dimension,
            category_id,
            sentiment,
            classified_by,
            hint.dimension,
            hint.category_id,
            hint.sentiment,
            hint.score,
            json.dumps(fields.details),
            fields.contact_name,
            fields.contact_phone,
            fields.contact_email,
            ext,
            None
            if ext
            else content_hash(
                self.channel,
                occurred,
                text,
                customer_name,
                phone or customer_phone,
                fields.contact_name,
                fields.contact_phone,
            ),
            self.import_id,
            source.number,
            None,  # repeat_of_id
            self.actor_id,
            now_value,  # created_at
        ]
        return Pending(source.number, row, phone, customer_name), errors
