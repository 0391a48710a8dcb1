"""accounts: one-time invitations and governance approval of privileged accounts

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 15:10:00

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
    op.create_table(
        'invitations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=True),
        sa.Column('role', sa.String(length=32), nullable=False),
        sa.Column('agency_code', sa.String(length=32), nullable=True),
        sa.Column('institution', sa.String(length=200), nullable=True),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('redeemed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['agency_code'], ['agencies.code'],
                                name=op.f('fk_invitations_agency_code_agencies')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_invitations_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
        sa.UniqueConstraint('code_hash', name=op.f('uq_invitations_code_hash')),
    )
    op.create_table(
        'account_approvals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('approver_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['approver_id'], ['users.id'],
                                name=op.f('fk_account_approvals_approver_id_users')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_account_approvals_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_approvals')),
        sa.UniqueConstraint('user_id', 'approver_id',
                            name=op.f('uq_account_approvals_user_id')),
    )
    with op.batch_alter_table('account_approvals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_approvals_user_id'), ['user_id'],
                              unique=False)
    op.create_table(
        'conflict_declarations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.String(length=32), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('conflicted', sa.Boolean(), nullable=False),
        sa.Column('reason', sa.String(length=2000), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['request_id'], ['requests.id'],
                                name=op.f('fk_conflict_declarations_request_id_requests')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_conflict_declarations_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_conflict_declarations')),
        sa.UniqueConstraint('request_id', 'user_id',
                            name=op.f('uq_conflict_declarations_request_id')),
    )
    with op.batch_alter_table('conflict_declarations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conflict_declarations_request_id'),
                              ['request_id'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('activated_at', sa.DateTime(timezone=True),
                                      nullable=True))
    # Accounts that exist before this revision were made usable when created.
    op.execute("UPDATE users SET activated_at = created_at")


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('activated_at')
    with op.batch_alter_table('conflict_declarations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conflict_declarations_request_id'))
    op.drop_table('conflict_declarations')
    with op.batch_alter_table('account_approvals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_approvals_user_id'))
    op.drop_table('account_approvals')
    op.drop_table('invitations')
