"""Redirect targets that stay on this site."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None, default: str) -> str:
    """Accept only same-origin paths such as `/customers/?q=1`.

    Refused: absolute URLs, scheme-relative `//host`, backslash tricks browsers normalise to
    `//` (`/\\host`), control characters, and anything not starting with a single slash.
    """
    if not target or len(target) > 2000:
        return default
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target) or "\\" in target:
        return default
    if not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
