"""rating link withdrawal: invitations.withdrawn_at, set when the issue is reopened

Revision ID: 3e7a1c9d5b20
Revises: b39a54ddbc72
Create Date: 2026-12-07 23:00:00

"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import app.db

# revision identifiers, used by Alembic.
revision = "3e7a1c9d5b20"
down_revision = "b39a54ddbc72"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("withdrawn_at", app.db.UTCDateTime(timezone=True), nullable=True)
        )
    # Rating links still pending on issues that were reopened after the link was sent: the link
    # of an earlier resolution ("rating:<n>" with n below the issue's reopen count).
    invitations = sa.table(
        "invitations",
        sa.column("id", sa.Integer),
        sa.column("purpose", sa.String),
        sa.column("issue_id", sa.Integer),
        sa.column("wave", sa.String),
        sa.column("responded_at", app.db.UTCDateTime(timezone=True)),
        sa.column("withdrawn_at", app.db.UTCDateTime(timezone=True)),
    )
    issues = sa.table(
        "issues",
        sa.column("id", sa.Integer),
        sa.column("reopen_count", sa.Integer),
    )
    current_wave = sa.literal("rating:") + sa.cast(issues.c.reopen_count, sa.String)
    earlier = (
        sa.select(issues.c.id)
        .where(issues.c.id == invitations.c.issue_id, invitations.c.wave != current_wave)
        .exists()
    )
    op.execute(
        invitations.update()
        .where(
            invitations.c.purpose == "issue_rating",
            invitations.c.responded_at.is_(None),
            invitations.c.withdrawn_at.is_(None),
            earlier,
        )
        # when they were withdrawn is not known: now, when this upgrade takes them back
        .values(
            withdrawn_at=sa.bindparam(
                "now", datetime.now(UTC), type_=app.db.UTCDateTime(timezone=True)
            )
        )
    )


def downgrade():
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_at")
