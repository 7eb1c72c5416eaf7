"""Checks of submitted values that every domain's services share. Each collects its error
under the field's name, so one answer (422 `fields`) names every problem at once."""

from __future__ import annotations

from typing import Any


def clean_text(
    value: Any, field: str, errors: dict[str, str], *, limit: int, required: bool
) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        errors[field] = "required"
    elif len(text) > limit:
        errors[field] = f"at most {limit} characters"
    return text
