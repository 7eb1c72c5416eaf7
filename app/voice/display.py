"""Display names of voice codes (kind, dimension, sentiment, channel-specific fields, audit
actions), in the UI language. Channel names are the issues' (app.issues.labels.CHANNEL)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.issues.labels import CHANNEL
from app.voice.channels import CHANNELS, kind_of

__all__ = ["CHANNEL", "DETAIL", "DIMENSION", "KIND", "SENTIMENT", "VOICE_ACTION", "grouped"]

KIND = {"passive": _l("Passive"), "active": _l("Active")}
DIMENSION = {"product": _l("Product"), "service": _l("Service"), "brand": _l("Brand")}
SENTIMENT = {"negative": _l("Negative"), "neutral": _l("Neutral"), "positive": _l("Positive")}
DETAIL = {
    "product": _l("Product"),
    "order_no": _l("Order number"),
    "amount": _l("Amount"),
    "model": _l("Model"),
    "batch": _l("Batch"),
    "reason_code": _l("Reason code"),
    "interviewee": _l("Interviewee"),
    "interviewee_role": _l("Interviewee's role"),
    "team": _l("Team"),
    "partner": _l("Partner"),
    "site": _l("Site"),
    "agency": _l("Agency"),
    "sample_size": _l("Sample size"),
}
VOICE_ACTION = {
    "create": _l("Recorded"),
    "raise_issue": _l("Issue raised"),
    "link_repeat": _l("Linked as a repeat"),
    "unlink_repeat": _l("Repeat link removed"),
    "dismiss_repeat": _l("Repeat suggestion dismissed"),
    "classify": _l("Classified"),
}


def grouped() -> dict[str, list[tuple[str, str]]]:
    """Channels grouped passive (被动) / active (主动), for a select with optgroups."""
    groups: dict[str, list[tuple[str, str]]] = {str(KIND["passive"]): [], str(KIND["active"]): []}
    for code in CHANNELS:
        groups[str(KIND[kind_of(code)])].append((code, str(CHANNEL[code])))
    return groups
