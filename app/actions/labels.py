"""Display names of improvement-action codes, in the UI language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

STATUS = {
    "planned": _l("Planned"),
    "in_progress": _l("In progress"),
    "done": _l("Done"),
    "verified": _l("Verified"),
}
DIMENSION = {"product": _l("Product"), "service": _l("Service"), "brand": _l("Brand")}
METRIC = {
    "category_volume": _l("Issue volume of a category (per 30 days)"),
    "csat": _l("CSAT of closed issues (ratings 4–5)"),
    "indicator_score": _l("Score of a survey indicator (0–100)"),
}
