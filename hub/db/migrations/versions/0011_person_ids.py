"""person ids: each agency's declaration (unique / may_duplicate), each run's deduplicated

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 22:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0011'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        # Agencies enrolled before the declaration existed were linked one-to-one: 'unique'.
        batch_op.add_column(sa.Column('person_ids', sa.String(length=16), nullable=False,
                                      server_default='unique'))
    with op.batch_alter_table('linkage_runs', schema=None) as batch_op:
        # Earlier runs deduplicated no agency.
        batch_op.add_column(sa.Column('deduplicated', sa.JSON(), nullable=False,
                                      server_default='[]'))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('linkage_runs', schema=None) as batch_op:
        batch_op.drop_column('deduplicated')
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_column('person_ids')
