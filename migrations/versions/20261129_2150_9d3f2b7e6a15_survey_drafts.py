"""survey drafts: a customer's answers kept page by page until the questionnaire is sent

Revision ID: 9d3f2b7e6a15
Revises: 1577efe981e7
Create Date: 2026-11-29 21:50:00

"""

import sqlalchemy as sa
from alembic import op

import app.db

# revision identifiers, used by Alembic.
revision = "9d3f2b7e6a15"
down_revision = "1577efe981e7"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "survey_drafts",
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitations.id"],
            name=op.f("fk_survey_drafts_invitation_id_invitations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("invitation_id", name=op.f("pk_survey_drafts")),
    )
    with op.batch_alter_table("survey_drafts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_drafts_updated_at"), ["updated_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("survey_drafts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_drafts_updated_at"))
    op.drop_table("survey_drafts")
