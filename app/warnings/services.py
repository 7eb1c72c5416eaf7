"""Raising, refreshing, clearing and acknowledging warnings.

`refresh(now)` is the `early-warning` job's work: what the signals say at `now` becomes the set
of active warnings. A reason seen for the first time is raised (audited, and the office
managers get one digest e-mail per run); one still holding keeps its raise time and gets its
figures updated; one that no longer holds is cleared (audited). Running it twice at the same
`now` changes nothing the second time.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app

from app.auth.models import User
from app.auth.roles import Role
from app.core import audit, timeutils
from app.core.audit import AuditEvent
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.outbox_service import enqueue_email
from app.core.scoping import Scope
from app.customers.models import Customer
from app.db import utcnow
from app.extensions import db
from app.org.models import Office
from app.warnings import labels, signals
from app.warnings.models import CustomerWarning

NOTE_MAX = 500
DIGEST_LINES = 50


def thresholds() -> signals.Thresholds:
    return signals.Thresholds.from_config(current_app.config.get("WARNING_THRESHOLDS"))


@dataclass(frozen=True)
class Raised:
    customer_id: int
    office_id: int
    reason: str
    details: dict[str, Any]


@dataclass
class RefreshResult:
    raised: list[Raised]
    updated: int
    cleared: int

    def summary(self) -> dict[str, int]:
        return {"raised": len(self.raised), "updated": self.updated, "cleared": self.cleared}


def _audit_rows(rows: list[dict[str, Any]]) -> None:
    if rows:
        db.session.execute(sa.insert(AuditEvent.__table__), rows)


def refresh(now: datetime, *, notify: bool = True) -> RefreshResult:
    """Written with set-based statements, not one ORM object per warning: a company's list
    holds thousands of customers and the daily run should not rewrite them one by one."""
    tz = current_app.config["TIMEZONE"]
    found = signals.detect(now, timeutils.local(now, tz).date(), thresholds())
    offices = signals.offices_of(cid for cid, _reason in found)
    table = CustomerWarning.__table__
    active = {
        (cid, reason): (wid, office_id, details)
        for wid, cid, reason, office_id, details in db.session.execute(
            sa.select(
                table.c.id, table.c.customer_id, table.c.reason, table.c.office_id, table.c.details
            ).where(table.c.cleared_at.is_(None))
        )
    }
    raised: list[Raised] = []
    changed: list[dict[str, Any]] = []
    for (cid, reason), details in sorted(found.items()):
        office_id = offices.get(cid)
        if office_id is None:
            continue  # deleted since the scan
        current = active.get((cid, reason))
        if current is None:
            raised.append(Raised(cid, office_id, reason, details))
        elif current[2] != details or current[1] != office_id:
            changed.append({"wid": current[0], "d": details, "o": office_id})
    gone = [
        (key, value) for key, value in active.items() if key not in found or key[0] not in offices
    ]
    if gone:
        db.session.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("wid"))
            .values(cleared_at=sa.bindparam("now", type_=table.c.cleared_at.type)),
            [{"wid": wid, "now": now} for _key, (wid, _o, _d) in gone],
        )
    if changed:
        db.session.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("wid"))
            .values(
                details=sa.bindparam("d", type_=table.c.details.type), office_id=sa.bindparam("o")
            ),
            changed,
        )
    # every warning still active was seen now
    db.session.execute(
        sa.update(table).where(table.c.cleared_at.is_(None)).values(last_seen_at=now)
    )
    if raised:
        db.session.execute(
            sa.insert(table),
            [
                {
                    "customer_id": r.customer_id,
                    "office_id": r.office_id,
                    "reason": r.reason,
                    "details": r.details,
                    "raised_at": now,
                    "last_seen_at": now,
                }
                for r in raised
            ],
        )
    base = {"actor_id": None, "entity_type": "customer", "at": now}
    _audit_rows(
        [
            {
                **base,
                "entity_id": cid,
                "action": "warning_cleared",
                "changes": {"reason": reason},
                "office_id": office_id,
            }
            for (cid, reason), (_wid, office_id, _d) in gone
        ]
        + [
            {
                **base,
                "entity_id": r.customer_id,
                "action": "warning_raised",
                "changes": {"reason": r.reason, "details": r.details},
                "office_id": r.office_id,
            }
            for r in raised
        ]
    )
    if notify:
        _notify(raised, now)
    return RefreshResult(raised, len(changed), len(gone))


def _notify(raised: list[Raised], now: datetime) -> None:
    """One digest per office manager of each office with new warnings, once per run day."""
    if not raised:
        return
    by_office: dict[int, list[Raised]] = defaultdict(list)
    for warning in raised:
        by_office[warning.office_id].append(warning)
    day = timeutils.day_key(now, current_app.config["TIMEZONE"])
    names = dict(
        db.session.execute(  # type: ignore[arg-type]
            sa.select(Customer.id, Customer.name).where(
                Customer.id.in_({w.customer_id for w in raised})
            )
        ).all()
    )
    base = current_app.config["BASE_URL"]
    for office_id, warnings in sorted(by_office.items()):
        office = db.session.get(Office, office_id)
        managers = db.session.scalars(
            sa.select(User).where(
                User.active.is_(True),
                User.role == Role.OFFICE_MANAGER.value,
                User.office_id == office_id,
            )
        ).all()
        if office is None or not managers:
            continue
        lines = [
            f"客户预警 {day}：{office.code} {office.name}，新增 {len(warnings)} 条",
            f"Early warning {day}: {office.code} {office.name}, {len(warnings)} new",
            "",
        ]
        for w in warnings[:DIGEST_LINES]:
            figures = labels.describe_plain(w.reason, w.details)
            name = names.get(w.customer_id, w.customer_id)
            lines.append(f"- {name}: {labels.REASON_BILINGUAL[w.reason]} — {figures}")
        if len(warnings) > DIGEST_LINES:
            lines.append(f"… +{len(warnings) - DIGEST_LINES}")
        lines += ["", f"{base}/warnings/?office={office.code}", ""]
        for manager in managers:
            enqueue_email(
                key=f"early-warning:{day}:{office_id}:{manager.id}",
                to=manager.email,
                subject=f"客户预警 / Early warning {office.code} {day}: {len(warnings)}",
                body="\n".join(lines),
            )


def acknowledge(*, actor: Any, warning_id: int, note: str, scope: Scope) -> CustomerWarning:
    """Record that someone is following the warning up. Only once: a second person gets a
    conflict naming who did, so two managers do not both call the customer unknowingly."""
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationFailed(fields={"note": f"at most {NOTE_MAX} characters"})
    warning: CustomerWarning | None = db.session.scalar(
        sa.select(CustomerWarning).where(
            CustomerWarning.id == warning_id,
            CustomerWarning.cleared_at.is_(None),
            scope.office_filter(CustomerWarning.office_id),
        )
    )
    if warning is None:
        raise NotFound()
    now = utcnow()
    done = db.session.execute(
        sa.update(CustomerWarning)
        .where(CustomerWarning.id == warning_id, CustomerWarning.acknowledged_at.is_(None))
        .values(acknowledged_at=now, acknowledged_by_id=actor.id, acknowledge_note=note or None)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        db.session.refresh(warning)
        who = warning.acknowledged_by.name if warning.acknowledged_by else "?"
        raise Conflict(f"Already acknowledged by {who}.")
    audit.record(
        actor_id=actor.id,
        entity_type="customer",
        entity_id=warning.customer_id,
        action="warning_acknowledged",
        changes={"reason": warning.reason, "note": note},
        office_id=warning.office_id,
    )
    db.session.refresh(warning)
    return warning
