"""Roles and the place each role is bound to."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"
    HANDLER = "handler"
    OFFICE_MANAGER = "office_manager"
    REGIONAL_MANAGER = "regional_manager"
    QUALITY_ADMIN = "quality_admin"
    ADMIN = "admin"


OFFICE_ROLES = frozenset({Role.AGENT, Role.HANDLER, Role.OFFICE_MANAGER})
REGION_ROLES = frozenset({Role.REGIONAL_MANAGER})
COMPANY_ROLES = frozenset({Role.QUALITY_ADMIN, Role.ADMIN})
MANAGER_ROLES = frozenset(
    {Role.OFFICE_MANAGER, Role.REGIONAL_MANAGER, Role.QUALITY_ADMIN, Role.ADMIN}
)


def place_kind(role: Role | str) -> str:
    """'office', 'region' or 'company': where a user of this role must be placed."""
    role = Role(role)
    if role in OFFICE_ROLES:
        return "office"
    if role in REGION_ROLES:
        return "region"
    return "company"


def role_label(role: Role | str) -> str:
    """The role's name in the current language."""
    from flask_babel import gettext as _

    labels = {
        Role.AGENT: _("Hotline agent"),
        Role.HANDLER: _("Handler"),
        Role.OFFICE_MANAGER: _("Office manager"),
        Role.REGIONAL_MANAGER: _("Regional manager"),
        Role.QUALITY_ADMIN: _("Quality admin"),
        Role.ADMIN: _("Administrator"),
    }
    return str(labels.get(Role(role), role))
