"""The summary e-mail of a kept report snapshot, to the managers of its scope: office managers
of the office, regional managers of the region, quality admins and admins for the company.
Queued in the outbox with one key per (snapshot, manager), so it is sent once."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from app.auth.models import User
from app.auth.roles import Role
from app.core.outbox_service import enqueue_email
from app.extensions import db
from app.reports.dto import Figure, MonthlyReview, WeeklyReport
from app.reports.models import ReportSnapshot
from app.reports.periods import ReportScope

SUMMARY = (
    ("new", "新增问题", "New issues"),
    ("closed", "关闭", "Closed"),
    ("open", "周末未关闭", "Open at week end"),
    ("overdue", "超期", "Overdue"),
    ("escalated", "升级", "Escalated"),
    ("reopened", "重开", "Reopened"),
    ("sla_resolution_rate", "解决 SLA 达成率", "Resolution SLA met"),
    ("csat", "CSAT", "CSAT"),
    ("voices", "客户声音", "Voices"),
)


def managers_of(scope: ReportScope) -> list[User]:
    stmt = sa.select(User).where(User.active.is_(True))
    if scope.kind == "office":
        stmt = stmt.where(
            User.role == Role.OFFICE_MANAGER.value, User.office_id.in_(scope.office_ids)
        )
    elif scope.kind == "region":
        stmt = stmt.where(
            User.role == Role.REGIONAL_MANAGER.value, User.region_id == scope.region_id
        )
    else:
        stmt = stmt.where(User.role.in_([Role.QUALITY_ADMIN.value, Role.ADMIN.value]))
    return list(db.session.scalars(stmt.order_by(User.id)))


def _value(name: str, value: float | int | None) -> str:
    if value is None:
        return "—"
    if name.endswith("rate") or name == "csat":
        return f"{value * 100:.1f}%"
    return str(value)


def _line(name: str, zh: str, en: str, figure: Figure) -> str:
    change = figure.change
    if change is None:
        delta = ""
    elif name.endswith("rate") or name == "csat":
        delta = f" ({change * 100:+.1f} pp)"
    else:
        delta = f" ({change:+d})"
    return f"{zh} / {en}: {_value(name, figure.value)}{delta}"


def summary_body(report: WeeklyReport, link: str) -> str:
    where = report.scope_name if report.scope_kind != "company" else "公司 / Company"
    lines = [
        f"周监控 {report.period}（{report.starts_on} – {report.ends_on}）：{where}",
        f"Weekly monitoring {report.period} ({report.starts_on} – {report.ends_on}): {where}",
        f"与 {report.previous_period} 对比 / compared with {report.previous_period}",
        "",
    ]
    lines += [_line(n, zh, en, report.figures[n]) for n, zh, en in SUMMARY]
    lines += ["", f"待讨论问题 / Issues to discuss: {len(report.discuss)}", "", link, ""]
    return "\n".join(lines)


REVIEW_SUMMARY = (
    ("new", "新增问题", "New issues"),
    ("closed", "关闭", "Closed"),
    ("escalated", "升级", "Escalated"),
    ("reopened", "重开", "Reopened"),
    ("repeats", "重复的客户声音", "Repeat voices"),
    ("sla_resolution_rate", "解决 SLA 达成率", "Resolution SLA met"),
    ("csat", "CSAT", "CSAT"),
)


def review_body(review: MonthlyReview, link: str) -> str:
    where = review.scope_name if review.scope_kind != "company" else "公司 / Company"
    lines = [
        f"月度问题质量分析 {review.period}：{where}",
        f"Monthly quality review {review.period}: {where}",
        f"与 {review.previous_period} 对比 / compared with {review.previous_period}",
        "",
    ]
    lines += [_line(n, zh, en, review.figures[n]) for n, zh, en in REVIEW_SUMMARY]
    csat = review.figures["csat"]
    if csat.margin is not None:
        lines.append(f"CSAT ±{csat.margin * 100:.1f}% (n={csat.n})")
    if review.pareto_root_causes:
        top = review.pareto_root_causes[0]
        name = top.name_zh or top.key
        lines.append(f"首要根本原因 / Top root cause: {name} ({top.value}, {top.share * 100:.0f}%)")
    lines += ["", link, ""]
    return "\n".join(lines)


def notify_snapshot(
    snapshot: ReportSnapshot, scope: ReportScope, report: WeeklyReport | MonthlyReview
) -> int:
    link = f"{current_app.config['BASE_URL']}/reports/snapshots/{snapshot.id}"
    where = report.scope_code or "company"
    if isinstance(report, MonthlyReview):
        subject = f"[月度质量分析 / Quality review] {report.period} {where}"
        body = review_body(report, link)
    else:
        subject = f"[周监控 / Weekly] {report.period} {where}"
        body = summary_body(report, link)
    sent = 0
    for user in managers_of(scope):
        message = enqueue_email(
            key=f"report:{snapshot.kind}:{snapshot.scope_key}:{snapshot.period}:{user.id}",
            to=user.email,
            subject=subject,
            body=body,
            entity_type="report_snapshot",
            entity_id=snapshot.id,
        )
        sent += message is not None
    return sent
