"""invitation delivered_at: when one of its e-mails was handed to the mail server

Revision ID: 8b2f6d4e1a73
Revises: 3e7a1c9d5b20
Create Date: 2026-12-07 23:10:00

"""

import sqlalchemy as sa
from alembic import op

import app.db

# revision identifiers, used by Alembic.
revision = "8b2f6d4e1a73"
down_revision = "3e7a1c9d5b20"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("delivered_at", app.db.UTCDateTime(timezone=True), nullable=True)
        )
    # Invitations whose e-mail (the invitation, a reminder, or a rating link) the outbox has
    # already sent: the first send, found by the messages' idempotency keys (unique index).
    invitations = sa.table(
        "invitations",
        sa.column("id", sa.Integer),
        sa.column("delivered_at", app.db.UTCDateTime(timezone=True)),
    )
    messages = sa.table(
        "outbox_messages",
        sa.column("idempotency_key", sa.String),
        sa.column("status", sa.String),
        sa.column("sent_at", app.db.UTCDateTime(timezone=True)),
    )
    number = sa.cast(invitations.c.id, sa.String)
    keys = [sa.literal("invitation:") + number + f":{n}" for n in range(3)]
    keys.append(sa.literal("rating:") + number)
    first_sent = (
        sa.select(sa.func.min(messages.c.sent_at))
        .where(
            messages.c.status == "sent",
            sa.or_(*(messages.c.idempotency_key == key for key in keys)),
        )
        .scalar_subquery()
    )
    op.execute(
        invitations.update()
        .where(invitations.c.delivered_at.is_(None))
        .values(delivered_at=first_sent)
    )


def downgrade():
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_column("delivered_at")
