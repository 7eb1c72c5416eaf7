"""Names shown for survey codes, in the page language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

KIND = {"project": _l("Project-based"), "third_party": _l("Third-party")}
STATUS = {"draft": _l("Draft"), "active": _l("Active"), "retired": _l("Retired")}
TYPE = {
    "rating5": _l("Rating 1–5"),
    "nps": _l("Recommend 0–10 (NPS)"),
    "choice": _l("Single choice"),
    "text": _l("Free text"),
}
