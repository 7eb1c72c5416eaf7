"""Voices, their links to issues, and the imports they came from.

A voice belongs to an office (scoping), optionally to a customer (market research has none).
Dedup rules live in the database: (office, channel, external_id) and (office, content_hash)
are unique, so re-importing a file or overlapping rows cannot create duplicates even when two
imports race.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, check_in, utcnow
from app.extensions import db
from app.voice.channels import CHANNELS, DIMENSIONS, KINDS, SENTIMENTS

LINK_KINDS = ("raised", "repeat")
IMPORT_STATUSES = ("running", "done", "failed")


class Voice(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "voices"
    __table_args__ = (
        sa.CheckConstraint(check_in("channel", CHANNELS), name="channel_valid"),
        sa.CheckConstraint(check_in("kind", KINDS), name="kind_valid"),
        sa.CheckConstraint(
            "dimension IS NULL OR " + check_in("dimension", DIMENSIONS), name="dimension_valid"
        ),
        sa.CheckConstraint(
            "sentiment IS NULL OR " + check_in("sentiment", SENTIMENTS), name="sentiment_valid"
        ),
        sa.CheckConstraint("repeat_of_id IS NULL OR repeat_of_id <> id", name="not_own_repeat"),
        sa.UniqueConstraint("office_id", "channel", "external_id"),
        sa.UniqueConstraint("office_id", "content_hash"),
        # inbox: an office's voices newest first (keyset on occurred_at, id), and per channel
        sa.Index("ix_voices_office_occurred", "office_id", "occurred_at", "id"),
        sa.Index("ix_voices_office_channel_occurred", "office_id", "channel", "occurred_at"),
        # repeat candidates: same customer, or same office and category, recent first
        sa.Index("ix_voices_customer_occurred", "customer_id", "occurred_at"),
        sa.Index("ix_voices_office_category_occurred", "office_id", "category_id", "occurred_at"),
        # reports: voices and repeats per office and period (covering)
        sa.Index("ix_voices_office_occurred_repeat", "office_id", "occurred_at", "repeat_of_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # shown to whoever gave the voice (e.g. the web feedback confirmation); random, not the id
    reference: Mapped[str] = mapped_column(sa.String(20), unique=True)
    channel: Mapped[str] = mapped_column(sa.String(32))
    kind: Mapped[str] = mapped_column(sa.String(8))
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("offices.id"))
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    text: Mapped[str] = mapped_column(sa.Text())
    dimension: Mapped[str | None] = mapped_column(sa.String(16))
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id"))
    sentiment: Mapped[str | None] = mapped_column(sa.String(8))
    # where dimension/category/sentiment came from: "rules" (suggested) or "staff" (set or
    # corrected by a person); corrections are kept so the rules can be evaluated against them
    classified_by: Mapped[str | None] = mapped_column(sa.String(8))
    # what the keyword rules and the sentiment lexicon suggested when the voice was recorded,
    # kept beside what staff set so corrections can be counted (app.voice.classification)
    suggested_dimension: Mapped[str | None] = mapped_column(sa.String(16))
    suggested_category_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("categories.id", ondelete="SET NULL")
    )
    suggested_sentiment: Mapped[str | None] = mapped_column(sa.String(8))
    sentiment_score: Mapped[float | None] = mapped_column(sa.Float())
    # channel-specific fields (app.voice.channels.CHANNEL_FIELDS): product, batch, agency, ...
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON(), default=dict)
    # who gave it when there is no customer record (web feedback, an interviewee)
    contact_name: Mapped[str | None] = mapped_column(sa.String(120))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(40))
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    # source reference: an external system's id, or the import file and row it came from
    external_id: Mapped[str | None] = mapped_column(sa.String(120))
    content_hash: Mapped[str | None] = mapped_column(sa.String(64))
    # set only by the bulk import, which adds its rows to SQLite's search index per batch: the
    # FTS insert trigger skips rows that have an import_id (migration 1577efe981e7)
    import_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("voice_imports.id", ondelete="SET NULL"), index=True
    )
    import_row: Mapped[int | None] = mapped_column()
    # the first voice of a group of repeats (the same thing heard again)
    repeat_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("voices.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    office: Mapped[Any] = relationship("Office")
    customer: Mapped[Any] = relationship("Customer")
    category: Mapped[Any] = relationship("Category", foreign_keys=[category_id])
    suggested_category: Mapped[Any] = relationship("Category", foreign_keys=[suggested_category_id])
    created_by: Mapped[Any] = relationship("User")
    repeat_of: Mapped[Voice | None] = relationship(remote_side=[id])


class VoiceIssueLink(db.Model):  # type: ignore[name-defined,misc]
    """A voice and an issue: the issue it raised ("raised"), or an issue it repeats."""

    __tablename__ = "voice_issue_links"
    __table_args__ = (
        sa.UniqueConstraint("voice_id", "issue_id"),
        sa.CheckConstraint(check_in("kind", LINK_KINDS), name="kind_valid"),
        sa.Index("ix_voice_issue_links_kind_at", "kind", "at"),  # reports: repeats per period
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    voice_id: Mapped[int] = mapped_column(sa.ForeignKey("voices.id", ondelete="CASCADE"))
    issue_id: Mapped[int] = mapped_column(
        sa.ForeignKey("issues.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(8))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    voice: Mapped[Voice] = relationship()
    issue: Mapped[Any] = relationship("Issue")


class VoiceImport(db.Model):  # type: ignore[name-defined,misc]
    """One bulk import of a file. Rows are committed in batches with `next_row`, so a crash
    leaves whole rows and a resumable import, never half-rows."""

    __tablename__ = "voice_imports"
    __table_args__ = (sa.CheckConstraint(check_in("status", IMPORT_STATUSES), name="status_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("offices.id"), index=True)
    channel: Mapped[str] = mapped_column(sa.String(32))
    filename: Mapped[str] = mapped_column(sa.String(255))
    file_sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    mapping: Mapped[dict[str, Any]] = mapped_column(sa.JSON(), default=dict)
    status: Mapped[str] = mapped_column(sa.String(8), default="running")
    total_rows: Mapped[int | None] = mapped_column()
    next_row: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    duplicates: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[list[Any]] = mapped_column(sa.JSON(), default=list)
    # all rejected rows; `rejected` keeps the first ones (app.voice.imports.MAX_REPORTED)
    rejected_count: Mapped[int] = mapped_column(default=0, server_default="0")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    office: Mapped[Any] = relationship("Office")


class ClassificationRule(db.Model):  # type: ignore[name-defined,misc]
    """A keyword or phrase that points a voice at a dimension and/or a category.

    `keyword` is what the admin typed; `normalized` (NFKC, lower case, single spaces) is what
    matching uses and is unique, so the same phrase cannot point two ways. Rules are never
    deleted: deactivating keeps the history of what suggested what.
    """

    __tablename__ = "classification_rules"
    __table_args__ = (
        sa.CheckConstraint(
            "dimension IS NULL OR " + check_in("dimension", DIMENSIONS), name="dimension_valid"
        ),
        sa.CheckConstraint("dimension IS NOT NULL OR category_id IS NOT NULL", name="has_target"),
        sa.CheckConstraint("weight > 0 AND weight <= 100", name="weight_range"),
        sa.Index("ix_classification_rules_position", "position", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    keyword: Mapped[str] = mapped_column(sa.String(80))
    normalized: Mapped[str] = mapped_column(sa.String(80), unique=True)
    dimension: Mapped[str | None] = mapped_column(sa.String(16))
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id"), index=True)
    weight: Mapped[float] = mapped_column(sa.Float(), default=1.0)
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    category: Mapped[Any] = relationship("Category")


REPEAT_TARGETS = ("voice", "issue")


class VoiceRepeatDismissal(db.Model):  # type: ignore[name-defined,misc]
    """A repeat candidate someone judged unrelated to this voice: not offered again for it."""

    __tablename__ = "voice_repeat_dismissals"
    __table_args__ = (
        sa.UniqueConstraint("voice_id", "target_kind", "target_id"),
        sa.CheckConstraint(check_in("target_kind", REPEAT_TARGETS), name="target_kind_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    voice_id: Mapped[int] = mapped_column(sa.ForeignKey("voices.id", ondelete="CASCADE"))
    target_kind: Mapped[str] = mapped_column(sa.String(8))
    target_id: Mapped[int] = mapped_column()
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IssueRepeatLink(db.Model):  # type: ignore[name-defined,misc]
    """An issue about what an earlier issue is already about: the agent linked it to a repeat
    candidate while logging the call (the hotline screen's repeat panel). Kept with the other
    repeat records here: the issues package knows nothing of repeat detection (STYLE §3.2)."""

    __tablename__ = "issue_repeat_links"
    __table_args__ = (
        sa.UniqueConstraint("issue_id", "repeat_of_id"),
        sa.CheckConstraint("issue_id <> repeat_of_id", name="not_own_repeat"),
        sa.Index("ix_issue_repeat_links_at", "at"),  # reports: repeats per period
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(sa.ForeignKey("issues.id", ondelete="CASCADE"))
    repeat_of_id: Mapped[int] = mapped_column(
        sa.ForeignKey("issues.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IssueRepeatDismissal(db.Model):  # type: ignore[name-defined,misc]
    """A repeat candidate the agent judged unrelated to the issue being logged, as
    VoiceRepeatDismissal is for a voice: what was offered and turned down stays on record."""

    __tablename__ = "issue_repeat_dismissals"
    __table_args__ = (
        sa.UniqueConstraint("issue_id", "target_kind", "target_id"),
        sa.CheckConstraint(check_in("target_kind", REPEAT_TARGETS), name="target_kind_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(sa.ForeignKey("issues.id", ondelete="CASCADE"))
    target_kind: Mapped[str] = mapped_column(sa.String(8))
    target_id: Mapped[int] = mapped_column()
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# Search structures built by the migration per dialect, outside the ORM metadata: SQLite's FTS5
# table (and the shadow tables FTS5 makes for it) and PostgreSQL's trigram index. Autogenerate
# and the models-match-migrations test leave them alone (app.db.include_name).
db.metadata.info.setdefault("unmanaged_prefixes", set()).update({"voices_fts"})
db.metadata.info.setdefault("unmanaged_indexes", set()).update({"ix_voices_text_trgm"})
