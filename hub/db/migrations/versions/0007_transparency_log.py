"""transparency log: Merkle leaves, checkpoints and witness co-signatures

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 15:10:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('tlog_checkpoints',
    sa.Column('size', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('root_hash', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('signed_at', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('size', name=op.f('pk_tlog_checkpoints'))
    )
    op.create_table('tlog_cosignatures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('agency', sa.String(length=32), nullable=False),
    sa.Column('witness', sa.String(length=128), nullable=False),
    sa.Column('signature', sa.Text(), nullable=False),
    sa.Column('cosigned_at', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tlog_cosignatures')),
    sa.UniqueConstraint('size', 'agency', name=op.f('uq_tlog_cosignatures_size'))
    )
    with op.batch_alter_table('tlog_cosignatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tlog_cosignatures_agency'), ['agency'], unique=False)
        batch_op.create_index(batch_op.f('ix_tlog_cosignatures_size'), ['size'], unique=False)

    op.create_table('node_log_checkpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency', sa.String(length=32), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('root_hash', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('received_at', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_node_log_checkpoints'))
    )
    with op.batch_alter_table('node_log_checkpoints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_node_log_checkpoints_agency'), ['agency'],
                              unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('node_log_checkpoints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_node_log_checkpoints_agency'))
    op.drop_table('node_log_checkpoints')
    with op.batch_alter_table('tlog_cosignatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tlog_cosignatures_size'))
        batch_op.drop_index(batch_op.f('ix_tlog_cosignatures_agency'))
    op.drop_table('tlog_cosignatures')
    op.drop_table('tlog_checkpoints')
