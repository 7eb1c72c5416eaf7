"""Offline sentiment for Chinese and English customer statements: a curated lexicon
(app/voice/sentiment_lexicon.txt) with negators, intensifiers and contrast.

How a text is scored, in order:
- the text is normalised (NFKC, lower case) and scanned left to right for the longest lexicon
  entry at each place (so 不错 "not bad = good" wins over 不 + 错, and goods over good);
  English entries match whole words only;
- a negator (不/没有/未/not/never/n't …) flips the next sentiment term within a few
  characters or words of the same clause: a negated positive becomes clearly negative
  (不满意), a negated negative only mildly positive (没有问题, not bad);
- an intensifier (很/非常/太/very/extremely …) multiplies the next term; after a negator it
  softens instead (不太满意 is milder than 很不满意);
- contrast (但是/但/可是/不过/but/however …) halves what came before and weighs the rest
  1.5 times; a concession (虽然/尽管/although) halves its own clause;
- the sum is squashed into [-1, 1]; at or above THRESHOLD it is positive, at or below
  -THRESHOLD negative, neutral in between (requests and questions usually score 0).

The scorer is pure Python and loads the lexicon once per process.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from app.voice.textnorm import is_word_char, normalize

LEXICON_PATH = Path(__file__).with_name("sentiment_lexicon.txt")
THRESHOLD = 0.2
NEGATED_POSITIVE = -0.8
NEGATED_NEGATIVE = -0.4
REACH = 3  # unmatched characters (Chinese) or words (English) a negator/intensifier reaches
CLAUSE_ENDS = frozenset("，,。.!！?？;；:：\n、()（）[]【】")
KINDS = ("negator", "intensifier", "contrast", "concession", "request", "term")
REQUEST_WEIGHT = 0.3  # a request or question mostly asks; what it mentions counts less
QUESTION_ENDS = frozenset("?？")


@dataclass(frozen=True)
class Lexicon:
    entries: dict[str, tuple[str, float]]  # normalised term → (kind, value)
    longest: int

    @cached_property
    def lengths_by_first(self) -> dict[str, tuple[int, ...]]:
        """For each first character, the lengths of the entries starting with it, longest
        first: the scanner tries only those."""
        lengths: dict[str, set[int]] = {}
        for term in self.entries:
            lengths.setdefault(term[0], set()).add(len(term))
        return {ch: tuple(sorted(sizes, reverse=True)) for ch, sizes in lengths.items()}


@dataclass(frozen=True)
class SentimentResult:
    label: str  # negative | neutral | positive
    score: float  # in [-1, 1]
    raw: float
    terms: tuple[str, ...]  # the sentiment terms found, as they counted (e.g. "不+满意")


def parse_lexicon(text: str) -> Lexicon:
    """`[section]` headers (negators, intensifiers, contrast, concession, terms), then one
    entry a line: the term and, for intensifiers and terms, a number. `#` starts a comment."""
    entries: dict[str, tuple[str, float]] = {}
    section = ""
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip().rstrip("s")
            if section not in KINDS:
                raise ValueError(f"lexicon line {lineno}: unknown section {line}")
            continue
        if not section:
            raise ValueError(f"lexicon line {lineno}: entry before any section")
        term, _, number = (
            line.rpartition(" ")
            if section in ("intensifier", "term")
            else (
                line,
                "",
                "0",
            )
        )
        try:
            value = float(number)
        except ValueError as exc:
            raise ValueError(f"lexicon line {lineno}: {raw!r} needs a number") from exc
        key = normalize(term)
        if not key:
            raise ValueError(f"lexicon line {lineno}: empty term")
        entries[key] = (section, value)
    return Lexicon(entries=entries, longest=max((len(k) for k in entries), default=1))


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    return parse_lexicon(LEXICON_PATH.read_text(encoding="utf-8"))


def _match_at(text: str, i: int, lex: Lexicon) -> tuple[str, int] | None:
    """The longest entry starting at i (whole words for English), and where it ends."""
    starts_word = is_word_char(text[i])
    if starts_word and i > 0 and is_word_char(text[i - 1]):
        return None
    for size in lex.lengths_by_first.get(text[i], ()):
        if i + size > len(text):
            continue
        candidate = text[i : i + size]
        if candidate not in lex.entries:
            continue
        end = i + size
        if is_word_char(candidate[-1]):
            end = _english_end(text, end)
            if end < 0:
                continue
        return candidate, end
    return None


_ENDINGS = ("", "s", "es", "ed", "d", "ly", "ing")


def _english_end(text: str, end: int) -> int:
    for ending in _ENDINGS:
        stop = end + len(ending)
        if text.startswith(ending, end) and (stop == len(text) or not is_word_char(text[stop])):
            return stop
    return -1


@dataclass
class _State:
    total: float = 0.0
    clause: float = 0.0
    clause_weight: float = 1.0
    after_contrast: float = 1.0
    negated: bool = False
    multiplier: float = 1.0
    gap: int = 0  # unmatched units since the last negator/intensifier


def score(text: str, lexicon: Lexicon | None = None) -> SentimentResult:
    lex = lexicon or default_lexicon()
    norm = normalize(text)
    st = _State()
    found: list[str] = []
    i = 0
    while i < len(norm):
        ch = norm[i]
        if ch in CLAUSE_ENDS:
            if ch in QUESTION_ENDS:
                st.clause_weight = min(st.clause_weight, REQUEST_WEIGHT)
            _close_clause(st)
            i += 1
            continue
        hit = _match_at(norm, i, lex)
        if hit is None:
            i = _skip(norm, i, st)
            continue
        term, end = hit
        kind, value = lex.entries[term]
        _apply(st, kind, value, term, found)
        i = end
    _close_clause(st)
    raw = st.total
    squashed = raw / math.sqrt(raw * raw + 2.0)
    if squashed >= THRESHOLD:
        label = "positive"
    elif squashed <= -THRESHOLD:
        label = "negative"
    else:
        label = "neutral"
    return SentimentResult(label=label, score=round(squashed, 3), raw=raw, terms=tuple(found))


def _skip(norm: str, i: int, st: _State) -> int:
    """Step over text that is in no lexicon entry: a CJK character or a whole English word."""
    if is_word_char(norm[i]):
        while i < len(norm) and is_word_char(norm[i]):
            i += 1
        st.gap += 1
    else:
        if not norm[i].isspace():
            st.gap += 1
        i += 1
    if st.gap > REACH:
        st.negated, st.multiplier = False, 1.0
    return i


def _apply(st: _State, kind: str, value: float, term: str, found: list[str]) -> None:
    if kind == "negator":
        st.negated = not st.negated
        st.gap = 0
    elif kind == "intensifier":
        # "不太满意": an intensifier after a negator softens rather than strengthens
        st.multiplier = st.multiplier * (1.0 if st.negated else value)
        st.gap = 0
    elif kind == "contrast":
        _close_clause(st)
        st.total *= 0.5
        st.after_contrast = 1.5
    elif kind == "concession":
        st.clause_weight = min(st.clause_weight, 0.5)
    elif kind == "request":
        st.clause_weight = min(st.clause_weight, REQUEST_WEIGHT)
    elif value != 0:
        weighted = value * st.multiplier
        if st.negated:
            weighted *= NEGATED_POSITIVE if value > 0 else NEGATED_NEGATIVE
        st.clause += weighted
        found.append(("~" if st.negated else "") + term)
        st.negated, st.multiplier, st.gap = False, 1.0, 0
    else:  # a 0-weight blocker such as "goods": ends modifiers like any other word
        st.gap += 1


def _close_clause(st: _State) -> None:
    st.total += st.clause * st.clause_weight * st.after_contrast
    st.clause, st.clause_weight = 0.0, 1.0
    st.negated, st.multiplier, st.gap = False, 1.0, 0
