"""witness: co-signed hub checkpoints and signed node-log checkpoints

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 15:10:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('witnessed_checkpoints',
    sa.Column('size', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('root_hash', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('cosignature', sa.Text(), nullable=False),
    sa.Column('cosigned_at', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('size', name=op.f('pk_witnessed_checkpoints'))
    )
    op.create_table('log_checkpoints',
    sa.Column('size', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('root_hash', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('size', name=op.f('pk_log_checkpoints'))
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('log_checkpoints')
    op.drop_table('witnessed_checkpoints')
