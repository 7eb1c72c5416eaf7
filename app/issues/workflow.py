"""The issue state machine: pure Python, no Flask, no database.

    accepted → handling ⇄ waiting
    accepted / handling / waiting / reopened → escalated (level +1: office → region → company)
    escalated → handling (the manager takes it back in hand), escalated → escalated (one more level)
    accepted / handling / waiting / escalated / reopened → resolved → closed
    resolved / closed → reopened → handling

The services call `next_status` and `can` (or `require`); the UI asks `allowed_actions` for
its buttons, so both enforce the same two tables and templates never contain rules. The
escalation level is the issue's own column; this module only checks it against the cap.
Roles are plain strings (agent, handler, office_manager, regional_manager, quality_admin,
admin); `app.auth.roles.Role` is a StrEnum, so its members work here as they are.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    ACCEPTED = "accepted"  # 受理: taken by the hotline, nobody working on it yet
    HANDLING = "handling"  # 处理: an owner is working on it
    WAITING = "waiting"  # waiting on the customer: the SLA clock is paused
    ESCALATED = "escalated"  # with a manager (level 1 office, 2 region, 3 company)
    RESOLVED = "resolved"  # solution given, awaiting the callback and the rating
    CLOSED = "closed"  # closed and rated
    REOPENED = "reopened"  # the customer was not satisfied


class Action(StrEnum):
    """The API verbs, POST /issues/{id}/<action>, in the order the UI shows its buttons."""

    HANDLE = "handle"  # take in hand / assign; resume from waiting; take back after escalation
    WAIT = "wait"  # waiting on the customer: the SLA clock pauses
    ESCALATE = "escalate"  # one level up, by hand or by the SLA job
    RESOLVE = "resolve"
    CLOSE = "close"  # close and rate (callback 回访 + the customer's 1–5 rating)
    REOPEN = "reopen"


MAX_ESCALATION_LEVEL = 3  # 1 office manager → 2 regional manager → 3 company (quality)

TRANSITIONS: dict[tuple[Status, Action], Status] = {
    # A fresh issue: take it, ask the customer first, escalate at once (an angry caller, a
    # safety matter), or resolve it on the first call (first-contact resolution).
    (Status.ACCEPTED, Action.HANDLE): Status.HANDLING,
    (Status.ACCEPTED, Action.WAIT): Status.WAITING,
    (Status.ACCEPTED, Action.ESCALATE): Status.ESCALATED,
    (Status.ACCEPTED, Action.RESOLVE): Status.RESOLVED,
    # In hand. `handle` again reassigns it to another owner.
    (Status.HANDLING, Action.HANDLE): Status.HANDLING,
    (Status.HANDLING, Action.WAIT): Status.WAITING,
    (Status.HANDLING, Action.ESCALATE): Status.ESCALATED,
    (Status.HANDLING, Action.RESOLVE): Status.RESOLVED,
    # Waiting on the customer. `handle` resumes (the customer answered); a missed target can
    # still escalate it; the customer's answer may be that the problem is gone (resolve).
    (Status.WAITING, Action.HANDLE): Status.HANDLING,
    (Status.WAITING, Action.ESCALATE): Status.ESCALATED,
    (Status.WAITING, Action.RESOLVE): Status.RESOLVED,
    # With a manager: take it back in hand, ask the customer, go one more level up (capped,
    # see `next_status`), or resolve.
    (Status.ESCALATED, Action.HANDLE): Status.HANDLING,
    (Status.ESCALATED, Action.WAIT): Status.WAITING,
    (Status.ESCALATED, Action.ESCALATE): Status.ESCALATED,
    (Status.ESCALATED, Action.RESOLVE): Status.RESOLVED,
    # Done: close and rate, or reopen when the callback finds the customer unsatisfied.
    (Status.RESOLVED, Action.CLOSE): Status.CLOSED,
    (Status.RESOLVED, Action.REOPEN): Status.REOPENED,
    # Closed issues only ever reopen (a low rating, or the problem came back).
    (Status.CLOSED, Action.REOPEN): Status.REOPENED,
    # Reopened: the same choices as a fresh issue.
    (Status.REOPENED, Action.HANDLE): Status.HANDLING,
    (Status.REOPENED, Action.WAIT): Status.WAITING,
    (Status.REOPENED, Action.ESCALATE): Status.ESCALATED,
    (Status.REOPENED, Action.RESOLVE): Status.RESOLVED,
}

ROLES = ("agent", "handler", "office_manager", "regional_manager", "quality_admin", "admin")
MANAGER_ROLES = frozenset({"office_manager", "regional_manager", "quality_admin", "admin"})

# Who may do what. Managers and admins may do everything.
# - Agents (hotline) accept issues (creation is not a transition), take the rating on the
#   phone (close), reopen when the caller is not satisfied, and may escalate at once for an
#   angry or urgent caller. They do not take issues in hand, park them or resolve them.
# - Handlers handle, wait, escalate and resolve. They may also close and reopen, because the
#   callback (回访) after a resolution is often theirs, and it ends in a rating or a reopen.
# A customer rating from an e-mailed link is not a role; the services close on its behalf.
ACTION_ROLES: dict[Action, frozenset[str]] = {
    Action.HANDLE: MANAGER_ROLES | {"handler"},
    Action.WAIT: MANAGER_ROLES | {"handler"},
    Action.ESCALATE: MANAGER_ROLES | {"handler", "agent"},
    Action.RESOLVE: MANAGER_ROLES | {"handler"},
    Action.CLOSE: MANAGER_ROLES | {"handler", "agent"},
    Action.REOPEN: MANAGER_ROLES | {"handler", "agent"},
}

OPEN_STATUSES = frozenset(
    {Status.ACCEPTED, Status.HANDLING, Status.WAITING, Status.ESCALATED, Status.REOPENED}
)
# Not open: the SLA clocks have stopped; only `close` (from resolved) and `reopen` lead on.
DONE_STATUSES = frozenset({Status.RESOLVED, Status.CLOSED})
# Open, but the SLA clocks do not run (waiting on the customer).
PAUSED_STATUSES = frozenset({Status.WAITING})
# Open with the SLA clocks running: what the escalation job looks at.
RUNNING_STATUSES = OPEN_STATUSES - PAUSED_STATUSES


class InvalidTransition(Exception):
    """`action` is not possible from `status` (→ 409 in the API, a flash message in HTML)."""

    def __init__(
        self, status: Status | str, action: Action | str, message: str | None = None
    ) -> None:
        self.status = Status(status)
        self.action = Action(action)
        self.message = message or f"cannot {self.action.value} an issue that is {self.status}"
        super().__init__(self.message)


class ActionNotAllowed(Exception):
    """The role may not perform the action at all (→ 403)."""

    def __init__(self, role: str, action: Action | str) -> None:
        self.role = str(role)
        self.action = Action(action)
        self.message = f"a {self.role} may not {self.action.value} issues"
        super().__init__(self.message)


def _check_level(escalation_level: int) -> None:
    if not 0 <= escalation_level <= MAX_ESCALATION_LEVEL:
        raise ValueError(
            f"escalation level must be between 0 and {MAX_ESCALATION_LEVEL}, not {escalation_level}"
        )


def next_status(status: Status | str, action: Action | str, *, escalation_level: int = 0) -> Status:
    """The status `action` leads to from `status`, or InvalidTransition.

    Escalating an issue already at MAX_ESCALATION_LEVEL is invalid from any status. Unknown
    status or action strings raise ValueError (a programming error, not a user's mistake).
    """
    status, action = Status(status), Action(action)
    _check_level(escalation_level)
    if action is Action.ESCALATE and escalation_level >= MAX_ESCALATION_LEVEL:
        raise InvalidTransition(
            status, action, f"already escalated to the company level ({MAX_ESCALATION_LEVEL})"
        )
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise InvalidTransition(status, action) from None


def next_escalation_level(escalation_level: int) -> int:
    """The level an escalation moves to: +1, or InvalidTransition past the company level."""
    _check_level(escalation_level)
    if escalation_level >= MAX_ESCALATION_LEVEL:
        raise InvalidTransition(
            Status.ESCALATED,
            Action.ESCALATE,
            f"already escalated to the company level ({MAX_ESCALATION_LEVEL})",
        )
    return escalation_level + 1


def can(role: str, action: Action | str) -> bool:
    """Whether `role` may perform `action` at all (unknown roles may do nothing)."""
    return role in ACTION_ROLES[Action(action)]


def require(role: str, action: Action | str) -> None:
    """ActionNotAllowed unless `role` may perform `action`."""
    if not can(role, action):
        raise ActionNotAllowed(role, action)


def allowed_actions(status: Status | str, role: str, *, escalation_level: int = 0) -> list[Action]:
    """The actions `role` can take now, in the order the UI shows the buttons."""
    status = Status(status)
    _check_level(escalation_level)
    return [
        action
        for action in Action
        if (status, action) in TRANSITIONS
        and can(role, action)
        and not (action is Action.ESCALATE and escalation_level >= MAX_ESCALATION_LEVEL)
    ]
