"""The issue state machine: pure Python, no Flask, no database.

accepted → handling ⇄ waiting → (escalated, level 1..3) → resolved → closed; resolved or
closed → reopened when the customer is not satisfied. The UI asks `allowed_actions` for its
buttons; the services call `next_status` and `can`, so both enforce the same table.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    ACCEPTED = "accepted"
    HANDLING = "handling"
    WAITING = "waiting"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"


class Action(StrEnum):
    HANDLE = "handle"  # take, assign, resume from waiting, take back after escalation
    WAIT = "wait"  # waiting on the customer: the SLA clock pauses
    ESCALATE = "escalate"
    RESOLVE = "resolve"
    CLOSE = "close"  # close and rate
    REOPEN = "reopen"


MAX_ESCALATION_LEVEL = 3

S, A = Status, Action
TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (S.ACCEPTED, A.HANDLE): S.HANDLING,
    (S.ACCEPTED, A.WAIT): S.WAITING,
    (S.ACCEPTED, A.ESCALATE): S.ESCALATED,
    (S.ACCEPTED, A.RESOLVE): S.RESOLVED,  # solved on the first call
    (S.HANDLING, A.HANDLE): S.HANDLING,  # reassign
    (S.HANDLING, A.WAIT): S.WAITING,
    (S.HANDLING, A.ESCALATE): S.ESCALATED,
    (S.HANDLING, A.RESOLVE): S.RESOLVED,
    (S.WAITING, A.HANDLE): S.HANDLING,  # the customer answered: resume
    (S.WAITING, A.ESCALATE): S.ESCALATED,
    (S.WAITING, A.RESOLVE): S.RESOLVED,
    (S.ESCALATED, A.HANDLE): S.HANDLING,  # the next level takes it in hand
    (S.ESCALATED, A.WAIT): S.WAITING,
    (S.ESCALATED, A.ESCALATE): S.ESCALATED,  # up one more level
    (S.ESCALATED, A.RESOLVE): S.RESOLVED,
    (S.RESOLVED, A.CLOSE): S.CLOSED,
    (S.RESOLVED, A.REOPEN): S.REOPENED,
    (S.CLOSED, A.REOPEN): S.REOPENED,
    (S.REOPENED, A.HANDLE): S.HANDLING,
    (S.REOPENED, A.WAIT): S.WAITING,
    (S.REOPENED, A.ESCALATE): S.ESCALATED,
    (S.REOPENED, A.RESOLVE): S.RESOLVED,
}

# Who may do what. Agents take calls: they accept, escalate an angry caller, take the rating
# on the phone (close) and reopen; handling and resolving is the handlers' and managers' work.
_MANAGERS = frozenset({"office_manager", "regional_manager", "quality_admin", "admin"})
ROLES: dict[Action, frozenset[str]] = {
    A.HANDLE: _MANAGERS | {"handler"},
    A.WAIT: _MANAGERS | {"handler"},
    A.ESCALATE: _MANAGERS | {"handler", "agent"},
    A.RESOLVE: _MANAGERS | {"handler"},
    A.CLOSE: _MANAGERS | {"handler", "agent"},
    A.REOPEN: _MANAGERS | {"handler", "agent"},
}

OPEN_STATUSES = frozenset({S.ACCEPTED, S.HANDLING, S.WAITING, S.ESCALATED, S.REOPENED})
DONE_STATUSES = frozenset({S.RESOLVED, S.CLOSED})
PAUSED_STATUSES = frozenset({S.WAITING})


class InvalidTransition(Exception):
    def __init__(self, status: Status | str, action: Action | str, reason: str | None = None):
        self.status = Status(status)
        self.action = Action(action)
        self.message = reason or f"cannot {self.action.value} an issue that is {self.status.value}"
        super().__init__(self.message)


class ActionNotAllowed(Exception):
    def __init__(self, role: str, action: Action | str):
        self.role = role
        self.action = Action(action)
        super().__init__(f"a {role} may not {self.action.value} issues")


def next_status(status: Status | str, action: Action | str, *, escalation_level: int = 0) -> Status:
    status, action = Status(status), Action(action)
    if action is A.ESCALATE and escalation_level >= MAX_ESCALATION_LEVEL:
        raise InvalidTransition(status, action, "already escalated to the company level")
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise InvalidTransition(status, action) from None


def can(role: str, action: Action | str) -> bool:
    return role in ROLES[Action(action)]


def allowed_actions(status: Status | str, role: str, *, escalation_level: int = 0) -> list[Action]:
    """The actions this role can take now, in the order the UI shows them."""
    actions = []
    for action in Action:
        if not can(role, action):
            continue
        try:
            next_status(status, action, escalation_level=escalation_level)
        except InvalidTransition:
            continue
        actions.append(action)
    return actions
