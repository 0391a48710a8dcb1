"""governance at the node: pinned roster, governance approvals, revocations, steward keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 15:10:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('governance_rosters',
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('roster', sa.JSON(), nullable=False),
    sa.Column('signatures', sa.JSON(), nullable=False),
    sa.Column('accepted_at', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_governance_rosters'))
    )
    op.create_table('governance_approvals',
    sa.Column('project_id', sa.String(length=128), nullable=False),
    sa.Column('project_digest', sa.String(length=64), nullable=False),
    sa.Column('roster_version', sa.Integer(), nullable=False),
    sa.Column('decisions', sa.JSON(), nullable=False),
    sa.Column('verified_at', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_governance_approvals'))
    )
    op.create_table('steward_keys',
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('added_at', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('kid', name=op.f('pk_steward_keys'))
    )
    op.create_table('steward_signatures',
    sa.Column('project_id', sa.String(length=128), nullable=False),
    sa.Column('steward_kid', sa.String(length=64), nullable=False),
    sa.Column('envelope', sa.JSON(), nullable=False),
    sa.Column('signed_at', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_steward_signatures'))
    )
    op.create_table('project_revocations',
    sa.Column('project_id', sa.String(length=128), nullable=False),
    sa.Column('signer_kid', sa.String(length=128), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('revoked_at', sa.String(length=40), nullable=False),
    sa.Column('received_at', sa.String(length=40), nullable=False),
    sa.Column('envelope', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_project_revocations'))
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('project_revocations')
    op.drop_table('steward_signatures')
    op.drop_table('steward_keys')
    op.drop_table('governance_approvals')
    op.drop_table('governance_rosters')
