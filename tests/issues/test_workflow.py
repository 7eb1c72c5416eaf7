"""The state machine, without an app: every move, every refusal, roles and the escalation cap."""

from __future__ import annotations

import itertools
from enum import StrEnum

import pytest

from app.issues import workflow
from app.issues.workflow import (
    DONE_STATUSES,
    MAX_ESCALATION_LEVEL,
    OPEN_STATUSES,
    PAUSED_STATUSES,
    RUNNING_STATUSES,
    TRANSITIONS,
    Action,
    ActionNotAllowed,
    InvalidTransition,
    Status,
    allowed_actions,
    can,
    next_escalation_level,
    next_status,
    require,
)

S, A = Status, Action

# Written out independently of the module: the table is the contract with the API and the UI.
EXPECTED = {
    (S.ACCEPTED, A.HANDLE): S.HANDLING,
    (S.ACCEPTED, A.WAIT): S.WAITING,
    (S.ACCEPTED, A.ESCALATE): S.ESCALATED,
    (S.ACCEPTED, A.RESOLVE): S.RESOLVED,
    (S.HANDLING, A.HANDLE): S.HANDLING,
    (S.HANDLING, A.WAIT): S.WAITING,
    (S.HANDLING, A.ESCALATE): S.ESCALATED,
    (S.HANDLING, A.RESOLVE): S.RESOLVED,
    (S.WAITING, A.HANDLE): S.HANDLING,
    (S.WAITING, A.ESCALATE): S.ESCALATED,
    (S.WAITING, A.RESOLVE): S.RESOLVED,
    (S.ESCALATED, A.HANDLE): S.HANDLING,
    (S.ESCALATED, A.WAIT): S.WAITING,
    (S.ESCALATED, A.ESCALATE): S.ESCALATED,
    (S.ESCALATED, A.RESOLVE): S.RESOLVED,
    (S.RESOLVED, A.CLOSE): S.CLOSED,
    (S.RESOLVED, A.REOPEN): S.REOPENED,
    (S.CLOSED, A.REOPEN): S.REOPENED,
    (S.REOPENED, A.HANDLE): S.HANDLING,
    (S.REOPENED, A.WAIT): S.WAITING,
    (S.REOPENED, A.ESCALATE): S.ESCALATED,
    (S.REOPENED, A.RESOLVE): S.RESOLVED,
}

ROLES = ("agent", "handler", "office_manager", "regional_manager", "quality_admin", "admin")
MANAGERS = ("office_manager", "regional_manager", "quality_admin", "admin")
PERMITTED = {
    "agent": {A.ESCALATE, A.CLOSE, A.REOPEN},
    "handler": {A.HANDLE, A.WAIT, A.ESCALATE, A.RESOLVE, A.CLOSE, A.REOPEN},
    **{manager: set(Action) for manager in MANAGERS},
}

ALL_PAIRS = list(itertools.product(Status, Action))
INVALID_PAIRS = [pair for pair in ALL_PAIRS if pair not in EXPECTED]


def test_enum_values_are_the_api_words():
    assert [s.value for s in Status] == [
        "accepted",
        "handling",
        "waiting",
        "escalated",
        "resolved",
        "closed",
        "reopened",
    ]
    assert [a.value for a in Action] == ["handle", "wait", "escalate", "resolve", "close", "reopen"]
    assert Status("waiting") is S.WAITING and Action("reopen") is A.REOPEN
    assert S.CLOSED == "closed" and f"{A.HANDLE}" == "handle"


def test_the_table_is_exactly_the_documented_one():
    assert TRANSITIONS == EXPECTED
    assert len(INVALID_PAIRS) == len(ALL_PAIRS) - len(EXPECTED) == 20


@pytest.mark.parametrize(("status", "action"), list(EXPECTED))
def test_every_allowed_transition(status, action):
    assert next_status(status, action) is EXPECTED[(status, action)]
    # strings from a URL or a database column work the same
    assert next_status(status.value, action.value) is EXPECTED[(status, action)]


@pytest.mark.parametrize(("status", "action"), INVALID_PAIRS)
def test_every_other_pair_raises(status, action):
    with pytest.raises(InvalidTransition) as info:
        next_status(status, action)
    error = info.value
    assert error.status is status and error.action is action
    assert error.message == str(error) == f"cannot {action.value} an issue that is {status.value}"


@pytest.mark.parametrize("level", range(MAX_ESCALATION_LEVEL + 1))
@pytest.mark.parametrize(("status", "action"), ALL_PAIRS)
def test_levels_change_nothing_but_escalation(status, action, level):
    capped = action is A.ESCALATE and level == MAX_ESCALATION_LEVEL
    if (status, action) in EXPECTED and not capped:
        assert next_status(status, action, escalation_level=level) is EXPECTED[(status, action)]
    else:
        with pytest.raises(InvalidTransition):
            next_status(status, action, escalation_level=level)


def test_the_lifecycle_of_the_domain():
    """accepted → handling ⇄ waiting → escalated ×3 → handling → resolved → closed → reopened."""
    path = [
        (A.HANDLE, S.HANDLING),
        (A.WAIT, S.WAITING),
        (A.HANDLE, S.HANDLING),  # the customer answered: resume
        (A.ESCALATE, S.ESCALATED),
        (A.ESCALATE, S.ESCALATED),
        (A.ESCALATE, S.ESCALATED),
        (A.HANDLE, S.HANDLING),  # the company level takes it back in hand
        (A.RESOLVE, S.RESOLVED),
        (A.CLOSE, S.CLOSED),
        (A.REOPEN, S.REOPENED),  # a poor rating
        (A.HANDLE, S.HANDLING),
        (A.RESOLVE, S.RESOLVED),
        (A.REOPEN, S.REOPENED),  # the callback found it unsolved
        (A.RESOLVE, S.RESOLVED),
        (A.CLOSE, S.CLOSED),
    ]
    status, level = S.ACCEPTED, 0
    for action, expected in path:
        new = next_status(status, action, escalation_level=level)
        if action is A.ESCALATE:
            level = next_escalation_level(level)
        assert new is expected, (status, action)
        status = new
    assert (status, level) == (S.CLOSED, 3)


def test_closed_issues_only_reopen():
    assert [a for a in Action if (S.CLOSED, a) in TRANSITIONS] == [A.REOPEN]
    assert [a for a in Action if (S.RESOLVED, a) in TRANSITIONS] == [A.CLOSE, A.REOPEN]


def test_done_issues_never_go_straight_back_to_work():
    for status in DONE_STATUSES:
        for action in (A.HANDLE, A.WAIT, A.ESCALATE, A.RESOLVE):
            assert (status, action) not in TRANSITIONS


def test_every_status_is_reachable_and_every_open_one_can_finish():
    reachable = {S.ACCEPTED}
    while True:
        more = {new for (old, _), new in TRANSITIONS.items() if old in reachable} - reachable
        if not more:
            break
        reachable |= more
    assert reachable == set(Status)
    for status in OPEN_STATUSES:
        assert next_status(status, A.RESOLVE) is S.RESOLVED


def test_status_groups():
    assert set(Status) == OPEN_STATUSES | DONE_STATUSES
    assert not OPEN_STATUSES & DONE_STATUSES
    assert {S.RESOLVED, S.CLOSED} == DONE_STATUSES
    assert {S.WAITING} == PAUSED_STATUSES and PAUSED_STATUSES <= OPEN_STATUSES
    assert OPEN_STATUSES - {S.WAITING} == RUNNING_STATUSES
    # leaving a done status is only ever close or reopen
    assert {a for (s, a) in TRANSITIONS if s in DONE_STATUSES} == {A.CLOSE, A.REOPEN}
    # the pause is left by resuming, escalating or resolving
    assert {a for (s, a) in TRANSITIONS if s in PAUSED_STATUSES} == {
        A.HANDLE,
        A.ESCALATE,
        A.RESOLVE,
    }


# --- escalation cap -----------------------------------------------------------------------


@pytest.mark.parametrize("status", [S.ACCEPTED, S.HANDLING, S.WAITING, S.ESCALATED, S.REOPENED])
def test_escalation_stops_at_the_company_level(status):
    for level in range(MAX_ESCALATION_LEVEL):
        assert next_status(status, A.ESCALATE, escalation_level=level) is S.ESCALATED
    with pytest.raises(InvalidTransition, match="company level") as info:
        next_status(status, A.ESCALATE, escalation_level=MAX_ESCALATION_LEVEL)
    assert info.value.status is status and info.value.action is A.ESCALATE
    assert A.ESCALATE not in allowed_actions(status, "admin", escalation_level=MAX_ESCALATION_LEVEL)
    assert A.ESCALATE in allowed_actions(status, "admin", escalation_level=MAX_ESCALATION_LEVEL - 1)


def test_escalation_level_arithmetic():
    assert MAX_ESCALATION_LEVEL == 3
    assert [next_escalation_level(level) for level in range(3)] == [1, 2, 3]
    with pytest.raises(InvalidTransition, match="company level"):
        next_escalation_level(3)


@pytest.mark.parametrize("level", [-1, 4, 10])
def test_impossible_levels_are_programming_errors(level):
    with pytest.raises(ValueError, match="escalation level"):
        next_status(S.HANDLING, A.RESOLVE, escalation_level=level)
    with pytest.raises(ValueError, match="escalation level"):
        allowed_actions(S.HANDLING, "admin", escalation_level=level)
    with pytest.raises(ValueError, match="escalation level"):
        next_escalation_level(level)


def test_unknown_words_are_programming_errors():
    with pytest.raises(ValueError, match="archived"):
        next_status("archived", A.HANDLE)
    with pytest.raises(ValueError, match="delete"):
        next_status(S.HANDLING, "delete")
    with pytest.raises(ValueError, match="delete"):
        can("admin", "delete")


# --- roles --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(Action))
def test_role_permissions(role, action):
    expected = action in PERMITTED[role]
    assert can(role, action) is expected
    assert can(role, action.value) is expected
    if expected:
        require(role, action)
    else:
        with pytest.raises(ActionNotAllowed) as info:
            require(role, action)
        assert info.value.role == role and info.value.action is action
        assert str(info.value) == f"a {role} may not {action.value} issues"


def test_role_table_covers_every_action_and_known_roles_only():
    assert set(workflow.ACTION_ROLES) == set(Action)
    assert workflow.ROLES == ROLES
    assert set().union(*workflow.ACTION_ROLES.values()) == set(ROLES)
    assert set(MANAGERS) == workflow.MANAGER_ROLES


def test_role_enum_members_work_as_strings():
    class Role(StrEnum):  # as app.auth.roles.Role
        AGENT = "agent"
        HANDLER = "handler"

    assert can(Role.HANDLER, A.RESOLVE) and not can(Role.AGENT, A.RESOLVE)
    assert allowed_actions(S.RESOLVED, Role.AGENT) == [A.CLOSE, A.REOPEN]


@pytest.mark.parametrize("role", ["", "customer", "Admin", "guest"])
def test_unknown_roles_may_do_nothing(role):
    assert not any(can(role, action) for action in Action)
    assert all(allowed_actions(status, role) == [] for status in Status)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("level", [0, MAX_ESCALATION_LEVEL])
def test_allowed_actions_is_transitions_and_role_in_button_order(role, status, level):
    expected = []
    for action in Action:  # the enum's order is the button order
        try:
            next_status(status, action, escalation_level=level)
        except InvalidTransition:
            continue
        if can(role, action):
            expected.append(action)
    assert allowed_actions(status, role, escalation_level=level) == expected
    assert allowed_actions(status.value, role, escalation_level=level) == expected


def test_buttons_each_role_sees():
    assert allowed_actions(S.ACCEPTED, "agent") == [A.ESCALATE]
    assert allowed_actions(S.RESOLVED, "agent") == [A.CLOSE, A.REOPEN]
    assert allowed_actions(S.CLOSED, "agent") == [A.REOPEN]
    assert allowed_actions(S.HANDLING, "agent") == [A.ESCALATE]
    assert allowed_actions(S.HANDLING, "handler") == [A.HANDLE, A.WAIT, A.ESCALATE, A.RESOLVE]
    assert allowed_actions(S.WAITING, "handler") == [A.HANDLE, A.ESCALATE, A.RESOLVE]
    assert allowed_actions(S.ESCALATED, "office_manager", escalation_level=1) == [
        A.HANDLE,
        A.WAIT,
        A.ESCALATE,
        A.RESOLVE,
    ]
    assert allowed_actions(S.ESCALATED, "quality_admin", escalation_level=3) == [
        A.HANDLE,
        A.WAIT,
        A.RESOLVE,
    ]
    assert allowed_actions(S.CLOSED, "admin") == [A.REOPEN]


def test_exceptions_carry_a_custom_message():
    error = InvalidTransition("closed", "resolve", "closed issues are archived")
    assert (error.status, error.action) == (S.CLOSED, A.RESOLVE)
    assert error.message == str(error) == "closed issues are archived"
    assert isinstance(error, Exception) and isinstance(
        ActionNotAllowed("agent", "handle"), Exception
    )
