"""survey responses by contact (customer page, closed-loop re-measurement)

Revision ID: 5c1a9e7b2d40
Revises: c01ff072c449
Create Date: 2026-11-29 19:35:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "5c1a9e7b2d40"
down_revision = "c01ff072c449"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_survey_responses_contact_submitted", ["contact_id", "submitted_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_responses_contact_submitted")
