"""invitations by survey and sent: the reach of a questionnaire per period (measurement)

Revision ID: c4d9e2a7f615
Revises: 8b2f6d4e1a73
Create Date: 2026-12-07 23:20:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "c4d9e2a7f615"
down_revision = "8b2f6d4e1a73"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_invitations_survey_sent", ["survey_id", "sent_at", "office_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_index("ix_invitations_survey_sent")
