"""public reasons: every denial carries a reason written for the public (issue 16)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 01:40:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0012'
down_revision: str | Sequence[str] | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        # Reviews given before public reasons existed had none: ''.
        batch_op.add_column(sa.Column('public_reason', sa.Text(), nullable=False,
                                      server_default=''))
    with op.batch_alter_table('requests', schema=None) as batch_op:
        # NULL on requests denied before public reasons existed (the public page says so).
        batch_op.add_column(sa.Column('public_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_column('public_reason')
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_column('public_reason')
