"""office working hours editable by admins: a version for optimistic edits

Revision ID: 14abcc2db06d
Revises: 44bfda9f6e12
Create Date: 2026-12-07 22:52:11

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "14abcc2db06d"
down_revision = "44bfda9f6e12"
branch_labels = None
depends_on = None


def upgrade():
    # a plain ADD COLUMN on SQLite too: rebuilding offices would trip over the rows that
    # reference it, with foreign keys on
    with op.batch_alter_table("offices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade():
    # not batched for the same reason: SQLite (3.35 and later) drops a column in place
    op.drop_column("offices", "version")
