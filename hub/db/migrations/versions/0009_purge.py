"""extract purge: project links, clusters and pid maps purged at end of life

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 15:10:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'linkage_purges',
        sa.Column('run_id', sa.String(length=40), nullable=False),
        sa.Column('project_id', sa.String(length=32), nullable=False),
        sa.Column('reason', sa.String(length=32), nullable=False),
        sa.Column('purged_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('clusters', sa.Integer(), nullable=False),
        sa.Column('links', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['project_id'], ['requests.id'],
                                name=op.f('fk_linkage_purges_project_id_requests')),
        sa.ForeignKeyConstraint(['run_id'], ['linkage_runs.id'],
                                name=op.f('fk_linkage_purges_run_id_linkage_runs'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('run_id', name=op.f('pk_linkage_purges')),
    )
    with op.batch_alter_table('linkage_purges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_linkage_purges_project_id'), ['project_id'],
                              unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('linkage_purges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_linkage_purges_project_id'))
    op.drop_table('linkage_purges')
