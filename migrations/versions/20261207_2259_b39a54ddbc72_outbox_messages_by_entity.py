"""outbox messages by entity: the issue page lists the e-mail its issue caused

Revision ID: b39a54ddbc72
Revises: 14abcc2db06d
Create Date: 2026-12-07 22:59:20

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "b39a54ddbc72"
down_revision = "14abcc2db06d"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_outbox_messages_entity", "outbox_messages", ["entity_type", "entity_id"], unique=False
    )


def downgrade():
    op.drop_index("ix_outbox_messages_entity", table_name="outbox_messages")
