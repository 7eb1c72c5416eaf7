"""outbox bounce tracking: a bounce token per message, late bounces on message and invitation

Revision ID: 5127d2537e55
Revises: b8ec002c7bc0
Create Date: 2026-11-29 21:46:04

"""

import sqlalchemy as sa
from alembic import op

import app.db

# revision identifiers, used by Alembic.
revision = "5127d2537e55"
down_revision = "b8ec002c7bc0"
branch_labels = None
depends_on = None

KIND_CHECK = "bounce_kind IS NULL OR bounce_kind IN ('hard', 'soft')"


def upgrade():
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("bounced_at", app.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("bounce_kind", sa.String(length=4), nullable=True))
        batch_op.create_check_constraint(
            batch_op.f("ck_invitations_bounce_kind_valid"), sa.text(KIND_CHECK)
        )

    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bounce_token", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("bounced_at", app.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("bounce_kind", sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column("bounce_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("bounce_detail", sa.String(length=500), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_outbox_messages_bounce_token"), ["bounce_token"]
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_outbox_messages_bounce_kind_valid"), sa.text(KIND_CHECK)
        )


def downgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_outbox_messages_bounce_kind_valid"), type_="check")
        batch_op.drop_constraint(batch_op.f("uq_outbox_messages_bounce_token"), type_="unique")
        batch_op.drop_column("bounce_detail")
        batch_op.drop_column("bounce_status")
        batch_op.drop_column("bounce_kind")
        batch_op.drop_column("bounced_at")
        batch_op.drop_column("bounce_token")

    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_invitations_bounce_kind_valid"), type_="check")
        batch_op.drop_column("bounce_kind")
        batch_op.drop_column("bounced_at")
