"""The signals that a customer may be slipping away (DOMAIN §5, from the churn-warning seed
document: 协议到期, 存在流失倾向, 业务量突降, 多日零通话), each computed for every customer at once
with GROUP BY in the database. `detect()` returns what holds at `now`; the job compares it with
the warnings already raised (app.warnings.services)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from app.customers.models import Customer
from app.extensions import db
from app.issues.models import Escalation, Issue
from app.voice.models import Voice


@dataclass(frozen=True)
class Thresholds:
    """When each signal fires. Defaults suit a B2B service desk; WARNING_THRESHOLDS in the
    configuration overrides any of them (docs/warnings.md)."""

    contract_days: int = 60  # the contract ends within this many days ...
    contract_grace_days: int = 30  # ... or ended at most this many days ago, not renewed
    rating_days: int = 90  # closed-issue ratings of this window ...
    rating_baseline_days: int = 365  # ... against those of the year before it
    rating_min_n: int = 2
    rating_low_mean: float = 3.0  # the window's mean is at most this ...
    rating_drop: float = 1.0  # ... and this much below the year before (if there were any)
    burst_days: int = 30  # issues received in this window ...
    burst_baseline_days: int = 180  # ... against the same length on average before it
    burst_min: int = 3
    burst_factor: float = 3.0
    escalation_days: int = 30
    escalation_min: int = 2  # distinct issues escalated in the window
    volume_days: int = 90  # contacts (issues and voices) in this window ...
    volume_min_before: int = 6  # ... against the window before it, when that had this many
    volume_drop: float = 0.5  # ... and fell by at least this share
    silence_days: int = 60  # no contact at all for this long ...
    silence_before_days: int = 180  # ... after this window ...
    silence_min_before: int = 8  # ... held at least this many contacts

    @classmethod
    def from_config(cls, overrides: dict[str, Any] | None) -> Thresholds:
        known = {f.name: f.type for f in fields(cls)}
        unknown = set(overrides or {}) - set(known)
        if unknown:
            raise ValueError(f"unknown WARNING_THRESHOLDS keys: {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {
            name: (float(v) if isinstance(getattr(cls, name), float) else int(v))
            for name, v in (overrides or {}).items()
        }
        return cls(**values)


Signals = dict[tuple[int, str], dict[str, Any]]  # (customer id, reason) -> details


def _count_if(condition: Any) -> Any:
    return sa.func.sum(sa.case((condition, 1), else_=0))


def contract_expiring(today: date, t: Thresholds) -> Signals:
    rows = db.session.execute(
        sa.select(Customer.id, Customer.contract_end).where(
            Customer.contract_end.between(
                today - timedelta(days=t.contract_grace_days),
                today + timedelta(days=t.contract_days),
            )
        )
    )
    return {
        (cid, "contract_expiring"): {
            "contract_end": end.isoformat(),
            "days_left": (end - today).days,
        }
        for cid, end in rows
        if end is not None
    }


def falling_ratings(now: datetime, t: Thresholds) -> Signals:
    start = now - timedelta(days=t.rating_days)
    baseline = start - timedelta(days=t.rating_baseline_days)
    recent = Issue.closed_at >= start
    stmt = (
        sa.select(
            Issue.customer_id,
            _count_if(recent).label("n"),
            sa.func.sum(sa.case((recent, Issue.rating), else_=0)).label("total"),
            _count_if(~recent).label("n_before"),
            sa.func.sum(sa.case((~recent, Issue.rating), else_=0)).label("total_before"),
        )
        .where(Issue.closed_at >= baseline, Issue.closed_at < now, Issue.rating.is_not(None))
        .group_by(Issue.customer_id)
        .having(_count_if(recent) >= t.rating_min_n)
    )
    found: Signals = {}
    for cid, n, total, n_before, total_before in db.session.execute(stmt):
        mean = total / n
        before = total_before / n_before if n_before else None
        if mean > t.rating_low_mean:
            continue
        if before is not None and before - mean < t.rating_drop:
            continue
        found[(cid, "falling_ratings")] = {
            "mean": round(mean, 2),
            "n": n,
            "mean_before": round(before, 2) if before is not None else None,
            "n_before": n_before,
        }
    return found


def issue_burst(now: datetime, t: Thresholds) -> Signals:
    start = now - timedelta(days=t.burst_days)
    baseline = start - timedelta(days=t.burst_baseline_days)
    recent = Issue.received_at >= start
    stmt = (
        sa.select(Issue.customer_id, _count_if(recent), _count_if(~recent))
        .where(Issue.received_at >= baseline, Issue.received_at < now)
        .group_by(Issue.customer_id)
        .having(_count_if(recent) >= t.burst_min)
    )
    found: Signals = {}
    for cid, n, n_before in db.session.execute(stmt):
        usual = n_before * t.burst_days / t.burst_baseline_days
        if n >= t.burst_factor * usual:
            found[(cid, "issue_burst")] = {
                "n": n,
                "days": t.burst_days,
                "usual": round(usual, 1),
            }
    return found


def escalations(now: datetime, t: Thresholds) -> Signals:
    stmt = (
        sa.select(
            Issue.customer_id,
            sa.func.count(sa.distinct(Escalation.issue_id)),
            sa.func.max(Escalation.level),
        )
        .join(Issue, Issue.id == Escalation.issue_id)
        .where(Escalation.at >= now - timedelta(days=t.escalation_days), Escalation.at < now)
        .group_by(Issue.customer_id)
        .having(sa.func.count(sa.distinct(Escalation.issue_id)) >= t.escalation_min)
    )
    return {
        (cid, "escalations"): {"issues": n, "max_level": level, "days": t.escalation_days}
        for cid, n, level in db.session.execute(stmt)
    }


def _contacts(since: datetime, until: datetime) -> sa.Subquery:
    """Every contact with a known customer in [since, until): issues and voices."""
    issues = sa.select(Issue.customer_id.label("customer_id"), Issue.received_at.label("at")).where(
        Issue.received_at >= since, Issue.received_at < until
    )
    voices = sa.select(Voice.customer_id.label("customer_id"), Voice.occurred_at.label("at")).where(
        Voice.customer_id.is_not(None), Voice.occurred_at >= since, Voice.occurred_at < until
    )
    return sa.union_all(issues, voices).subquery("contacts")


def volume_and_silence(now: datetime, t: Thresholds) -> Signals:
    """Contacts falling by half (业务量突降) and silence after heavy use (多日零通话), from one
    scan of the contacts of the longest window either needs."""
    volume_start = now - timedelta(days=t.volume_days)
    volume_before = volume_start - timedelta(days=t.volume_days)
    silence_start = now - timedelta(days=t.silence_days)
    silence_before = silence_start - timedelta(days=t.silence_before_days)
    contacts = _contacts(min(volume_before, silence_before), now)
    at = contacts.c.at
    v_recent = _count_if(at >= volume_start)
    v_before = _count_if(sa.and_(at >= volume_before, at < volume_start))
    s_recent = _count_if(at >= silence_start)
    s_before = _count_if(sa.and_(at >= silence_before, at < silence_start))
    stmt = (
        sa.select(contacts.c.customer_id, v_recent, v_before, s_recent, s_before)
        .group_by(contacts.c.customer_id)
        .having(sa.or_(v_before >= t.volume_min_before, s_before >= t.silence_min_before))
    )
    found: Signals = {}
    for cid, vr, vb, sr, sb in db.session.execute(stmt):
        if sr == 0 and sb >= t.silence_min_before:
            found[(cid, "silence")] = {"days": t.silence_days, "before": sb}
        elif vb >= t.volume_min_before and vr <= vb * (1 - t.volume_drop):
            found[(cid, "volume_drop")] = {
                "n": vr,
                "before": vb,
                "days": t.volume_days,
                "change": round((vr - vb) / vb, 3),
            }
    return found


def detect(now: datetime, today: date, t: Thresholds) -> Signals:
    signals: Signals = {}
    for part in (
        contract_expiring(today, t),
        falling_ratings(now, t),
        issue_burst(now, t),
        escalations(now, t),
        volume_and_silence(now, t),
    ):
        signals.update(part)
    return signals


def offices_of(customer_ids: Iterable[int]) -> dict[int, int]:
    """Customer id → office id, read in chunks (IN lists stay short on both engines)."""
    ids = sorted(set(customer_ids))
    found: dict[int, int] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        found.update(
            db.session.execute(  # type: ignore[arg-type]
                sa.select(Customer.id, Customer.office_id).where(Customer.id.in_(chunk))
            ).all()
        )
    return found
