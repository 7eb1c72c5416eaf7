"""受理 (accept): an issue checked, numbered and written with its audit row.

Intake is the hot path (bench/README.md, "Issue intake over HTTP"): it reads and writes
through Core statements built once, with bound parameters, and never loads an ORM object
unless the caller asks for one (accept_issue does; the API answers from the values)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from app.auth.models import User
from app.core.audit import AuditEvent
from app.core.driver_sql import DriverStatement
from app.core.errors import ValidationFailed
from app.core.fields import clean_text
from app.core.scoping import KINDS, Scope
from app.core.uow import transaction_from_here
from app.customers.models import Customer
from app.db import utcnow
from app.extensions import db
from app.issues.inputs import MAX_TEXT, MAX_TITLE, Actor, aware_time, valid_owner
from app.issues.models import CHANNELS, PRIORITIES, Issue
from app.issues.numbering import counter_cte, ensure_counter, next_number, number_prefix
from app.issues.reference import ReferenceData, reference_data, reference_data_at, stamp_column
from app.issues.sla_policy import clock_deadlines, sla_calendar_for
from app.issues.workflow import Status
from app.org.models import Office

_customers = Customer.__table__.c
_offices = Office.__table__.c
_OFFICE_COLUMNS = (
    _offices.id,
    _offices.code,
    _offices.region_id,
    _offices.timezone,
    _offices.work_start,
    _offices.work_end,
)


# the reference data's stamp rides along (the last column): one round trip for both
def _intake_customer(kind: str) -> DriverStatement:
    return DriverStatement(
        lambda: (
            sa.select(
                _customers.id, _customers.name, _customers.tier, *_OFFICE_COLUMNS, stamp_column()
            )
            .join_from(Customer.__table__, Office.__table__, _customers.office_id == _offices.id)
            .where(
                _customers.id == sa.bindparam("customer_id"),
                Scope.bound_office_filter(kind, _customers.office_id),
            )
        )
    )


_INTAKE_CUSTOMER = {kind: _intake_customer(kind) for kind in KINDS}
_OFFICE_BY_CODE = sa.select(*_OFFICE_COLUMNS).where(_offices.code == sa.bindparam("office_code"))
_issues = Issue.__table__
_audit_events = AuditEvent.__table__


# The columns a new issue gets values for; every other column starts NULL (held by a test).
# The one-statement intake below names only these: psycopg converts a statement of more than
# 50 parameters or 4 KB afresh on every execution, and the full column list passed both.
WRITTEN_AT_INTAKE = (
    "office_id",
    "customer_id",
    "title",
    "description",
    "channel",
    "category_id",
    "priority",
    "status",
    "escalation_level",
    "owner_id",
    "created_by_id",
    "received_at",
    "response_due_at",
    "resolve_due_at",
    "response_warn_at",
    "resolve_warn_at",
    "response_target_minutes",
    "resolve_target_minutes",
    "commitment_text",
    "commitment_due_at",
    "reopen_count",
    "voice_id",
    "version",
    "created_at",
    "updated_at",
)


def _value(column: str) -> Any:
    """The parameter `v_<column>`, typed as its column: in a SELECT list a parameter has no
    type of its own, and the psycopg dialect spells each of these types out (::INTEGER)."""
    return sa.bindparam(f"v_{column}", type_=_issues.c[column].type)


def _const(text: str) -> Any:
    """A constant written into the SQL, not sent as one more parameter per execution."""
    return sa.literal_column(f"'{text}'", sa.Text)


def _accept_in_one_statement() -> sa.Select[Any]:
    """PostgreSQL: the counter bump, the issue and its audit row as one statement, the last
    before the commit, so the office's counter row stays locked for one round trip and the
    commit instead of four. The values are bound parameters named `v_<column>` for the
    columns of WRITTEN_AT_INTAKE (with `number_prefix`, `category_code` and the counter's
    key; the audit row takes its time and actor from `v_created_at` and `v_created_by_id`);
    it answers (id, number), or no row when the office has no counter for the year yet."""
    counter = counter_cte()
    digits = sa.cast(counter.c.last_number, sa.Text)
    number = sa.bindparam("number_prefix", type_=sa.Text) + sa.func.lpad(
        digits, sa.func.greatest(sa.literal_column("6"), sa.func.length(digits)), _const("0")
    )
    issue = (
        sa.insert(_issues)
        .from_select(
            ["number", *WRITTEN_AT_INTAKE],
            sa.select(number, *[_value(key) for key in WRITTEN_AT_INTAKE]).select_from(counter),
        )
        .returning(_issues.c.id, _issues.c.number, _issues.c.office_id)
        .cte("issue")
    )

    def change(name: str, value: Any) -> list[Any]:
        return [_const(name), sa.func.json_build_array(None, value)]

    a = _audit_events.c
    audit = (
        sa.insert(_audit_events)
        .from_select(
            [a.at, a.actor_id, a.entity_type, a.entity_id, a.action, a.changes, a.office_id],
            sa.select(
                _value("created_at"),
                _value("created_by_id"),
                _const("issue"),
                issue.c.id,
                _const("accept"),
                # the same keys in the same order as the other engines' row (json keeps order)
                sa.func.json_build_object(
                    *change("status", _value("status")),
                    *change("number", issue.c.number),
                    *change("priority", _value("priority")),
                    *change("category", sa.bindparam("category_code", type_=sa.String)),
                    *change("owner_id", _value("owner_id")),
                ),
                issue.c.office_id,
            ).select_from(issue),
        )
        .cte("audit")
    )
    return sa.select(issue.c.id, issue.c.number).add_cte(audit)


# built at first use (the mappers have given every foreign key column its type by then) and run
# on the driver's cursor: SQLAlchemy's execution path cost 0.3 ms of CPU per intake here
_ACCEPT = DriverStatement(_accept_in_one_statement)

# the other engines' writes, one statement each (SQLite has no writes in a WITH)
_AUDIT_COLUMNS = ("at", "actor_id", "entity_type", "entity_id", "action", "changes", "office_id")
_INSERT_ISSUE = DriverStatement(
    lambda: (
        sa.insert(_issues)
        .values({c.key: _value(c.key) for c in _issues.c if c.key != "id"})
        .returning(_issues.c.id)
    )
)
_INSERT_AUDIT = DriverStatement(
    lambda: sa.insert(_audit_events).values(
        {key: sa.bindparam(f"a_{key}", type_=_audit_events.c[key].type) for key in _AUDIT_COLUMNS}
    )
)


@dataclass(frozen=True)
class IntakeOffice:
    """The columns of an office that intake needs (scope check, SLA calendar, number)."""

    id: int
    code: str
    region_id: int
    timezone: str
    work_start: str
    work_end: str


@dataclass
class Intake:
    """An issue checked and computed, ready to be written: the row's values without its id
    and number, and the names the answer shows beside the ids."""

    values: dict[str, Any]
    office: IntakeOffice
    year: int
    actor_id: int | None
    category_code: str
    customer_name: str


@dataclass(frozen=True)
class AcceptedIssue:
    """What intake wrote: every column of the issue row (id and number included), the
    category and office codes and the customer's name."""

    values: Mapping[str, Any]
    category_code: str
    office_code: str
    customer_name: str

    @property
    def id(self) -> int:
        return int(self.values["id"])

    @property
    def number(self) -> str:
        return str(self.values["number"])


def _intake_place(
    scope: Scope, customer_id: Any, office_code: str | None, errors: dict[str, str]
) -> tuple[Any, IntakeOffice | None, ReferenceData]:
    """The customer (in the actor's scope; another office's customer is "unknown", 422), the
    office (the one named, else the customer's) and the reference data, current as of the
    customer's read."""
    session = db.session()
    if session.autoflush:  # as an ORM query would: a customer created just now is found
        session.flush()
    customer = _INTAKE_CUSTOMER[scope.kind].first({"customer_id": customer_id, **scope.params()})
    office = None
    if customer is None:
        errors["customer_id"] = "unknown customer"
        reference = reference_data()
    else:
        office = IntakeOffice(*customer[3:-1])
        reference = reference_data_at(customer[-1])
    if office_code:
        row = session.execute(_OFFICE_BY_CODE, {"office_code": office_code.strip().upper()}).first()
        office = IntakeOffice(*row) if row is not None else None
        if office is None or not scope.covers_office(office):  # type: ignore[arg-type]
            errors["office"] = "unknown office"
    return customer, office, reference


def prepare_intake(
    *,
    actor: Actor | None,
    customer_id: int,
    title: str,
    description: str,
    channel: str,
    category: str,
    priority: str,
    office_code: str | None = None,
    received_at: datetime | None = None,
    commitment_text: str | None = None,
    commitment_due_at: datetime | None = None,
    voice_id: int | None = None,
    owner_id: int | None = None,
    now: datetime | None = None,
) -> Intake:
    """受理, first half: everything checked (422 with `fields`) and computed — office, SLA
    targets and deadlines — by reads only; write_intake() then numbers and writes it.

    The two halves run in one transaction (accept_issue), or, for the API on SQLite, in a
    read transaction and then the write transaction, so that the database's single write
    lock covers only the writes. Either way each read sees committed data, as PostgreSQL's
    READ COMMITTED reads do inside one transaction."""
    now = now or utcnow()
    errors: dict[str, str] = {}
    title = clean_text(title, "title", errors, limit=MAX_TITLE, required=True)
    description = clean_text(description, "description", errors, limit=MAX_TEXT, required=False)
    commitment = clean_text(
        commitment_text, "commitment_text", errors, limit=MAX_TEXT, required=False
    )
    if channel not in CHANNELS:
        errors["channel"] = "unknown channel"
    if priority not in PRIORITIES:
        errors["priority"] = "one of " + ", ".join(PRIORITIES)
    scope = Scope.for_user(actor) if actor is not None else Scope("company")  # None: the system
    customer, office, reference = _intake_place(scope, customer_id, office_code, errors)
    category_row = reference.categories.get(category) if isinstance(category, str) else None
    if category_row is None or not category_row.active:
        errors["category"] = "unknown category"
    received_at = aware_time(received_at, "received_at", errors) or now
    if received_at > now + timedelta(minutes=5):
        errors["received_at"] = "cannot be in the future"
    commitment_due_at = aware_time(commitment_due_at, "commitment_due_at", errors)
    if errors or office is None or customer is None or category_row is None:
        raise ValidationFailed(fields=errors)
    owner = valid_owner(office.id, owner_id) if owner_id is not None else None

    cal = sla_calendar_for(office)  # type: ignore[arg-type]
    response, resolve = reference.targets_for(priority, category_row.id, customer.tier)
    response_due, response_warn = clock_deadlines(cal, received_at, response)
    resolve_due, resolve_warn = clock_deadlines(cal, received_at, resolve)
    values: dict[str, Any] = dict.fromkeys(_issues.c.keys())
    values.update(
        office_id=office.id,
        customer_id=customer.id,
        title=title,
        description=description,
        channel=channel,
        category_id=category_row.id,
        priority=priority,
        status=Status.ACCEPTED.value,
        escalation_level=0,
        owner_id=owner.id if owner is not None else None,
        created_by_id=actor.id if actor is not None else None,
        received_at=received_at,
        response_due_at=response_due,
        resolve_due_at=resolve_due,
        response_warn_at=response_warn,
        resolve_warn_at=resolve_warn,
        response_target_minutes=response,
        resolve_target_minutes=resolve,
        commitment_text=commitment or None,
        commitment_due_at=commitment_due_at,
        reopen_count=0,
        voice_id=voice_id,
        version=1,
        created_at=now,
        updated_at=now,
    )
    del values["id"], values["number"]
    return Intake(
        values=values,
        office=office,
        year=received_at.astimezone(cal.zone).year,
        actor_id=actor.id if actor is not None else None,
        category_code=category_row.code,
        customer_name=customer.name,
    )


def write_intake(intake: Intake) -> AcceptedIssue:
    """受理, second half: the number, the issue row and its audit row, in the caller's
    transaction. Drawing the number locks the office's counter (PostgreSQL) until the
    commit, so every other intake of the office waits from there on: only writes follow,
    and on PostgreSQL all three are one statement."""
    values = dict(intake.values)
    if db.session.get_bind().dialect.name == "postgresql":
        params = {
            # prefixed: the counter's UPDATE would take a parameter named as one of its
            # columns (office_id) for a value to SET
            **{f"v_{key}": values[key] for key in WRITTEN_AT_INTAKE},
            "counter_office": intake.office.id,
            "counter_year": intake.year,
            "number_prefix": number_prefix(intake.office.code, intake.year),
            "category_code": intake.category_code,
        }
        row = _ACCEPT.first(params)
        if row is None:  # the office's first issue of the year: nothing was written
            transaction_from_here()
            ensure_counter(intake.office.id, intake.year)
            row = _ACCEPT.first(params)
            if row is None:  # ensure_counter made it, or another intake did
                raise RuntimeError("the office's issue counter is missing")
        values["id"], values["number"] = row
        return AcceptedIssue(values, intake.category_code, intake.office.code, intake.customer_name)
    number = next_number(intake.office.id, intake.office.code, intake.year)
    values["number"] = number
    values["id"] = _INSERT_ISSUE.first({f"v_{key}": value for key, value in values.items()}).id
    _INSERT_AUDIT.first(
        {
            "a_at": values["created_at"],
            "a_actor_id": intake.actor_id,
            "a_entity_type": "issue",
            "a_entity_id": values["id"],
            "a_action": "accept",
            "a_changes": {
                "status": [None, values["status"]],
                "number": [None, number],
                "priority": [None, values["priority"]],
                "category": [None, intake.category_code],
                "owner_id": [None, values["owner_id"]],
            },
            "a_office_id": values["office_id"],
        },
    )
    return AcceptedIssue(values, intake.category_code, intake.office.code, intake.customer_name)


def accept_issue(
    *,
    actor: User | None,
    customer_id: int,
    title: str,
    description: str,
    channel: str,
    category: str,
    priority: str,
    office_code: str | None = None,
    received_at: datetime | None = None,
    commitment_text: str | None = None,
    commitment_due_at: datetime | None = None,
    voice_id: int | None = None,
    owner_id: int | None = None,
    now: datetime | None = None,
) -> Issue:
    """受理: a numbered issue with its SLA deadlines counted from `received_at` (when the
    customer called; default now), in the caller's transaction."""
    intake = prepare_intake(
        actor=actor,
        customer_id=customer_id,
        title=title,
        description=description,
        channel=channel,
        category=category,
        priority=priority,
        office_code=office_code,
        received_at=received_at,
        commitment_text=commitment_text,
        commitment_due_at=commitment_due_at,
        voice_id=voice_id,
        owner_id=owner_id,
        now=now,
    )
    accepted = write_intake(intake)
    # written just above in this transaction, so found; the UI and jobs go on with the object
    return db.session.get_one(Issue, accepted.id)
