"""Text normalisation shared by keyword rules and the sentiment lexicon: NFKC (full-width
letters, digits and punctuation become half-width), lower case, single spaces. Pure Python."""

from __future__ import annotations

import string
import unicodedata

# NFKC leaves typographic quotes alone; "don’t" must read as "don't"
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def normalize(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    return " ".join(folded.split())  # runs of whitespace → one space, none at the ends


WORD_CHARS = frozenset(string.ascii_letters + string.digits)


def is_word_char(ch: str) -> bool:
    """ASCII letters and digits: where English words need boundaries. CJK text has none."""
    return ch in WORD_CHARS


def needs_boundary(term: str) -> bool:
    """A term that starts or ends with an ASCII letter/digit must match whole words."""
    return bool(term) and (term[0] in WORD_CHARS or term[-1] in WORD_CHARS)


# English inflections a keyword may carry without its own rule: crash → crashes, crashed
_SUFFIXES = ("", "s", "es", "ed", "d", "ing", "er", "ers")


def find_all(text: str, term: str) -> list[tuple[int, int]]:
    """Every (start, end) where `term` occurs in the normalised `text`; ASCII terms only at
    word boundaries (with the common English endings allowed)."""
    spans: list[tuple[int, int]] = []
    start = text.find(term)
    bounded = needs_boundary(term)
    while start != -1:
        end = start + len(term)
        if not bounded:
            spans.append((start, end))
        elif start == 0 or text[start - 1] not in WORD_CHARS or term[0] not in WORD_CHARS:
            stop = _word_end(text, end, term)
            if stop is not None:
                spans.append((start, stop))
        start = text.find(term, start + 1)
    return spans


def _word_end(text: str, end: int, term: str) -> int | None:
    if term[-1] not in WORD_CHARS:
        return end
    for suffix in _SUFFIXES:
        stop = end + len(suffix)
        if text.startswith(suffix, end) and (stop == len(text) or text[stop] not in WORD_CHARS):
            return stop
    return None
