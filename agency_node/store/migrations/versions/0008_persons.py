"""persons and periods: the agency person id and the normalised period of each record,
and the reused person ids an ingest found

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 19:10:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # Records from before this revision have neither: each is its own person, no period.
    with op.batch_alter_table("records") as batch:
        batch.add_column(sa.Column("person_id", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("period", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("period_kind", sa.String(length=16), nullable=True))
        batch.create_index(batch.f("ix_records_person_id"), ["person_id"], unique=False)
    with op.batch_alter_table("ingest_runs") as batch:
        batch.add_column(sa.Column("reused_person_ids", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("ingest_runs") as batch:
        batch.drop_column("reused_person_ids")
    with op.batch_alter_table("records") as batch:
        batch.drop_index(batch.f("ix_records_person_id"))
        batch.drop_column("period_kind")
        batch.drop_column("period")
        batch.drop_column("person_id")
