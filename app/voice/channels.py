"""The channels a voice comes through, each passive (被动) or active (主动), and the extra fields
each channel's source carries (a return has a batch, an interview an interviewee)."""

from __future__ import annotations

from app.issues.models import CHANNELS, DIMENSIONS, PASSIVE_CHANNELS

__all__ = [
    "CHANNELS",
    "CHANNEL_FIELDS",
    "DETAIL_FIELDS",
    "DIMENSIONS",
    "KINDS",
    "SENTIMENTS",
    "kind_of",
]

KINDS = ("passive", "active")
SENTIMENTS = ("negative", "neutral", "positive")

# Channel-specific fields, kept in Voice.details. Any channel may carry any of them (a call-
# centre export may name a product); these are the ones the forms and imports offer first.
CHANNEL_FIELDS: dict[str, tuple[str, ...]] = {
    "hotline": ("product",),
    "service_request": ("product", "order_no"),
    "sales_report": ("product", "order_no", "amount"),
    "return": ("product", "model", "batch", "reason_code"),
    "web": ("product",),
    "interview": ("interviewee", "interviewee_role"),
    "problem_team": ("product", "team"),
    "survey": (),
    "partner_interview": ("interviewee", "interviewee_role", "partner"),
    "observation": ("site",),
    "market_research": ("agency", "sample_size", "product"),
}
DETAIL_FIELDS = tuple(sorted({f for fields in CHANNEL_FIELDS.values() for f in fields}))
DETAIL_MAX = 200


def kind_of(channel: str) -> str:
    return "passive" if channel in PASSIVE_CHANNELS else "active"
