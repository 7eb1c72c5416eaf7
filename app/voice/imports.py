"""Bulk import of voices from CSV/XLSX: sales reports, returns, research, call-centre exports.

    imp, table = prepare_import(actor=..., office_code="SH", channel="return", filename=...,
                                data=..., mapping={"text": "反馈内容", "batch": "批次"})
    summary = run_import(imp, table, actor=...)

Each row obeys the same field rules as record_voice (clean_voice_fields). Rows are inserted in
batches with one INSERT ... ON CONFLICT DO NOTHING each, so the unique (office, channel,
external_id) and (office, content_hash) constraints drop duplicates even when two imports race.

Unlike other services, run_import commits: each batch commits together with the import's
`next_row`, so a crash leaves whole batches and an import that `resume_import` continues.
Everything before the first commit (prepare_import) only flushes.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import operator
import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.auth.roles import Role
from app.core import audit
from app.core.errors import Conflict, Forbidden, ValidationFailed
from app.core.scoping import get_scoped
from app.customers.models import Customer, CustomerPhone
from app.customers.phones import normalise_phone
from app.db import utcnow
from app.extensions import db
from app.issues.models import Category
from app.org.models import Office
from app.voice.channels import CHANNELS, DETAIL_FIELDS, kind_of
from app.voice.classification import RuleSet, apply_suggestion, classify, current_rules
from app.voice.import_values import (
    DIMENSION_WORDS,
    SENTIMENT_WORDS,
    normalise_text,
    parse_occurred_at,
    word,
)
from app.voice.importers import Limits, SourceRow, Table, cell_text, read_table
from app.voice.models import Voice, VoiceImport
from app.voice.problems import code_of, problem
from app.voice.sentiment import Lexicon, default_lexicon
from app.voice.services import (
    REFERENCE_ALPHABET,
    clean_voice_fields,
    new_reference,
    scope_of,
)

if TYPE_CHECKING:
    from app.auth.models import User

# Bulk imports write an office's statistics wholesale: managers and company quality staff
# import; agents and handlers record voices one by one (form, API).
IMPORT_ROLES = frozenset(
    {Role.OFFICE_MANAGER, Role.REGIONAL_MANAGER, Role.QUALITY_ADMIN, Role.ADMIN}
)
BASE_FIELDS = (
    "text",
    "occurred_at",
    "category",
    "dimension",
    "sentiment",
    "external_id",
    "customer_name",
    "customer_phone",
    "contact_name",
    "contact_phone",
    "contact_email",
)
IMPORT_FIELDS = BASE_FIELDS + tuple(f for f in DETAIL_FIELDS if f not in BASE_FIELDS)
BATCH_SIZE = 1000
MAX_REPORTED = 1000  # rejected rows kept with their errors; all are counted
MAX_REFERENCE_RETRIES = 5

ProgressCallback = Callable[[int, int], None]


@dataclass
class ImportSummary:
    import_id: int
    status: str
    total_rows: int
    processed_rows: int
    created: int
    duplicates: int
    rejected_count: int
    rejected: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, imp: VoiceImport) -> ImportSummary:
        return cls(
            import_id=imp.id,
            status=imp.status,
            total_rows=imp.total_rows or 0,
            processed_rows=imp.next_row,
            created=imp.created,
            duplicates=imp.duplicates,
            rejected_count=imp.rejected_count,
            rejected=list(imp.rejected or []),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "status": self.status,
            "total_rows": self.total_rows,
            "processed_rows": self.processed_rows,
            "created": self.created,
            "duplicates": self.duplicates,
            "rejected_count": self.rejected_count,
            "rejected": self.rejected,
        }


def may_import(actor: User | None) -> bool:
    """No actor is the command line (an operator with the server's shell)."""
    return actor is None or actor.role in IMPORT_ROLES


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_mapping(mapping: Any, headers: list[str]) -> dict[str, int]:
    """product field → column index; 422 naming every unknown field, missing header or
    missing `text`."""
    errors: dict[str, str] = {}
    if not isinstance(mapping, Mapping):
        raise ValidationFailed(fields={"mapping": "must be an object: field → column header"})
    positions: dict[str, int] = {}
    for i, header in enumerate(headers):
        positions.setdefault(header.strip(), i)
    columns: dict[str, int] = {}
    for name, header in mapping.items():
        if name not in IMPORT_FIELDS:
            errors[f"mapping.{name}"] = "unknown field; one of " + ", ".join(IMPORT_FIELDS)
        elif header is None or header == "":
            continue
        elif not isinstance(header, str):
            errors[f"mapping.{name}"] = "must be a column header"
        elif header.strip() not in positions:
            errors[f"mapping.{name}"] = f"the file has no column named {header.strip()!r}"
        else:
            columns[name] = positions[header.strip()]
    if "text" not in columns and "mapping.text" not in errors:
        errors["mapping.text"] = "required: the column holding the voice's text"
    if errors:
        raise ValidationFailed(fields=errors)
    return columns


def _office_in_scope(actor: User | None, office_code: Any, errors: dict[str, str]) -> Office | None:
    if not office_code or not isinstance(office_code, str):
        errors["office"] = "required"
        return None
    office = db.session.scalars(
        sa.select(Office).where(Office.code == office_code.strip().upper())
    ).first()
    if office is None or not scope_of(actor).covers_office(office):
        errors["office"] = "unknown office"
        return None
    return office


def prepare_import(
    *,
    actor: User | None,
    office_code: str | None,
    channel: str | None,
    filename: str,
    data: bytes,
    mapping: Any,
    limits: Limits,
    now: datetime | None = None,
) -> tuple[VoiceImport, Table]:
    """Check who, where, what and the file; create the import (flushed, status running)."""
    if not may_import(actor):
        raise Forbidden("Your role may not import voices.")
    errors: dict[str, str] = {}
    if channel not in CHANNELS:
        errors["channel"] = "unknown channel; one of " + ", ".join(CHANNELS)
    office = _office_in_scope(actor, office_code, errors)
    if errors or office is None or channel is None:
        raise ValidationFailed(fields=errors)
    table = read_table(filename, data, limits)
    columns = check_mapping(mapping, table.headers)
    imp = VoiceImport(
        office_id=office.id,
        channel=channel,
        filename=(filename or "upload")[-255:],
        file_sha256=file_digest(data),
        mapping={name: table.headers[i] for name, i in columns.items()},
        status="running",
        total_rows=table.count(),
        next_row=0,
        created=0,
        duplicates=0,
        rejected=[],
        rejected_count=0,
        created_by_id=actor.id if actor is not None else None,
        started_at=now or utcnow(),
    )
    db.session.add(imp)
    db.session.flush()
    return imp, table


def get_import(actor: User | None, import_id: int) -> VoiceImport:
    """An import in the actor's scope (404 otherwise)."""
    return get_scoped(VoiceImport, import_id, scope_of(actor))


def prepare_resume(
    *, actor: User | None, import_id: int, filename: str, data: bytes, limits: Limits
) -> tuple[VoiceImport, Table]:
    """An unfinished import and its file again: the same bytes (by SHA-256), or 422."""
    if not may_import(actor):
        raise Forbidden("Your role may not import voices.")
    imp = get_import(actor, import_id)
    if imp.status == "done":
        raise Conflict("This import has already finished.")
    if file_digest(data) != imp.file_sha256:
        raise ValidationFailed(
            "This is not the file of that import.",
            fields={"file": "not the same file as the import started with"},
        )
    table = read_table(filename, data, limits)
    check_mapping(imp.mapping, table.headers)
    return imp, table


# --- running ------------------------------------------------------------------------------


@dataclass
class _Context:
    imp: VoiceImport
    office: Office
    columns: dict[str, int]
    categories: dict[str, Category]
    tz: ZoneInfo
    now: datetime
    actor_id: int | None
    use_external_id: bool
    ruleset: RuleSet
    lexicon: Lexicon
    sqlite: bool
    # SQLite with the bulk-aware FTS insert trigger: the import indexes each batch's rows
    index_per_batch: bool
    # plain copies of the import's and office's columns: read once per row, not through the ORM
    channel: str = ""
    kind: str = ""
    office_id: int = 0
    import_id: int = 0
    detail_columns: tuple[tuple[str, int], ...] = ()
    now_value: Any = None  # `now` as the driver takes it (SQLite: UTCDateTime's text form)


@dataclass
class _Pending:
    number: int
    values: dict[str, Any]
    phone: str | None  # normalised customer phone, to match a customer
    name: str | None  # customer name, to match when the phone does not


def _category_index() -> dict[str, Category]:
    index: dict[str, Category] = {}
    for row in db.session.scalars(sa.select(Category).where(Category.active.is_(True))):
        for key in (row.name_en.lower(), row.name_zh, row.code.lower()):
            index[key] = row
    return index


def run_import(
    imp: VoiceImport,
    table: Table,
    *,
    actor: User | None,
    now: datetime | None = None,
    batch_size: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> ImportSummary:
    """Import the rows from `imp.next_row` on, committing batch by batch; on an error the
    committed batches stay, the import is marked failed, and the error is raised again."""
    import_id = imp.id
    try:
        return _run(
            imp,
            table,
            actor=actor,
            now=now or utcnow(),
            batch_size=batch_size or BATCH_SIZE,
            on_progress=on_progress,
        )
    except Conflict:
        db.session.rollback()
        raise
    except BaseException:
        db.session.rollback()
        _mark_failed(import_id, actor)
        raise


def _run(
    imp: VoiceImport,
    table: Table,
    *,
    actor: User | None,
    now: datetime,
    batch_size: int,
    on_progress: ProgressCallback | None,
) -> ImportSummary:
    office = db.session.get(Office, imp.office_id)
    assert office is not None  # noqa: S101 (a foreign key)
    ctx = _Context(
        imp=imp,
        office=office,
        columns=check_mapping(imp.mapping, table.headers),
        categories=_category_index(),
        tz=ZoneInfo(office.timezone),
        now=now,
        actor_id=actor.id if actor is not None else None,
        use_external_id="external_id" in imp.mapping,
        # the rules as they are when this run starts, held for all its batches
        ruleset=current_rules(),
        lexicon=default_lexicon(),
        sqlite=db.session.get_bind().dialect.name == "sqlite",
        index_per_batch=_fts_trigger_skips_imports(),
        channel=imp.channel,
        kind=kind_of(imp.channel),
        office_id=office.id,
        import_id=imp.id,
    )
    ctx.now_value = _db_time(ctx, now)
    ctx.detail_columns = tuple((f, ctx.columns[f]) for f in DETAIL_FIELDS if f in ctx.columns)
    state = {
        "next_row": imp.next_row,
        "created": imp.created,
        "duplicates": imp.duplicates,
        "rejected_count": imp.rejected_count,
    }
    reported: list[dict[str, Any]] = list(imp.rejected or [])
    total = imp.total_rows or 0
    rows: Iterator[SourceRow] = itertools.islice(table.rows(), imp.next_row, None)
    resumed = imp.next_row > 0
    while True:
        batch = list(itertools.islice(rows, batch_size))
        if not batch:
            break
        created, duplicates, rejected = _import_batch(ctx, batch)
        reported.extend(rejected[: max(0, MAX_REPORTED - len(reported))])
        new_state = {
            "next_row": state["next_row"] + len(batch),
            "created": state["created"] + created,
            "duplicates": state["duplicates"] + duplicates,
            "rejected_count": state["rejected_count"] + len(rejected),
        }
        _save_progress(
            import_id=imp.id,
            old_next_row=state["next_row"],
            new_state=new_state,
            reported=reported,
            status="running",
        )
        db.session.commit()
        state = new_state
        if on_progress is not None:
            on_progress(state["next_row"], total)

    _save_progress(
        import_id=imp.id,
        old_next_row=state["next_row"],
        new_state=state,
        reported=reported,
        status="done",
        finished_at=now,
    )
    audit.record(
        actor_id=ctx.actor_id,
        entity_type="voice_import",
        entity_id=imp.id,
        action="resume" if resumed else "import",
        changes={
            "status": [None, "done"],
            "file": imp.filename,
            "channel": imp.channel,
            "rows": state["next_row"],
            "created": state["created"],
            "duplicates": state["duplicates"],
            "rejected": state["rejected_count"],
        },
        office_id=imp.office_id,
        at=now,
    )
    db.session.commit()
    done = db.session.get(VoiceImport, imp.id, populate_existing=True)
    assert done is not None  # noqa: S101
    return ImportSummary.of(done)


def _save_progress(
    *,
    import_id: int,
    old_next_row: int,
    new_state: dict[str, int],
    reported: list[dict[str, Any]],
    status: str,
    finished_at: datetime | None = None,
) -> None:
    """Move the import on, only from where this run found it: if another run of the same
    import got there first, this batch is rolled back (its rows stay the other run's)."""
    table = VoiceImport.__table__
    values: dict[str, Any] = {**new_state, "rejected": list(reported), "status": status}
    if finished_at is not None:
        values["finished_at"] = finished_at
    result = db.session.execute(
        sa.update(table)
        .where(table.c.id == import_id, table.c.next_row == old_next_row)
        .values(**values)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        raise Conflict("Another run of this import is going on; it continues there.")


def _mark_failed(import_id: int, actor: User | None) -> None:
    try:
        imp = db.session.get(VoiceImport, import_id)
        if imp is None or imp.status == "done":
            return
        imp.status = "failed"
        audit.record(
            actor_id=actor.id if actor is not None else None,
            entity_type="voice_import",
            entity_id=import_id,
            action="fail",
            changes={"status": ["running", "failed"], "rows": imp.next_row},
            office_id=imp.office_id,
        )
        db.session.commit()
    except Exception:
        db.session.rollback()


# --- one batch ----------------------------------------------------------------------------


def _import_batch(ctx: _Context, batch: list[SourceRow]) -> tuple[int, int, list[dict[str, Any]]]:
    pending: list[_Pending] = []
    rejected: list[dict[str, Any]] = []
    for source in batch:
        if source.error is not None:
            rejected.append(rejection(source.number, {"record": source.error}))
            continue
        if not any(c not in (None, "") and str(c).strip() for c in source.cells):
            continue  # a blank line: nothing to import, nothing wrong
        row, errors = _build_row(ctx, source)
        if errors:
            rejected.append(rejection(source.number, errors))
        else:
            pending.append(row)
    if not pending:
        return 0, 0, rejected
    _match_customers(ctx, pending)
    for p, reference in zip(pending, new_references(len(pending)), strict=True):
        p.values["reference"] = reference
    # one order for every import (by dedup key), so two racing imports that share rows take
    # their key locks in the same order and wait for each other instead of deadlocking
    rows = sorted((p.values for p in pending), key=lambda v: v["external_id"] or v["content_hash"])
    created = _insert(ctx, rows)
    return created, len(pending) - created, rejected


def rejection(number: int, errors: dict[str, str]) -> dict[str, Any]:
    """A rejected row as the import reports it: the English messages by field (what the API
    has always answered) and, for each problem with a code, `{"code", "params"}` by field, from
    which the report page speaks the reader's language (app.voice.problems)."""
    codes = {name: code for name, message in errors.items() if (code := code_of(message))}
    entry: dict[str, Any] = {"row": number, "errors": {k: str(v) for k, v in errors.items()}}
    if codes:
        entry["codes"] = codes
    return entry


def _cell(source: SourceRow, column: int | None) -> Any:
    if column is None or column >= len(source.cells):
        return None
    return source.cells[column]


def _text(source: SourceRow, column: int | None) -> str | None:
    """A mapped cell as text; None when the column is not mapped, missing or blank."""
    if column is None:
        return None
    cells = source.cells
    if column >= len(cells):
        return None
    value = cells[column]
    if value is None:
        return None
    if type(value) is not str:
        value = cell_text(value)
    return value if value and not value.isspace() else None


def _build_row(ctx: _Context, source: SourceRow) -> tuple[_Pending, dict[str, str]]:
    cols = ctx.columns
    errors: dict[str, str] = {}
    occurred = None
    raw_when = _cell(source, cols.get("occurred_at"))
    if isinstance(raw_when, str) and not raw_when.strip():
        raw_when = None  # a blank date is no date: the import's time stands in
    if raw_when is not None:
        try:
            occurred = parse_occurred_at(raw_when, ctx.tz)
        except ValueError as exc:
            errors["occurred_at"] = exc.args[0] if exc.args else str(exc)
    category = None
    category_text = _text(source, cols.get("category"))
    if category_text is not None:
        key = category_text.strip()
        category = ctx.categories.get(key) or ctx.categories.get(key.lower())
        if category is None:
            errors["category"] = problem("unknown_category")
    dimension = word(_text(source, cols.get("dimension")), DIMENSION_WORDS)
    sentiment = word(_text(source, cols.get("sentiment")), SENTIMENT_WORDS)
    details = {f: _text(source, i) for f, i in ctx.detail_columns}
    customer_name = _text(source, cols.get("customer_name"))
    customer_phone = _text(source, cols.get("customer_phone"))
    fields = clean_voice_fields(
        channel=ctx.channel,
        text=cell_text(_cell(source, cols["text"])) or "",
        dimension=dimension,
        sentiment=sentiment,
        occurred_at=occurred,
        details=details,
        contact_name=_text(source, cols.get("contact_name")) or customer_name,
        contact_phone=_text(source, cols.get("contact_phone")) or customer_phone,
        contact_email=_text(source, cols.get("contact_email")),
        external_id=_text(source, cols.get("external_id")),
        now=ctx.now,
        errors=errors,
    )
    if errors:  # rejected: nothing more to work out for this row
        errors = {key.removeprefix("details."): message for key, message in errors.items()}
        return _Pending(source.number, {}, None, None), errors
    phone = normalise_phone(customer_phone) if customer_phone else None
    text = fields.text or ""
    # what a person put in the file wins; the keyword rules and the sentiment lexicon fill the
    # rest and are kept as the suggestion, as the quick form stores them (record_voice)
    hint = classify(text, ctx.ruleset, ctx.lexicon)
    dimension, category_id, sentiment, classified_by = apply_suggestion(
        hint,
        dimension=dimension,
        category_id=category.id if category is not None else None,
        category_dimension=category.dimension if category is not None else None,
        sentiment=sentiment,
    )
    ext = fields.external_id if ctx.use_external_id else None
    values = {
        "reference": "",  # given per batch (new_references)
        "channel": ctx.channel,
        "kind": ctx.kind,
        "office_id": ctx.office_id,
        "customer_id": None,
        "occurred_at": _db_time(ctx, occurred) if occurred is not None else ctx.now_value,
        "text": text,
        "dimension": dimension,
        "category_id": category_id,
        "sentiment": sentiment,
        "classified_by": classified_by,
        "suggested_dimension": hint.dimension,
        "suggested_category_id": hint.category_id,
        "suggested_sentiment": hint.sentiment,
        "sentiment_score": hint.score,
        "details": json.dumps(fields.details),
        "contact_name": fields.contact_name,
        "contact_phone": fields.contact_phone,
        "contact_email": fields.contact_email,
        "external_id": ext,
        "content_hash": None
        if ext
        else content_hash(
            ctx.channel,
            occurred,
            text,
            customer_name,
            phone or customer_phone,
            fields.contact_name,
            fields.contact_phone,
        ),
        "import_id": ctx.import_id,
        "import_row": source.number,
        "repeat_of_id": None,
        "created_by_id": ctx.actor_id,
        "created_at": ctx.now_value,
    }
    return _Pending(source.number, values, phone, customer_name), errors


def _db_time(ctx: _Context, value: datetime) -> Any:
    """An aware datetime as UTCDateTime binds it: UTC; on SQLite the text SQLAlchemy's DATETIME
    stores (`2026-11-23 06:05:00.000000`), so imported rows sort and compare with the rest."""
    utc = value.astimezone(UTC)
    if ctx.sqlite:
        return utc.replace(tzinfo=None).isoformat(" ", "microseconds")
    return utc


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


def _match_customers(ctx: _Context, pending: list[_Pending]) -> None:
    """By phone among the office's customers, else by exact name in the office; a phone or
    name that fits several customers matches none of them (it stays as contact details).

    One query per batch, on the tables directly: the customers holding the batch's phones and
    those bearing its names, each with their office, kept for this office here. Each half is led
    by its own index (phone number, name): with the office in the WHERE clause SQLite started
    from the office's customers instead and probed every phone for each of them."""
    phones_t, customers_t = CustomerPhone.__table__, Customer.__table__
    phones = {p.phone for p in pending if p.phone}
    names = {p.name for p in pending if p.name}
    parts = []
    if phones:
        parts.append(
            sa.select(
                sa.literal("phone").label("kind"),
                phones_t.c.number.label("key"),
                customers_t.c.id,
                customers_t.c.office_id,
            )
            .join_from(phones_t, customers_t, customers_t.c.id == phones_t.c.customer_id)
            .where(phones_t.c.number.in_(phones))
        )
    if names:
        parts.append(
            sa.select(
                sa.literal("name").label("kind"),
                customers_t.c.name.label("key"),
                customers_t.c.id,
                customers_t.c.office_id,
            ).where(customers_t.c.name.in_(names))
        )
    if not parts:
        return
    found: dict[tuple[str, str], set[int]] = {}
    stmt = parts[0] if len(parts) == 1 else sa.union_all(*parts)
    for kind, key, customer_id, office_id in db.session.connection().execute(stmt):
        if office_id == ctx.office_id:
            found.setdefault((kind, key), set()).add(customer_id)
    for p in pending:
        match = found.get(("phone", p.phone or "")) or found.get(("name", p.name or "")) or ()
        if len(match) == 1:
            p.values["customer_id"] = next(iter(match))


# The voices' columns an import writes, in the INSERT's order (the id comes from the database).
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
_as_parameters = operator.itemgetter(*INSERT_COLUMNS)


def _insert_sql(sqlite: bool) -> str:
    """INSERT ... ON CONFLICT DO NOTHING (SQLite and PostgreSQL alike) for the driver's cursor:
    the rows are built in the form the driver takes, so no per-row bind processing is left."""
    marks = ["?" if sqlite else "%s"] * len(INSERT_COLUMNS)
    if not sqlite:
        marks[INSERT_COLUMNS.index("details")] = "CAST(%s AS JSON)"
    # built from the constants above only: no value of the file is in the SQL text
    return (
        f"INSERT INTO {Voice.__tablename__} ({', '.join(INSERT_COLUMNS)}) "  # noqa: S608
        f"VALUES ({', '.join(marks)}) ON CONFLICT DO NOTHING"
    )


def _fts_trigger_skips_imports() -> bool:
    """Whether SQLite's FTS insert trigger leaves imported rows to the import (it does since
    migration 1577efe981e7). Read per run, so an import never indexes a row twice (a trigger
    that fires for every row, e.g. after an older schema was restored) nor leaves one out."""
    if db.session.get_bind().dialect.name != "sqlite":
        return False
    sql = db.session.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'voices_fts_ai'")
    ).scalar()
    return sql is not None and "new.import_id IS NULL" in " ".join(sql.split())


def _last_voice_id() -> int:
    return int(db.session.execute(sa.text("SELECT coalesce(max(id), 0) FROM voices")).scalar_one())


def _index_for_search(ctx: _Context, after_id: int) -> None:
    """Add the rows this batch created to the FTS5 index, in the batch's transaction (so they
    commit, or roll back, together). The run holds SQLite's write lock from its first write
    (BEGIN IMMEDIATE), so the voices above `after_id` that carry this import's id are exactly
    the rows its executemany just stored."""
    db.session.execute(
        sa.text(
            "INSERT INTO voices_fts(rowid, text) SELECT id, text FROM voices "
            "WHERE id > :after AND import_id = :import_id"
        ),
        {"after": after_id, "import_id": ctx.import_id},
    )


def _execute_many(ctx: _Context, rows: list[dict[str, Any]]) -> int:
    """One executemany on the session's own connection (inside its transaction); how many rows
    went in."""
    cursor = db.session.connection().connection.cursor()
    try:
        cursor.executemany(_insert_sql(ctx.sqlite), [_as_parameters(r) for r in rows])
        return int(cursor.rowcount)
    finally:
        cursor.close()


def _insert(ctx: _Context, rows: list[dict[str, Any]]) -> int:
    """Insert, skipping duplicates; returns how many were created. A row skipped only because
    its random reference collided with another voice's gets a new reference and goes again.

    A plain executemany (SQLite reuses one prepared statement). When its row count says that
    some rows were skipped, the batch's dedup keys are looked up through their unique indexes:
    a key stored by this very row (this import, this row number) was created, a key stored by
    any other row is a duplicate, and a key stored by nobody lost only its reference."""
    after_id = _last_voice_id() if ctx.index_per_batch else 0
    created = _insert_rows(ctx, rows)
    if ctx.index_per_batch and created:
        _index_for_search(ctx, after_id)
    return created


def _insert_rows(ctx: _Context, rows: list[dict[str, Any]]) -> int:
    created = 0
    for _attempt in range(MAX_REFERENCE_RETRIES):
        if _execute_many(ctx, rows) == len(rows):
            return created + len(rows)  # every row went in: nothing to look up
        owners = _key_owners(ctx, rows)
        retry = []
        for row in rows:
            owner = owners.get(row["external_id"] or row["content_hash"])
            if owner is None:
                retry.append(row)
            elif owner == (ctx.import_id, row["import_row"]):
                created += 1
        if not retry:
            return created
        rows = retry
        for row in rows:
            row["reference"] = new_reference()  # the rare collision: the usual generator
    raise Conflict("Could not give the imported voices unique references; run it again.")


def _key_owners(ctx: _Context, rows: list[dict[str, Any]]) -> dict[str, tuple[Any, Any]]:
    """Dedup key → (import_id, import_row) of the voice that holds it, for the rows' keys."""
    voices = Voice.__table__
    conn = db.session.connection()
    ids = [r["external_id"] for r in rows if r["external_id"]]
    hashes = [r["content_hash"] for r in rows if not r["external_id"]]
    owners: dict[str, tuple[Any, Any]] = {}
    if ids:
        stmt = sa.select(voices.c.external_id, voices.c.import_id, voices.c.import_row).where(
            voices.c.office_id == ctx.office_id,
            voices.c.channel == ctx.channel,
            voices.c.external_id.in_(ids),
        )
        owners.update((key, (imp, row)) for key, imp, row in conn.execute(stmt))
    if hashes:
        stmt = sa.select(voices.c.content_hash, voices.c.import_id, voices.c.import_row).where(
            voices.c.office_id == ctx.office_id, voices.c.content_hash.in_(hashes)
        )
        owners.update((key, (imp, row)) for key, imp, row in conn.execute(stmt))
    return owners
