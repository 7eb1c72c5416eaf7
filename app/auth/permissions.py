"""Role checks for views. Objects outside a user's scope are handled by app.core.scoping."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

from app.auth.roles import Role

F = TypeVar("F", bound=Callable[..., Any])


def has_role(user: Any, *roles: Role | str) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.role in {str(r) for r in roles}


def can_admin(user: Any) -> bool:
    return has_role(user, Role.ADMIN)


def require_roles(*roles: Role | str) -> Callable[[F], F]:
    """Signed-in users of other roles get 403: the page exists, it is just not theirs."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not has_role(current_user, *roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
