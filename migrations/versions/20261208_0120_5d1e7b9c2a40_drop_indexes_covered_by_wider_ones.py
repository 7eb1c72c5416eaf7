"""drop indexes covered by wider ones

Three indexes are the leading columns of another index on the same table, which answers the
same lookups: issues (category_id) of (category_id, received_at), issues (office_id,
received_at) of (office_id, received_at, category_id), and audit_events (office_id) of
(office_id, action, at). Every issue intake wrote all three for nothing.

Revision ID: 5d1e7b9c2a40
Revises: 143c702f3643
Create Date: 2026-12-08 01:20:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5d1e7b9c2a40'
down_revision = '143c702f3643'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_issues_category_id', table_name='issues')
    op.drop_index('ix_issues_office_received', table_name='issues')
    op.drop_index('ix_audit_events_office_id', table_name='audit_events')


def downgrade():
    op.create_index('ix_audit_events_office_id', 'audit_events', ['office_id'])
    op.create_index('ix_issues_office_received', 'issues', ['office_id', 'received_at'])
    op.create_index('ix_issues_category_id', 'issues', ['category_id'])
