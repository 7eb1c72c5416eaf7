"""Checks of submitted values that every domain's services share. Each collects its error
under the field's name, so one answer (422 `fields`) names every problem at once."""

from __future__ import annotations

import re
from typing import Any

# C0 control characters other than tab, line feed and carriage return. Nobody types them: they
# come from a broken encoding or a binary pasted as text, and PostgreSQL text cannot hold NUL at
# all (psycopg refuses the whole statement). What staff and integrations send is refused with
# the field named (the record keeps exactly what was sent, or nothing); customers' own pages
# drop them instead (strip_control_characters), as the customer can neither see nor remove them.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
CONTROL_MESSAGE = "must not contain control characters (found %(char)s)"


def control_character(text: str) -> str | None:
    """The first control character of `text` (see CONTROL_CHARACTERS) as `U+0000`, or None."""
    found = CONTROL_CHARACTERS.search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


def strip_control_characters(text: str) -> str:
    return CONTROL_CHARACTERS.sub("", text)


def clean_text(
    value: Any, field: str, errors: dict[str, str], *, limit: int, required: bool
) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        errors[field] = "required"
    elif len(text) > limit:
        errors[field] = f"at most {limit} characters"
    elif (char := control_character(text)) is not None:
        errors[field] = CONTROL_MESSAGE % {"char": char}
    return text
