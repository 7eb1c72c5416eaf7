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
import operator
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import current_app

from app import sqlite_cache_kib
from app.auth.roles import Role
from app.core import audit
from app.core.errors import Conflict, Forbidden, ValidationFailed
from app.core.fields import strip_control_characters
from app.core.scoping import get_scoped
from app.db import utcnow
from app.extensions import db
from app.issues.models import Category
from app.org.models import Office
from app.voice.channels import CHANNELS, DETAIL_FIELDS, kind_of
from app.voice.classification import current_rules
from app.voice.import_pool import built_batches, workers_for
from app.voice.import_rows import (
    CONTENT_HASH,
    CUSTOMER,
    EXTERNAL_ID,
    IMPORT_ROW,
    INSERT_COLUMNS,
    REFERENCE,
    BuiltBatch,
    CategoryRef,
    Pending,
    RowBuilder,
)
from app.voice.importers import Limits, SourceRow, Table, read_table
from app.voice.models import Voice, VoiceImport
from app.voice.sentiment import default_lexicon
from app.voice.services import new_reference, scope_of

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
# Rows per transaction. A batch's inserts into the indexes on random keys (references, dedup
# hashes) touch pages all over them: the bigger the batch, the fewer times each page is written
# out. 5,000 rows hold SQLite's write lock for about half a second, between which other writers
# (the hotline) go on; a crash loses at most one batch's work, resumed from `next_row`.
BATCH_SIZE = 5000
IMPORT_CACHE_KIB = 64 * 1024  # SQLite's page cache for the import's transactions
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
        # a label for people: control characters an upload's name may carry are dropped
        filename=(strip_control_characters(filename or "") or "upload")[-255:],
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
    """What the writing side of a run needs (the rows are built by `builder`)."""

    imp: VoiceImport
    builder: RowBuilder
    actor_id: int | None
    sqlite: bool
    # SQLite with the bulk-aware FTS insert trigger: its definition; the import indexes each
    # batch's rows itself and sets the trigger aside while it inserts (_insert)
    fts_trigger: str | None
    office_id: int = 0
    import_id: int = 0
    channel: str = ""


def _category_index() -> dict[str, CategoryRef]:
    index: dict[str, CategoryRef] = {}
    for row in db.session.scalars(sa.select(Category).where(Category.active.is_(True))):
        ref = CategoryRef(row.id, row.dimension)
        for key in (row.name_en.lower(), row.name_zh, row.code.lower()):
            index[key] = ref
    return index


def run_import(
    imp: VoiceImport,
    table: Table,
    *,
    actor: User | None,
    now: datetime | None = None,
    batch_size: int | None = None,
    workers: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> ImportSummary:
    """Import the rows from `imp.next_row` on, committing batch by batch; on an error the
    committed batches stay, the import is marked failed, and the error is raised again.
    `workers`: processes building the rows (1: this one); by default as configured
    (VOICE_IMPORT_WORKERS, for files of VOICE_IMPORT_PARALLEL_ROWS rows or more)."""
    import_id = imp.id
    if workers is None:
        workers = workers_for((imp.total_rows or 0) - imp.next_row, current_app.config)
    try:
        return _run(
            imp,
            table,
            actor=actor,
            now=now or utcnow(),
            batch_size=batch_size or BATCH_SIZE,
            workers=workers,
            on_progress=on_progress,
        )
    except Conflict:
        db.session.rollback()
        raise
    except BaseException:
        db.session.rollback()
        _mark_failed(import_id, actor)
        raise


def _row_builder(
    imp: VoiceImport, table: Table, *, actor_id: int | None, now: datetime, sqlite: bool
) -> RowBuilder:
    office = db.session.get(Office, imp.office_id)
    assert office is not None  # noqa: S101 (a foreign key)
    columns = check_mapping(imp.mapping, table.headers)
    return RowBuilder(
        channel=imp.channel,
        kind=kind_of(imp.channel),
        office_id=office.id,
        import_id=imp.id,
        actor_id=actor_id,
        columns=columns,
        detail_columns=tuple((f, columns[f]) for f in DETAIL_FIELDS if f in columns),
        categories=_category_index(),
        timezone=office.timezone,
        now=now,
        sqlite=sqlite,
        use_external_id="external_id" in imp.mapping,
        # the rules as they are when this run starts, held for all its batches
        ruleset=current_rules(),
        lexicon=default_lexicon(),
    )


def _run(
    imp: VoiceImport,
    table: Table,
    *,
    actor: User | None,
    now: datetime,
    batch_size: int,
    workers: int,
    on_progress: ProgressCallback | None,
) -> ImportSummary:
    actor_id = actor.id if actor is not None else None
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    ctx = _Context(
        imp=imp,
        builder=_row_builder(imp, table, actor_id=actor_id, now=now, sqlite=sqlite),
        actor_id=actor_id,
        sqlite=sqlite,
        fts_trigger=_bulk_aware_fts_trigger(),
        office_id=imp.office_id,
        import_id=imp.id,
        channel=imp.channel,
    )
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
    with (
        _bulk_cache(),
        built_batches(ctx.builder, rows, batch_size=batch_size, workers=workers) as built,
    ):
        for batch in built:
            created, duplicates, rejected = _import_batch(ctx, batch)
            reported.extend(rejected[: max(0, MAX_REPORTED - len(reported))])
            new_state = {
                "next_row": state["next_row"] + batch.size,
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


@contextmanager
def _bulk_cache() -> Iterator[None]:
    """SQLite: the run's transactions with IMPORT_CACHE_KIB of page cache (app.sqlite_cache_kib)."""
    token = sqlite_cache_kib.set(IMPORT_CACHE_KIB)
    try:
        yield
    finally:
        sqlite_cache_kib.reset(token)


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


def _import_batch(ctx: _Context, batch: BuiltBatch) -> tuple[int, int, list[dict[str, Any]]]:
    """Store a built batch: match its customers, insert, skipping duplicates.
    (created, duplicates, rejected rows)."""
    pending = batch.pending
    if not pending:
        return 0, 0, batch.rejected
    _match_customers(ctx, pending)
    # one order for every import (by dedup key), so two racing imports that share rows take
    # their key locks in the same order and wait for each other instead of deadlocking
    pending.sort(key=operator.attrgetter("dedup_key"))
    created = _insert(ctx, [p.row for p in pending])
    return created, len(pending) - created, batch.rejected


def _match_customers(ctx: _Context, pending: list[Pending]) -> None:
    """By phone among the office's customers, else by exact name in the office; a phone or
    name that fits several customers matches none of them (it stays as contact details).

    One query per batch, on the tables directly: the customers holding the batch's phones and
    those bearing its names, each with their office, kept for this office here. Each half is led
    by its own index (phone number, name): with the office in the WHERE clause SQLite started
    from the office's customers instead and probed every phone for each of them. Plain SQL with
    the keys as parameters: compiling an IN of thousands of bound values cost more than running
    it."""
    phones = list({p.phone for p in pending if p.phone})
    names = list({p.name for p in pending if p.name})
    if not phones and not names:
        return
    found: dict[tuple[str, str], set[int]] = {}
    sql, params = _match_sql(ctx.sqlite, phones, names)
    for kind, key, customer_id, office_id in db.session.connection().exec_driver_sql(sql, params):
        if office_id == ctx.office_id:
            found.setdefault((kind, key), set()).add(customer_id)
    for p in pending:
        match = found.get(("phone", p.phone or "")) or found.get(("name", p.name or "")) or ()
        if len(match) == 1:
            p.row[CUSTOMER] = next(iter(match))


def _match_sql(sqlite: bool, phones: list[str], names: list[str]) -> tuple[str, Any]:
    """The customer query of a batch and its parameters: the driver's own placeholders (one
    per key on SQLite, an array on PostgreSQL); only constants are in the SQL text."""
    by_phone = (
        "SELECT 'phone', p.number, c.id, c.office_id FROM customer_phones p "
        "JOIN customers c ON c.id = p.customer_id WHERE p.number "
    )
    by_name = "SELECT 'name', c.name, c.id, c.office_id FROM customers c WHERE c.name "
    parts: list[str] = []
    params: list[Any] = []
    for sql, keys in ((by_phone, phones), (by_name, names)):
        if not keys:
            continue
        if sqlite:
            parts.append(sql + "IN (" + ", ".join("?" * len(keys)) + ")")
            params.extend(keys)
        else:
            parts.append(sql + "= ANY(%s)")
            params.append(keys)
    return " UNION ALL ".join(parts), tuple(params)


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


def _bulk_aware_fts_trigger() -> str | None:
    """SQLite's FTS insert trigger, when it leaves imported rows to the import (it does since
    migration 1577efe981e7): its CREATE statement, else None. Read per run, so an import never
    indexes a row twice (a trigger that fires for every row, e.g. after an older schema was
    restored) nor leaves one out."""
    if db.session.get_bind().dialect.name != "sqlite":
        return None
    sql = db.session.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'voices_fts_ai'")
    ).scalar()
    if sql is None or "new.import_id IS NULL" not in " ".join(sql.split()):
        return None
    return str(sql)


def _fts_trigger_skips_imports() -> bool:
    return _bulk_aware_fts_trigger() is not None


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


def _execute_many(ctx: _Context, rows: list[list[Any]]) -> int:
    """One executemany on the session's own connection (inside its transaction); how many rows
    went in."""
    cursor = db.session.connection().connection.cursor()
    try:
        cursor.executemany(_insert_sql(ctx.sqlite), rows)
        return int(cursor.rowcount)
    finally:
        cursor.close()


def _insert(ctx: _Context, rows: list[list[Any]]) -> int:
    """Insert, skipping duplicates; returns how many were created. A row skipped only because
    its random reference collided with another voice's gets a new reference and goes again.

    A plain executemany (SQLite reuses one prepared statement). When its row count says that
    some rows were skipped, the batch's dedup keys are looked up through their unique indexes:
    a key stored by this very row (this import, this row number) was created, a key stored by
    any other row is a duplicate, and a key stored by nobody lost only its reference."""
    if ctx.fts_trigger is None:
        return _insert_rows(ctx, rows)
    after_id = _last_voice_id()
    with _trigger_set_aside(ctx.fts_trigger):
        created = _insert_rows(ctx, rows)
    if created:
        _index_for_search(ctx, after_id)
    return created


@contextmanager
def _trigger_set_aside(create_sql: str) -> Iterator[None]:
    """The FTS insert trigger dropped for the batch's insert and created again from its own
    definition, both in the batch's transaction: no other connection ever sees it missing, and
    a crash rolls the drop back with the rows. SQLite runs an AFTER INSERT trigger's program for
    every row even when its WHEN clause leaves the row out; this one (an FTS5 insert) cost more
    than the row itself (60 µs of 110 per row at 100,000 voices)."""
    conn = db.session.connection()
    conn.exec_driver_sql("DROP TRIGGER voices_fts_ai")
    yield
    conn.exec_driver_sql(create_sql)


def _insert_rows(ctx: _Context, rows: list[list[Any]]) -> int:
    created = 0
    for _attempt in range(MAX_REFERENCE_RETRIES):
        if _execute_many(ctx, rows) == len(rows):
            return created + len(rows)  # every row went in: nothing to look up
        owners = _key_owners(ctx, rows)
        retry = []
        for row in rows:
            owner = owners.get(row[EXTERNAL_ID] or row[CONTENT_HASH])
            if owner is None:
                retry.append(row)
            elif owner == (ctx.import_id, row[IMPORT_ROW]):
                created += 1
        if not retry:
            return created
        rows = retry
        for row in rows:
            row[REFERENCE] = new_reference()  # the rare collision: the usual generator
    raise Conflict("Could not give the imported voices unique references; run it again.")


def _key_owners(ctx: _Context, rows: list[list[Any]]) -> dict[str, tuple[Any, Any]]:
    """Dedup key → (import_id, import_row) of the voice that holds it, for the rows' keys."""
    voices = Voice.__table__
    conn = db.session.connection()
    ids = [r[EXTERNAL_ID] for r in rows if r[EXTERNAL_ID]]
    hashes = [r[CONTENT_HASH] for r in rows if not r[EXTERNAL_ID]]
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
