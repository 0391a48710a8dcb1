"""incidents: incident records, node audit events handed in for the access report, and the
notifications sent (issue 17, docs/incident-response.md)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 04:15:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0017'
down_revision: str | Sequence[str] | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'incidents',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('found_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('severity', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('project_id', sa.String(length=32), nullable=True),
        sa.Column('data_involved', sa.JSON(), nullable=False),
        sa.Column('notifiable', sa.Boolean(), nullable=False),
        sa.Column('public_summary', sa.Text(), nullable=False),
        sa.Column('reported_by', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('contained_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('containment', sa.JSON(), nullable=True),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('resolution', sa.Text(), nullable=False),
        sa.CheckConstraint("status IN ('open', 'contained', 'closed')",
                           name=op.f('ck_incidents_status')),
        sa.CheckConstraint("severity IN ('low', 'medium', 'high', 'critical')",
                           name=op.f('ck_incidents_severity')),
        sa.ForeignKeyConstraint(['project_id'], ['requests.id'],
                                name=op.f('fk_incidents_project_id_requests')),
        sa.ForeignKeyConstraint(['reported_by'], ['users.id'],
                                name=op.f('fk_incidents_reported_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incidents_project_id'), ['project_id'],
                              unique=False)
    op.create_table(
        'incident_node_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('incident_id', sa.String(length=40), nullable=False),
        sa.Column('agency', sa.String(length=32), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('at', sa.String(length=40), nullable=False),
        sa.Column('actor', sa.String(length=256), nullable=False),
        sa.Column('typ', sa.String(length=64), nullable=False),
        sa.Column('project_id', sa.String(length=128), nullable=False),
        sa.Column('outcome', sa.String(length=32), nullable=False),
        sa.Column('reason', sa.String(length=64), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'],
                                name=op.f('fk_incident_node_events_incident_id_incidents')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_node_events')),
    )
    with op.batch_alter_table('incident_node_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_node_events_incident_id'),
                              ['incident_id'], unique=False)
    op.create_table(
        'incident_notifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('incident_id', sa.String(length=40), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('target', sa.String(length=500), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('error', sa.String(length=500), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("channel IN ('email', 'webhook')",
                           name=op.f('ck_incident_notifications_channel')),
        sa.CheckConstraint("outcome IN ('sent', 'failed')",
                           name=op.f('ck_incident_notifications_outcome')),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'],
                                name=op.f('fk_incident_notifications_incident_id_incidents')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_notifications')),
    )
    with op.batch_alter_table('incident_notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_notifications_incident_id'),
                              ['incident_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('incident_notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_notifications_incident_id'))
    op.drop_table('incident_notifications')
    with op.batch_alter_table('incident_node_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_node_events_incident_id'))
    op.drop_table('incident_node_events')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incidents_project_id'))
    op.drop_table('incidents')
