"""Template translation bound to one page's catalogue.

Flask-Babel installs `gettext` in the Jinja environment as a function that finds the request's
catalogue again on every call (the locale, the domain, the translations, each through Flask's
context proxies): on a customer's page, a dozen of those lookups cost more than the rest of
the template. Jinja's i18n extension lets an application provide `gettext` when it renders
(`_()` is an alias that resolves `gettext` in the template's context), so a context processor
can hand a page a `gettext` that holds the catalogue Flask-Babel chose for this request.
"""

from __future__ import annotations

from typing import Any

from flask_babel import get_translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup


def page_gettext() -> Any:
    """A newstyle `gettext` for one render: what Flask-Babel's would answer for this request,
    with the same semantics as Jinja's newstyle gettext (the translation is marked safe under
    autoescape and always formatted with the variables, which are escaped)."""
    translate = get_translations().gettext

    @pass_context
    def gettext(__context: Context, __string: str, **variables: Any) -> str:
        rv: str = translate(__string)
        if __context.eval_ctx.autoescape:
            # our own catalogue's text, as Jinja's newstyle gettext trusts it; the variables
            # formatted into it below are escaped by Markup's %
            rv = Markup(rv)  # noqa: S704
        return rv % variables

    return gettext
