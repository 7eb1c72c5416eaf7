"""voices_fts insert trigger skips bulk-imported rows

SQLite only. The bulk import (app.voice.imports) adds its rows to the FTS5 index itself, one
INSERT ... SELECT per batch in the batch's own transaction: a row-by-row trigger costs more
than twice as much per imported row. So the insert trigger now fires only for voices without
an `import_id` (every other way of recording a voice); the update and delete triggers are
unchanged. Rows already stored are indexed already. PostgreSQL (a GIN trigram index) has
nothing to change.

Revision ID: 1577efe981e7
Revises: 5127d2537e55
Create Date: 2026-11-29 22:01:59.774313

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '1577efe981e7'
down_revision = '5127d2537e55'
branch_labels = None
depends_on = None

INSERT_TRIGGER_BULK_AWARE = (
    "CREATE TRIGGER voices_fts_ai AFTER INSERT ON voices WHEN new.import_id IS NULL BEGIN "
    "INSERT INTO voices_fts(rowid, text) VALUES (new.id, new.text); END"
)
INSERT_TRIGGER_EVERY_ROW = (
    "CREATE TRIGGER voices_fts_ai AFTER INSERT ON voices BEGIN "
    "INSERT INTO voices_fts(rowid, text) VALUES (new.id, new.text); END"
)


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS voices_fts_ai")
        op.execute(INSERT_TRIGGER_BULK_AWARE)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS voices_fts_ai")
        op.execute(INSERT_TRIGGER_EVERY_ROW)
