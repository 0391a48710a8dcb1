# ruff: noqa: E501  (Alembic autogenerate style, kept as generated)
"""governance: member keys, signed roster, signed decisions and revocations

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 15:10:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('governance_keys',
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_governance_keys_user_id_users')),
    sa.PrimaryKeyConstraint('kid', name=op.f('pk_governance_keys'))
    )
    with op.batch_alter_table('governance_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_governance_keys_user_id'), ['user_id'], unique=False)

    op.create_table('governance_rosters',
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('roster', sa.JSON(), nullable=False),
    sa.Column('signatures', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_governance_rosters')),
    sa.UniqueConstraint('digest', name=op.f('uq_governance_rosters_digest'))
    )
    op.create_table('governance_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.String(length=32), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('project_digest', sa.String(length=64), nullable=False),
    sa.Column('envelope', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['kid'], ['governance_keys.kid'], name=op.f('fk_governance_decisions_kid_governance_keys')),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_governance_decisions_request_id_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_governance_decisions')),
    sa.UniqueConstraint('request_id', 'round', 'kid', name=op.f('uq_governance_decisions_request_id'))
    )
    with op.batch_alter_table('governance_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_governance_decisions_request_id'), ['request_id'], unique=False)

    op.create_table('governance_revocations',
    sa.Column('request_id', sa.String(length=32), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('envelope', sa.JSON(), nullable=False),
    sa.Column('pushed_to', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_governance_revocations_request_id_requests')),
    sa.PrimaryKeyConstraint('request_id', name=op.f('pk_governance_revocations'))
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('governance_revocations')
    with op.batch_alter_table('governance_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_governance_decisions_request_id'))
    op.drop_table('governance_decisions')
    op.drop_table('governance_rosters')
    with op.batch_alter_table('governance_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_governance_keys_user_id'))
    op.drop_table('governance_keys')
