"""Phone numbers as agents type them: spaces, dashes, +86, full-width digits all find the same
customer. Stored digits-only, Chinese mobiles without the country code."""

from __future__ import annotations

import re
import unicodedata

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_STRIP = re.compile(r"[\s\-.()（）/]+")


def _digits(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw or "")
    text = _STRIP.sub("", text)
    return text


def normalise_phone(raw: str) -> str | None:
    """`１３８ ００１３ ８０００`, `+86 138-0013-8000`, `0086 13800138000` → `13800138000`.

    Landlines keep their area code (`021-6888 8888` → `02168888888`); other countries keep
    their digits without `+`. None when it is not a plausible phone number.
    """
    text = _digits(raw)
    plus = text.startswith("+")
    if plus:
        text = text[1:]
    if not text.isdigit() or not text.isascii():
        return None
    for prefix in ("0086", "86"):
        if text.startswith(prefix) and _MOBILE.match(text[len(prefix) :]):
            return text[len(prefix) :]
    if plus and text.startswith("86"):
        text = text[2:]
    if not 5 <= len(text) <= 20:
        return None
    return text


def phone_search_prefix(q: str) -> str | None:
    """The digit prefix to search phones by, when `q` looks like (part of) a phone number."""
    text = _digits(q)
    if text.startswith("+"):
        text = text[1:]
    if not text.isdigit() or not text.isascii() or len(text) < 3:
        return None
    for prefix in ("0086", "+86"):
        if text.startswith(prefix) and len(text) > len(prefix) + 2:
            text = text[len(prefix) :]
    if text.startswith("86") and len(text) > 4 and text[2] == "1":
        text = text[2:]
    return text[:20]
