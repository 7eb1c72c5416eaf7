"""Phone numbers as agents type them: spaces, dashes, +86, full-width digits all find the same
customer. Stored digits-only, Chinese mobiles without the country code."""

from __future__ import annotations

import re
import unicodedata

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_SEPARATORS = re.compile(r"[\s\-.()/]+")
_CHINA = ("0086", "86")
MIN_DIGITS, MAX_DIGITS = 5, 20
MIN_SEARCH_DIGITS = 3


def _compact(raw: str) -> tuple[bool, str]:
    """NFKC (full-width digits and `＋（）` become ASCII), separators removed; whether it
    started with `+`, and the rest."""
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw or ""))
    return text.startswith("+"), text.removeprefix("+")


def _is_digits(text: str) -> bool:
    # str.isdigit() is also true for other scripts' digits and superscripts
    return text.isascii() and text.isdigit()


def normalise_phone(raw: str) -> str | None:
    """`１３８ ００１３ ８０００`, `+86 138-0013-8000`, `0086 13800138000` → `13800138000`.

    Landlines keep their area code (`021-6888 8888` → `02168888888`, and so does
    `+86 21 6888 8888`); other countries keep their digits without `+`. None when it is not a
    plausible phone number (no digits, letters, fewer than 5 or more than 20 digits).
    """
    plus, text = _compact(raw)
    if not _is_digits(text):
        return None
    for country in _CHINA:
        rest = text.removeprefix(country)
        if rest != text and _MOBILE.match(rest):
            return rest
        if rest != text and (plus or country == "0086") and rest[:1] not in ("", "0", "1"):
            # an international Chinese landline: back to the domestic form with its trunk 0
            text = "0" + rest
            break
    if not MIN_DIGITS <= len(text) <= MAX_DIGITS:
        return None
    return text


def phone_search_prefix(q: str) -> str | None:
    """The digit prefix to search stored numbers by, when `q` looks like (the start of) a phone
    number: at least 3 digits and nothing but digits and separators. `+86 138 0` → `1380`."""
    plus, text = _compact(q)
    if not _is_digits(text) or len(text) < MIN_SEARCH_DIGITS:
        return None
    for country in _CHINA:
        rest = text.removeprefix(country)
        if rest == text or not rest:
            continue
        explicit = plus or country == "0086"
        # `86 1…`, `+86 1…` and `0086 1…` are the start of a mobile with its country code
        if rest.startswith("1") and (explicit or len(rest) > 2):
            return rest[:MAX_DIGITS]
        if explicit and rest[0] != "0":  # a landline, stored in its domestic form
            return ("0" + rest)[:MAX_DIGITS]
    return text[:MAX_DIGITS]
