"""Navigation by role, computed here so templates hold no role rules. A feature adds its entry
with one line in NAV; entries whose endpoint is not registered are left out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l

from app.auth.roles import Role

ALL_STAFF = frozenset(Role)


@dataclass(frozen=True)
class NavItem:
    label: Any
    endpoint: str
    roles: frozenset[Role]


NAV: list[NavItem] = [
    NavItem(_l("Customers"), "customers.index", ALL_STAFF),
    NavItem(_l("People"), "admin.users", frozenset({Role.ADMIN})),
    NavItem(_l("Organisation"), "admin.organisation", frozenset({Role.ADMIN})),
]


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str
    active: bool


def nav_for(user: Any) -> list[NavLink]:
    if not getattr(user, "is_authenticated", False):
        return []
    links = []
    for item in NAV:
        if user.role not in item.roles or item.endpoint not in current_app.view_functions:
            continue
        blueprint = item.endpoint.split(".", 1)[0]
        active = request.blueprint == blueprint and (
            blueprint != "admin" or request.endpoint == item.endpoint
        )
        links.append(NavLink(str(item.label), url_for(item.endpoint), active))
    return links
