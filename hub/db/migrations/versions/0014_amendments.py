"""amendments: versions of an approved agreement (amendment, extension, renewal; issue 16)

Adds ``agreement_versions`` and the request's ``version`` (in force) and ``approved_round``.
Every request approved before this migration gets its agreement as version 1 (``original``,
in force), decided by its current round.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 03:30:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0014'
down_revision: str | Sequence[str] | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'agreement_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.String(length=32), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('dsa', sa.JSON(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('round', sa.Integer(), nullable=False),
        sa.Column('from_status', sa.String(length=32), nullable=True),
        sa.Column('decision_reason', sa.Text(), nullable=True),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['request_id'], ['requests.id'],
                                name=op.f('fk_agreement_versions_request_id_requests')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_versions')),
        sa.UniqueConstraint('request_id', 'version',
                            name=op.f('uq_agreement_versions_request_id')),
    )
    with op.batch_alter_table('agreement_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_versions_request_id'), ['request_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_agreement_versions_status'), ['status'],
                              unique=False)
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('approved_round', sa.Integer(), nullable=True))
    # Projects approved before versions existed (approved once: approved, linking, ready,
    # revoked, expired): their agreement is version 1, in force, decided by their round.
    op.execute(
        "INSERT INTO agreement_versions (request_id, version, kind, dsa, reason, status, "
        "round, from_status, decision_reason, created_by, created_at, decided_at) "
        "SELECT id, 1, 'original', dsa, '', 'in_force', round, NULL, decision_reason, "
        "'system', COALESCE(decided_at, updated_at), decided_at FROM requests "
        "WHERE status IN ('approved', 'linking', 'ready', 'revoked', 'expired')")
    op.execute("UPDATE requests SET version = 1, approved_round = round "
               "WHERE status IN ('approved', 'linking', 'ready', 'revoked', 'expired')")


def downgrade() -> None:
    """Downgrade schema. A project amending when downgraded keeps its proposal as its
    agreement; put it back with the in-force version first (withdraw the amendment)."""
    # The versions first: SQLite rebuilds ``requests`` to drop its columns, which it
    # refuses while rows of another table point at it.
    with op.batch_alter_table('agreement_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_versions_status'))
        batch_op.drop_index(batch_op.f('ix_agreement_versions_request_id'))
    op.drop_table('agreement_versions')
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_column('approved_round')
        batch_op.drop_column('version')
