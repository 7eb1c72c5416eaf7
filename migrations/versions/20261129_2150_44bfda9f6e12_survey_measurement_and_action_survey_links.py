"""survey measurement and action survey links

Responses by questionnaire and submission time (measurement by period across campaigns);
improvement actions measured by an indicator's score and linked to survey campaigns and
responses.

Revision ID: 44bfda9f6e12
Revises: 9d3f2b7e6a15
Create Date: 2026-11-29 21:50:51.931462

"""
from alembic import op
import sqlalchemy as sa

import app.db


# revision identifiers, used by Alembic.
revision = '44bfda9f6e12'
down_revision = '9d3f2b7e6a15'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('improvement_action_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('indicator', sa.String(length=40), nullable=True))
        batch_op.drop_constraint(op.f('ck_improvement_action_links_target_type_valid'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_improvement_action_links_target_type_valid'),
            "target_type IN ('issue', 'voice', 'campaign', 'response')",
        )

    with op.batch_alter_table('improvement_actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('metric_survey_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('metric_indicator', sa.String(length=40), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_improvement_actions_metric_survey_id_surveys'), 'surveys', ['metric_survey_id'], ['id'])
        batch_op.drop_constraint(op.f('ck_improvement_actions_metric_valid'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_improvement_actions_metric_valid'),
            "metric IN ('category_volume', 'csat', 'indicator_score')",
        )
        batch_op.create_check_constraint(
            op.f('ck_improvement_actions_score_has_indicator'),
            "metric <> 'indicator_score' OR "
            "(metric_survey_id IS NOT NULL AND metric_indicator IS NOT NULL)",
        )

    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.create_index('ix_survey_responses_survey_submitted', ['survey_id', 'submitted_at', 'office_id'], unique=False)

    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.create_index('ix_survey_answers_response_measure', ['response_id', 'question_type', 'indicator_id', 'value'], unique=False)


def downgrade():
    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_answers_response_measure')

    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_responses_survey_submitted')

    op.execute("DELETE FROM improvement_actions WHERE metric = 'indicator_score'")
    op.execute("DELETE FROM improvement_action_links WHERE target_type IN ('campaign', 'response')")
    with op.batch_alter_table('improvement_actions', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_improvement_actions_score_has_indicator'), type_='check')
        batch_op.drop_constraint(op.f('ck_improvement_actions_metric_valid'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_improvement_actions_metric_valid'), "metric IN ('category_volume', 'csat')"
        )
        batch_op.drop_constraint(batch_op.f('fk_improvement_actions_metric_survey_id_surveys'), type_='foreignkey')
        batch_op.drop_column('metric_indicator')
        batch_op.drop_column('metric_survey_id')

    with op.batch_alter_table('improvement_action_links', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_improvement_action_links_target_type_valid'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_improvement_action_links_target_type_valid'), "target_type IN ('issue', 'voice')"
        )
        batch_op.drop_column('indicator')
