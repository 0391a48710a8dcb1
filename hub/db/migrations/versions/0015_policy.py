"""policy: the research agenda and the review checklist answers of reviews (issue 16)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 03:30:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0015'
down_revision: str | Sequence[str] | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'agenda_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('question', sa.Text(), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_agenda_items')),
    )
    with op.batch_alter_table('agenda_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agenda_items_status'), ['status'], unique=False)
    op.create_table(
        'review_criteria',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('review_id', sa.Integer(), nullable=False),
        sa.Column('criterion', sa.String(length=64), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('met', sa.Boolean(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['review_id'], ['reviews.id'],
                                name=op.f('fk_review_criteria_review_id_reviews')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_review_criteria')),
    )
    with op.batch_alter_table('review_criteria', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_criteria_review_id'), ['review_id'],
                              unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('review_criteria', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_criteria_review_id'))
    op.drop_table('review_criteria')
    with op.batch_alter_table('agenda_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agenda_items_status'))
    op.drop_table('agenda_items')
