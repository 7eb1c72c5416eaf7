"""version stamps of cached reference data

Revision ID: 5c1e0a7d9b42
Revises: 5c1a9e7b2d40
Create Date: 2026-11-29 18:30:00

"""
import uuid

from alembic import op
import sqlalchemy as sa

import app.db


# revision identifiers, used by Alembic.
revision = '5c1e0a7d9b42'
down_revision = '5c1a9e7b2d40'
branch_labels = None
depends_on = None


def upgrade():
    stamps = op.create_table(
        'version_stamps',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('stamp', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_version_stamps'))
    )
    # the categories and SLA targets already here get a stamp, so processes may cache them
    op.bulk_insert(stamps, [{'name': 'issue_reference', 'stamp': uuid.uuid4().hex}])


def downgrade():
    op.drop_table('version_stamps')
