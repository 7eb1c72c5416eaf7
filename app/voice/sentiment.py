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
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from app.voice.textnorm import WORD_CHARS, normalize

LEXICON_PATH = Path(__file__).with_name("sentiment_lexicon.txt")
THRESHOLD = 0.2
NEGATED_POSITIVE = -0.8
NEGATED_NEGATIVE = -0.4
REACH = 3  # unmatched characters (Chinese) or words (English) a negator/intensifier reaches
CLAUSE_ENDS = frozenset("，,。.!！?？;；:：\n、()（）[]【】")
KINDS = ("negator", "intensifier", "contrast", "concession", "request", "term")
REQUEST_WEIGHT = 0.3  # a request or question mostly asks; what it mentions counts less
QUESTION_ENDS = frozenset("?？")
_WORD_RUN = re.compile("[A-Za-z0-9]+")


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

    @cached_property
    def next_event(self) -> re.Pattern[str]:
        """Where something can happen in a normalised text: an entry may start, a clause ends,
        an English word starts. The scanner jumps over everything else in one step."""
        chars = "".join(sorted(set(self.lengths_by_first) | CLAUSE_ENDS))
        return re.compile("[" + re.escape(chars) + "A-Za-z0-9]")


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
    ch = text[i]
    sizes = lex.lengths_by_first.get(ch)
    if sizes is None:
        return None
    if ch in WORD_CHARS and i > 0 and text[i - 1] in WORD_CHARS:
        return None
    entries, length = lex.entries, len(text)
    for size in sizes:
        if i + size > length:
            continue
        candidate = text[i : i + size]
        if candidate not in entries:
            continue
        end = i + size
        if candidate[-1] in WORD_CHARS:
            end = _english_end(text, end)
            if end < 0:
                continue
        return candidate, end
    return None


_ENDINGS = ("", "s", "es", "ed", "d", "ly", "ing")


def _english_end(text: str, end: int) -> int:
    for ending in _ENDINGS:
        stop = end + len(ending)
        if text.startswith(ending, end) and (stop == len(text) or text[stop] not in WORD_CHARS):
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
    return score_normalized(normalize(text), lexicon)


def score_normalized(norm: str, lexicon: Lexicon | None = None) -> SentimentResult:
    """score() of a text already normalize()d (classify normalises once for rules and
    lexicon)."""
    lex = lexicon or default_lexicon()
    st = _State()
    found: list[str] = []
    next_event = lex.next_event.search
    size = len(norm)
    i = 0
    while i < size:
        # characters no entry starts with, outside English words: only the gap grows
        event = next_event(norm, i)
        j = event.start() if event is not None else size
        if j > i:
            plain = norm[i:j]
            st.gap += len(plain) - plain.count(" ")
            if st.gap > REACH:
                st.negated, st.multiplier = False, 1.0
            i = j
            if i == size:
                break
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
    if norm[i] in WORD_CHARS:
        i = _WORD_RUN.match(norm, i).end()  # type: ignore[union-attr]  # norm[i] is in a word
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
