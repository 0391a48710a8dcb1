"""ingest runs: line accounting and interrupted runs

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 15:50:00

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
    with op.batch_alter_table("ingest_runs") as batch:
        batch.add_column(sa.Column("lines", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("accounting", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("finished_at", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("failure", sa.Text(), nullable=True))
        # Runs from before this revision wrote their audit event inline.
        batch.add_column(sa.Column("audited", sa.Boolean(), nullable=False,
                                   server_default=sa.true()))
    with op.batch_alter_table("quarantine") as batch:
        batch.add_column(sa.Column("line_end", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("quarantine") as batch:
        batch.drop_column("line_end")
    with op.batch_alter_table("ingest_runs") as batch:
        batch.drop_column("audited")
        batch.drop_column("failure")
        batch.drop_column("finished_at")
        batch.drop_column("accounting")
        batch.drop_column("lines")
