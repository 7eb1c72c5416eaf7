"""Repeat detection: the same thing heard again is recognised and linked, not logged as a
stranger (DOMAIN §1).

Candidates are recent (30 days) voices and open or recent issues of the same customer, or of
the same category in the same office; each source is read newest first through its index and
bounded, so the lookup costs the same at a million voices as at a thousand. They are ranked by
character-bigram similarity, which needs no word segmentation and so works for Chinese as for
Latin text; a floor keeps unrelated texts from being offered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.core.scoping import Scope
from app.db import utcnow
from app.extensions import db
from app.issues import workflow
from app.issues.models import Issue
from app.voice.models import Voice, VoiceIssueLink, VoiceRepeatDismissal

WINDOW = timedelta(days=30)
PER_SOURCE = 200  # newest rows read per source (customer / office+category), voices and issues
COMPARED = 1000  # characters of each candidate's text that are compared
THRESHOLD = 0.3  # below this, texts are not offered as repeats
MIN_SHARED = 2  # bigrams two texts must share at least (one common word is not a repeat)
OPEN = [s.value for s in workflow.OPEN_STATUSES]

_NOISE = re.compile(r"[\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    """Lower case, without spaces and punctuation (Chinese and full-width included)."""
    return _NOISE.sub("", text.casefold())


def bigrams(text: str) -> frozenset[str]:
    s = normalise(text)
    if len(s) < 2:
        return frozenset({s}) if s else frozenset()
    return frozenset(s[i : i + 2] for i in range(len(s) - 1))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Mean of Dice (overall likeness) and containment (a short text inside a longer one);
    0 unless the texts share at least MIN_SHARED bigrams."""
    if not a or not b:
        return 0.0
    shared = len(a & b)
    if shared < min(MIN_SHARED, len(a), len(b)):
        return 0.0
    dice = 2 * shared / (len(a) + len(b))
    containment = shared / min(len(a), len(b))
    return (dice + containment) / 2


MAX_TARGETS = 50  # candidates one form may act on (a page offers five at a time)


def parse_targets(raw: str | None) -> list[tuple[str, int]]:
    """What a repeat panel sends, "voice:12,issue:5", as [("voice", 12), ("issue", 5)]; anything
    else (a hand-edited form) is left out."""
    out: list[tuple[str, int]] = []
    for part in (raw or "").split(","):
        kind, _sep, ident = part.strip().partition(":")
        if kind in ("voice", "issue") and ident.isdigit() and len(ident) <= 18:
            out.append((kind, int(ident)))
    return out[:MAX_TARGETS]


@dataclass(frozen=True)
class Candidate:
    kind: str  # "voice" | "issue"
    id: int
    label: str  # voice reference or issue number
    text: str  # the start of the text, for display
    at: datetime
    score: float
    same_customer: bool
    status: str | None = None  # issues only


@dataclass
class Exclusions:
    voices: set[int] = field(default_factory=set)
    issues: set[int] = field(default_factory=set)


def exclusions_for(voice: Voice) -> Exclusions:
    """What is never offered for an existing voice: itself, its group, issues it is linked to,
    and what someone dismissed for it."""
    ex = Exclusions(voices={voice.id})
    root = voice.repeat_of_id or voice.id
    ex.voices.add(root)
    ex.voices.update(db.session.scalars(sa.select(Voice.id).where(Voice.repeat_of_id == root)))
    ex.issues.update(
        db.session.scalars(
            sa.select(VoiceIssueLink.issue_id).where(VoiceIssueLink.voice_id == voice.id)
        )
    )
    for kind, target in db.session.execute(
        sa.select(VoiceRepeatDismissal.target_kind, VoiceRepeatDismissal.target_id).where(
            VoiceRepeatDismissal.voice_id == voice.id
        )
    ):
        (ex.voices if kind == "voice" else ex.issues).add(target)
    return ex


def _voice_rows(scope: Scope, where: list[sa.ColumnElement[bool]], since: datetime) -> list[Any]:
    stmt = (
        sa.select(
            Voice.id,
            Voice.reference,
            sa.func.substr(Voice.text, 1, COMPARED),
            Voice.occurred_at,
            Voice.customer_id,
        )
        .where(*where, Voice.occurred_at >= since, scope.office_filter(Voice.office_id))
        .order_by(Voice.occurred_at.desc())
        .limit(PER_SOURCE)
    )
    return list(db.session.execute(stmt).all())


def _issue_rows(scope: Scope, where: list[sa.ColumnElement[bool]], since: datetime) -> list[Any]:
    stmt = (
        sa.select(
            Issue.id,
            Issue.number,
            Issue.title,
            sa.func.substr(Issue.description, 1, COMPARED),
            Issue.received_at,
            Issue.customer_id,
            Issue.status,
        )
        .where(
            *where,
            sa.or_(Issue.status.in_(OPEN), Issue.received_at >= since),
            scope.office_filter(Issue.office_id),
        )
        .order_by(Issue.id.desc())
        .limit(PER_SOURCE)
    )
    return list(db.session.execute(stmt).all())


def _voice_candidates(
    scope: Scope,
    probe: frozenset[str],
    sources: list[list[sa.ColumnElement[bool]]],
    customer_id: int | None,
    since: datetime,
    ex: Exclusions,
) -> dict[int, Candidate]:
    found: dict[int, Candidate] = {}
    for where in sources:
        for vid, ref, body, at, cust in _voice_rows(scope, where, since):
            if vid in ex.voices or vid in found:
                continue
            score = similarity(probe, bigrams(body))
            if score >= THRESHOLD:
                same = customer_id is not None and cust == customer_id
                found[vid] = Candidate("voice", vid, ref, body[:200], at, score, same)
    return found


def _issue_candidates(
    scope: Scope,
    probe: frozenset[str],
    sources: list[list[sa.ColumnElement[bool]]],
    customer_id: int | None,
    since: datetime,
    ex: Exclusions,
) -> dict[int, Candidate]:
    found: dict[int, Candidate] = {}
    for where in sources:
        for iid, number, title, body, at, cust, status in _issue_rows(scope, where, since):
            if iid in ex.issues or iid in found:
                continue
            score = max(similarity(probe, bigrams(title)), similarity(probe, bigrams(body)))
            if score >= THRESHOLD:
                same = customer_id is not None and cust == customer_id
                shown = f"{title} — {body[:150]}" if body else title
                found[iid] = Candidate("issue", iid, number, shown, at, score, same, status)
    return found


def find_candidates(
    scope: Scope,
    *,
    text: str,
    customer_id: int | None = None,
    office_id: int | None = None,
    category_id: int | None = None,
    exclude: Exclusions | None = None,
    now: datetime | None = None,
    since: datetime | None = None,
    limit: int = 5,
) -> list[Candidate]:
    """Likely repeats of `text`, best first (at most `limit`): voices of the last 30 days and
    issues open or received in them, of the same customer or the same office and category."""
    probe = bigrams(text)
    by_category = office_id is not None and category_id is not None
    if not probe or (customer_id is None and not by_category):
        return []
    since = since or (now or utcnow()) - WINDOW
    ex = exclude or Exclusions()
    voice_sources: list[list[sa.ColumnElement[bool]]] = []
    issue_sources: list[list[sa.ColumnElement[bool]]] = []
    if customer_id is not None:
        voice_sources.append([Voice.customer_id == customer_id])
        issue_sources.append([Issue.customer_id == customer_id])
    if by_category:
        voice_sources.append([Voice.office_id == office_id, Voice.category_id == category_id])
        issue_sources.append([Issue.office_id == office_id, Issue.category_id == category_id])
    found = [
        *_voice_candidates(scope, probe, voice_sources, customer_id, since, ex).values(),
        *_issue_candidates(scope, probe, issue_sources, customer_id, since, ex).values(),
    ]
    found.sort(key=lambda c: (c.score + (0.05 if c.same_customer else 0), c.at), reverse=True)
    return found[:limit]


def candidates_for_voice(scope: Scope, voice: Voice, limit: int = 5) -> list[Candidate]:
    return find_candidates(
        scope,
        text=voice.text,
        customer_id=voice.customer_id,
        office_id=voice.office_id,
        category_id=voice.category_id,
        exclude=exclusions_for(voice),
        since=min(voice.occurred_at, utcnow()) - WINDOW,  # around it, however old it is
        limit=limit,
    )


# --- counts for reports --------------------------------------------------------------------------


@dataclass
class RepeatCounts:
    voices: dict[int, int]  # first voice of a group → how many voices repeat it
    issues: dict[int, int]  # issue → how many voices repeat it


def repeat_counts(
    scope: Scope,
    *,
    voice_ids: Iterable[int] | None = None,
    issue_ids: Iterable[int] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> RepeatCounts:
    """How often each voice and each issue was heard again, counted in SQL. Repeats are
    counted by when the repeating voice occurred (`since` inclusive, `until` exclusive).
    An issue's repeats are the voices linked to it as repeats plus the voices that repeat the
    voice it was raised from (each voice once)."""

    def window(col: Any) -> list[sa.ColumnElement[bool]]:
        w: list[sa.ColumnElement[bool]] = []
        if since is not None:
            w.append(col >= since)
        if until is not None:
            w.append(col < until)
        return w

    v_stmt = (
        sa.select(Voice.repeat_of_id, sa.func.count())
        .where(
            Voice.repeat_of_id.is_not(None),
            scope.office_filter(Voice.office_id),
            *window(Voice.occurred_at),
        )
        .group_by(Voice.repeat_of_id)
    )
    if voice_ids is not None:
        v_stmt = v_stmt.where(Voice.repeat_of_id.in_(list(voice_ids)))
    voices = {int(k or 0): int(n) for k, n in db.session.execute(v_stmt).all()}

    direct = (
        sa.select(VoiceIssueLink.issue_id.label("issue_id"), Voice.id.label("voice_id"))
        .join(Voice, Voice.id == VoiceIssueLink.voice_id)
        .where(
            VoiceIssueLink.kind == "repeat",
            scope.office_filter(Voice.office_id),
            *window(Voice.occurred_at),
        )
    )
    raised = aliased(VoiceIssueLink)
    via_group = (
        sa.select(raised.issue_id.label("issue_id"), Voice.id.label("voice_id"))
        .join(Voice, Voice.repeat_of_id == raised.voice_id)
        .where(
            raised.kind == "raised",
            scope.office_filter(Voice.office_id),
            *window(Voice.occurred_at),
        )
    )
    if issue_ids is not None:
        ids = list(issue_ids)
        direct = direct.where(VoiceIssueLink.issue_id.in_(ids))
        via_group = via_group.where(raised.issue_id.in_(ids))
    both = sa.union(direct, via_group).subquery()
    i_stmt = sa.select(both.c.issue_id, sa.func.count()).group_by(both.c.issue_id)
    issues = {int(k): int(n) for k, n in db.session.execute(i_stmt).all()}
    return RepeatCounts(voices=voices, issues=issues)
