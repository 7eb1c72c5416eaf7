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
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True)
class Lexicon:
    entries: dict[str, tuple[str, float]]  # normalised term → (kind, value)
    longest: int

    @cached_property
    def scanner(self) -> re.Pattern[str]:
        """One left-to-right pass over a normalised text, stopping at what matters: a clause
        end; else the longest entry starting there (English entries as whole words, with the
        common endings; a shorter entry when a longer one does not end a word); else an English
        word that starts no entry (skipped whole). What lies between is unmatched text.

        The entries are compiled as a trie (each character once, longer continuations tried
        before an entry ends), so a position costs a few steps whatever the lexicon's size."""
        ends = re.escape("".join(sorted(CLAUSE_ENDS)))
        entries = _dispatch(_trie_branches(_trie(self.entries), top=True))
        return re.compile(f"(?P<end>[{ends}])|(?P<term>{entries})|(?P<word>[A-Za-z0-9]+)")

    def term_of(self, matched: str) -> str:
        """The entry a `term` match stands for: itself, or itself without the English ending
        (the shortest that leaves an entry: the scanner took the longest entry)."""
        if matched in self.entries:
            return matched
        for ending in _ENDINGS_SHORTEST_FIRST:
            if matched.endswith(ending) and matched[: -len(ending)] in self.entries:
                return matched[: -len(ending)]
        raise LookupError(matched)  # the pattern only matches entries


_ENDINGS = ("", "s", "es", "ed", "d", "ly", "ing")
_ENDINGS_SHORTEST_FIRST = sorted(_ENDINGS[1:], key=len)
_WORD_END = "(?:" + "|".join(_ENDINGS) + ")(?![A-Za-z0-9])"
_TERMINAL = ""


def _trie(terms: Iterable[str]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for term in terms:
        node = root
        for ch in term:
            node = node.setdefault(ch, {})
        node[_TERMINAL] = True
    return root


def _dispatch(branches: list[tuple[str, str]], fanout: int = 8) -> str:
    """The first-level alternatives as a balanced tree of character-class tests: a regex tries
    alternatives one after the other, and the lexicon has hundreds of first characters."""
    if len(branches) <= fanout:
        return "(?:" + "|".join(regex for _ch, regex in branches) + ")"
    half = len(branches) // 2
    first = re.escape("".join(ch for ch, _regex in branches[:half]))
    return f"(?:(?=[{first}]){_dispatch(branches[:half])}|{_dispatch(branches[half:])})"


def _trie_branches(node: dict[str, Any], top: bool = False) -> list[tuple[str, str]]:
    """Regex alternatives for a trie node's children: each child's character, then its own
    continuations before the entry ending there (so the longest entry wins). An English entry
    must start and end a word; its end may carry one of the common endings."""
    branches = []
    for ch in sorted(k for k in node if k != _TERMINAL):
        child = node[ch]
        inner = [regex for _ch, regex in _trie_branches(child)]
        if _TERMINAL in child:
            inner.append(_WORD_END if ch in WORD_CHARS else "")
        start = "(?<![A-Za-z0-9])" if top and ch in WORD_CHARS else ""
        tail = "" if inner == [""] else "(?:" + "|".join(inner) + ")"
        branches.append((ch, start + re.escape(ch) + tail))
    return branches


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
    at = 0
    for hit in lex.scanner.finditer(norm):
        start = hit.start()
        if start > at:  # unmatched characters: each one (spaces aside) widens the gap
            plain = norm[at:start]
            _widen_gap(st, len(plain) - plain.count(" "))
        at = hit.end()
        kind = hit.lastgroup
        if kind == "end":
            if hit.group() in QUESTION_ENDS:
                st.clause_weight = min(st.clause_weight, REQUEST_WEIGHT)
            _close_clause(st)
        elif kind == "word":  # an English word in no entry counts as one unit
            _widen_gap(st, 1)
        else:
            term = lex.term_of(hit.group())
            entry_kind, value = lex.entries[term]
            _apply(st, entry_kind, value, term, found)
    if at < len(norm):
        plain = norm[at:]
        _widen_gap(st, len(plain) - plain.count(" "))
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


def _widen_gap(st: _State, units: int) -> None:
    """Text in no lexicon entry: a negator or intensifier reaches only REACH units."""
    st.gap += units
    if st.gap > REACH:
        st.negated, st.multiplier = False, 1.0


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
