"""The state machine, without an app."""

from __future__ import annotations

import pytest

from app.issues.workflow import (
    MAX_ESCALATION_LEVEL,
    TRANSITIONS,
    Action,
    InvalidTransition,
    Status,
    allowed_actions,
    can,
    next_status,
)

LIFECYCLE = [
    (Status.ACCEPTED, Action.HANDLE, Status.HANDLING),
    (Status.HANDLING, Action.WAIT, Status.WAITING),
    (Status.WAITING, Action.HANDLE, Status.HANDLING),
    (Status.HANDLING, Action.ESCALATE, Status.ESCALATED),
    (Status.ESCALATED, Action.HANDLE, Status.HANDLING),
    (Status.HANDLING, Action.RESOLVE, Status.RESOLVED),
    (Status.RESOLVED, Action.CLOSE, Status.CLOSED),
    (Status.CLOSED, Action.REOPEN, Status.REOPENED),
    (Status.REOPENED, Action.HANDLE, Status.HANDLING),
    (Status.RESOLVED, Action.REOPEN, Status.REOPENED),
    (Status.ACCEPTED, Action.RESOLVE, Status.RESOLVED),
]


@pytest.mark.parametrize(("status", "action", "expected"), LIFECYCLE)
def test_lifecycle_moves(status, action, expected):
    assert next_status(status, action) == expected


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("action", list(Action))
def test_every_other_move_is_invalid(status, action):
    if (status, action) in TRANSITIONS:
        assert next_status(status, action) == TRANSITIONS[(status, action)]
    else:
        with pytest.raises(InvalidTransition) as info:
            next_status(status, action)
        assert info.value.status == status and info.value.action == action


def test_closed_issues_only_reopen():
    assert [a for a in Action if (Status.CLOSED, a) in TRANSITIONS] == [Action.REOPEN]


def test_escalation_stops_at_company_level():
    assert next_status(Status.ESCALATED, Action.ESCALATE, escalation_level=2) == Status.ESCALATED
    with pytest.raises(InvalidTransition, match="company"):
        next_status(Status.ESCALATED, Action.ESCALATE, escalation_level=MAX_ESCALATION_LEVEL)
    assert Action.ESCALATE not in allowed_actions(Status.ESCALATED, "admin", escalation_level=3)


def test_roles():
    assert can("agent", Action.CLOSE) and can("agent", Action.ESCALATE)
    assert not can("agent", Action.RESOLVE) and not can("agent", Action.HANDLE)
    assert can("handler", Action.RESOLVE) and can("office_manager", Action.HANDLE)
    assert allowed_actions(Status.ACCEPTED, "agent") == [Action.ESCALATE]
    assert allowed_actions(Status.RESOLVED, "agent") == [Action.CLOSE, Action.REOPEN]
    assert allowed_actions(Status.HANDLING, "handler") == [
        Action.HANDLE,
        Action.WAIT,
        Action.ESCALATE,
        Action.RESOLVE,
    ]
