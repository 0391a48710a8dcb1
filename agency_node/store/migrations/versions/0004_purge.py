"""purge: issued pseudonyms shredded at a project's end

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 15:10:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'purged_projects',
        sa.Column('project_id', sa.String(length=128), nullable=False),
        sa.Column('reason', sa.String(length=32), nullable=False),
        sa.Column('purged_at', sa.String(length=40), nullable=False),
        sa.Column('pids', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('project_id', name=op.f('pk_purged_projects')),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('purged_projects')
