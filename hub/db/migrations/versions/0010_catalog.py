"""catalog: a living data dictionary (years, completeness, code lists, placeholder flags)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 15:50:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0010'
down_revision: str | Sequence[str] | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dictionary_published_at', sa.DateTime(timezone=True),
                                      nullable=True))
    with op.batch_alter_table('catalog_variables', schema=None) as batch_op:
        # Rows from before the living dictionary have no facts yet: empty lists, no flag.
        batch_op.add_column(sa.Column('completeness', sa.JSON(), nullable=False,
                                      server_default='[]'))
        batch_op.add_column(sa.Column('codes', sa.JSON(), nullable=False,
                                      server_default='[]'))
        batch_op.add_column(sa.Column('description_placeholder', sa.Boolean(),
                                      nullable=False, server_default=sa.false()))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('catalog_variables', schema=None) as batch_op:
        batch_op.drop_column('description_placeholder')
        batch_op.drop_column('codes')
        batch_op.drop_column('completeness')
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_column('dictionary_published_at')
