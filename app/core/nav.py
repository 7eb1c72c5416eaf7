"""Navigation by role, computed here so templates hold no role rules. A feature adds its entry
with one line in NAV; entries whose endpoint is not registered are left out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l

from app.auth.roles import MANAGER_ROLES, Role

ALL_STAFF = frozenset(Role)
ADMINS = frozenset({Role.ADMIN})


@dataclass(frozen=True)
class NavItem:
    label: Any
    endpoint: str
    roles: frozenset[Role]


# Endpoints follow "blueprint = package name" (STYLE.md); an entry appears once its blueprint
# is registered, so a feature's entry can be listed before the feature lands.
NAV: list[NavItem] = [
    NavItem(_l("Log a call"), "issues.new", ALL_STAFF - {Role.QUALITY_ADMIN}),
    NavItem(_l("Issues"), "issues.index", ALL_STAFF),
    NavItem(_l("Customers"), "customers.index", ALL_STAFF),
    NavItem(_l("Customer voices"), "voice.index", ALL_STAFF),
    NavItem(_l("Import voices"), "voice_import.index", MANAGER_ROLES),
    NavItem(_l("Surveys"), "surveys.index", MANAGER_ROLES),
    NavItem(_l("Improvement actions"), "actions.index", MANAGER_ROLES),
    NavItem(_l("Warnings"), "warnings.index", MANAGER_ROLES),
    NavItem(_l("Reports"), "reports.index", MANAGER_ROLES),
    NavItem(_l("Issue settings"), "issues.settings", ADMINS),
    NavItem(_l("Classification rules"), "voice_rules.rules", ADMINS | {Role.QUALITY_ADMIN}),
    NavItem(_l("People"), "admin.users", ADMINS),
    NavItem(_l("Organisation"), "admin.organisation", ADMINS),
]


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str
    active: bool


def nav_for(user: Any) -> list[NavLink]:
    if not getattr(user, "is_authenticated", False):
        return []
    shown = [
        item
        for item in NAV
        if user.role in item.roles and item.endpoint in current_app.view_functions
    ]
    return [
        NavLink(str(item.label), url_for(item.endpoint), _is_active(item, shown)) for item in shown
    ]


def _blueprint(endpoint: str) -> str:
    return endpoint.split(".", 1)[0]


def _is_active(item: NavItem, shown: list[NavItem]) -> bool:
    """The entry of the current page's blueprint; where a blueprint has several entries
    (admin: people, organisation), only the one whose endpoint is the current page."""
    if request.endpoint == item.endpoint:
        return True
    blueprint = _blueprint(item.endpoint)
    siblings = [i for i in shown if _blueprint(i.endpoint) == blueprint]
    return request.blueprint == blueprint and len(siblings) == 1
