"""outbox message cancelled

A message taken back before it went out (a rating link withdrawn because its issue was
reopened while the e-mail still waited for the send-outbox job) is `cancelled`: never sent,
kept with its reason on the page of what caused it.

Revision ID: 9a4c3e1f7b62
Revises: 5d1e7b9c2a40
Create Date: 2026-12-08 01:50:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '9a4c3e1f7b62'
down_revision = '5d1e7b9c2a40'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outbox_messages_status_valid'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_outbox_messages_status_valid'),
            "status IN ('pending', 'sent', 'failed', 'cancelled')",
        )


def downgrade():
    op.execute("UPDATE outbox_messages SET status = 'failed' WHERE status = 'cancelled'")
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outbox_messages_status_valid'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_outbox_messages_status_valid'), "status IN ('pending', 'sent', 'failed')"
        )
