"""findings: reports back to agencies, stewards' comments and objections, publications
register (issue 16, docs/findings.md)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 03:30:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0016'
down_revision: str | Sequence[str] | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'findings_reports',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('project_id', sa.String(length=32), nullable=False),
        sa.Column('deliverable', sa.String(length=300), nullable=True),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('size_bytes', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('submitted_by', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('review_days', sa.Integer(), nullable=False),
        sa.Column('review_ends_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('released_by', sa.String(length=64), nullable=True),
        sa.CheckConstraint("status IN ('in_review', 'released')",
                           name=op.f('ck_findings_reports_status')),
        sa.CheckConstraint("kind IN ('interim', 'final', 'brief', 'other')",
                           name=op.f('ck_findings_reports_kind')),
        sa.ForeignKeyConstraint(['project_id'], ['requests.id'],
                                name=op.f('fk_findings_reports_project_id_requests')),
        sa.ForeignKeyConstraint(['submitted_by'], ['users.id'],
                                name=op.f('fk_findings_reports_submitted_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_findings_reports')),
    )
    with op.batch_alter_table('findings_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_findings_reports_project_id'), ['project_id'],
                              unique=False)
    op.create_table(
        'findings_comments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('report_id', sa.String(length=40), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('author_role', sa.String(length=16), nullable=False),
        sa.Column('agency_code', sa.String(length=32), nullable=True),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('overridden_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('overridden_by', sa.String(length=64), nullable=True),
        sa.Column('override_reason', sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('comment', 'objection')",
                           name=op.f('ck_findings_comments_kind')),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'],
                                name=op.f('fk_findings_comments_author_id_users')),
        sa.ForeignKeyConstraint(['report_id'], ['findings_reports.id'],
                                name=op.f('fk_findings_comments_report_id_findings_reports')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_findings_comments')),
    )
    with op.batch_alter_table('findings_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_findings_comments_report_id'), ['report_id'],
                              unique=False)
    op.create_table(
        'publications',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('project_id', sa.String(length=32), nullable=False),
        sa.Column('report_id', sa.String(length=40), nullable=True),
        sa.Column('citation', sa.Text(), nullable=False),
        sa.Column('url', sa.String(length=500), nullable=True),
        sa.Column('doi', sa.String(length=200), nullable=True),
        sa.Column('published_on', sa.Date(), nullable=False),
        sa.Column('added_by', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['added_by'], ['users.id'],
                                name=op.f('fk_publications_added_by_users')),
        sa.ForeignKeyConstraint(['project_id'], ['requests.id'],
                                name=op.f('fk_publications_project_id_requests')),
        sa.ForeignKeyConstraint(['report_id'], ['findings_reports.id'],
                                name=op.f('fk_publications_report_id_findings_reports')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_publications')),
    )
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_publications_project_id'), ['project_id'],
                              unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_publications_project_id'))
    op.drop_table('publications')
    with op.batch_alter_table('findings_comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_findings_comments_report_id'))
    op.drop_table('findings_comments')
    with op.batch_alter_table('findings_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_findings_reports_project_id'))
    op.drop_table('findings_reports')
