"""Display names for statuses, priorities, channels and reference data, in the UI language."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

if TYPE_CHECKING:
    from app.issues.sla import TimeLeft

STATUS = {
    "accepted": _l("Accepted"),
    "handling": _l("Handling"),
    "waiting": _l("Waiting on customer"),
    "escalated": _l("Escalated"),
    "resolved": _l("Resolved"),
    "closed": _l("Closed"),
    "reopened": _l("Reopened"),
}
PRIORITY = {"urgent": _l("Urgent"), "high": _l("High"), "normal": _l("Normal"), "low": _l("Low")}
CHANNEL = {
    "hotline": _l("Service hotline"),
    "service_request": _l("Service request"),
    "sales_report": _l("Sales report"),
    "return": _l("Returns"),
    "web": _l("Web feedback"),
    "interview": _l("Customer interview"),
    "problem_team": _l("Problem team feedback"),
    "survey": _l("Customer survey"),
    "partner_interview": _l("Partner interview"),
    "observation": _l("Direct observation"),
    "market_research": _l("Market research"),
}
CONTACT_CHANNEL = {
    "phone": _l("Phone"),
    "email": _l("E-mail"),
    "sms": _l("SMS"),
    "visit": _l("Visit"),
    "chat": _l("Chat"),
    "other": _l("Other"),
}
# a contact's direction, as the caller panel shows it
DIRECTION = {"in": _l("From the customer"), "out": _l("To the customer")}
ACTION = {
    "handle": _l("Take / assign"),
    "wait": _l("Wait on customer"),
    "escalate": _l("Escalate"),
    "resolve": _l("Resolve"),
    "close": _l("Close and rate"),
    "reopen": _l("Reopen"),
}
AUDIT_ACTION = {
    "accept": _l("Accepted"),
    "update": _l("Edited"),
    "handle": _l("Taken in hand"),
    "resume": _l("Resumed"),
    "wait": _l("Waiting on customer"),
    "escalate": _l("Escalated"),
    "resolve": _l("Resolved"),
    "close": _l("Closed and rated"),
    "reopen": _l("Reopened"),
    "note": _l("Note"),
    "contact": _l("Customer contact"),
    # set while the issue was logged, by the repeat panel (app.voice.services)
    "link_repeat": _l("Linked as a repeat"),
    "dismiss_repeat": _l("Repeat suggestion dismissed"),
}

NOTIFICATION_STATE = {
    "pending": _l("Queued"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
    "bounced": _l("Bounced"),
    "cancelled": _l("Cancelled before sending"),
}
SLA_TARGET = {"response": _l("first response"), "resolution": _l("resolution")}


def notification_kind(code: str, level: int | None = None, target: str | None = None) -> str:
    """What an issue's e-mail is about, e.g. "Escalation to level 2"."""
    if code == "escalation" and level is not None:
        label = _("Escalation to level %(n)d", n=level)
    elif code == "sla_warning" and target is not None:
        label = _("SLA warning (%(target)s)", target=SLA_TARGET.get(target, target))
    elif code == "low_rating":
        label = _("Low rating")
    elif code == "rating_link":
        label = _("Rating link to the customer")
    else:
        label = _("Other e-mail")
    return str(label)


TARGET = {"response": _l("Response target"), "resolution": _l("Resolution target")}


def working_duration(minutes: int) -> str:
    """Working time as hours and minutes ("3 h 20 min"): a working day is 9 hours, so days
    would mislead across nights and weekends."""
    hours, rest = divmod(minutes, 60)
    if hours == 0:
        return str(_("%(m)d min", m=rest))
    if rest == 0:
        return str(_("%(h)d h", h=hours))
    return str(_("%(h)d h %(m)d min", h=hours, m=rest))


def describe_time_left(left: TimeLeft) -> str:
    """One line for a list: which target, and the working time left, or overdue, or paused."""
    target = str(TARGET[left.target])
    duration = working_duration(left.minutes)
    if left.paused:
        if left.overdue:
            return str(_("%(target)s: paused, %(time)s overdue", target=target, time=duration))
        return str(_("%(target)s: paused, %(time)s left", target=target, time=duration))
    if left.overdue:
        return str(_("%(target)s: %(time)s overdue", target=target, time=duration))
    return str(_("%(target)s: %(time)s left", target=target, time=duration))


def pairs(mapping: dict[str, Any]) -> list[tuple[str, str]]:
    return [(key, str(label)) for key, label in mapping.items()]


def localized(row: Any) -> str:
    """name_zh or name_en of a reference row, by the current locale."""
    return str(row.name_en if str(get_locale()) == "en" else row.name_zh)
