"""Family linking: one-time invite codes a senior gives a relative.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import assistant.care.core.columns

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('family_invites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('senior_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('relationship', sa.String(length=60), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', assistant.care.core.columns.UTCDateTime(), nullable=False),
    sa.Column('expires_at', assistant.care.core.columns.UTCDateTime(), nullable=False),
    sa.Column('relative_id', sa.Integer(), nullable=True),
    sa.Column('relative_name', sa.String(length=120), nullable=False),
    sa.Column('claimed_at', assistant.care.core.columns.UTCDateTime(), nullable=True),
    sa.Column('decided_at', assistant.care.core.columns.UTCDateTime(), nullable=True),
    sa.CheckConstraint("status IN ('open', 'pending', 'accepted', 'declined', 'expired', 'revoked')", name=op.f('ck_family_invites_status')),
    sa.ForeignKeyConstraint(['relative_id'], ['persons.id'], name=op.f('fk_family_invites_relative_id_persons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['senior_id'], ['persons.id'], name=op.f('fk_family_invites_senior_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_family_invites')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_family_invites_code_hash'))
    )
    with op.batch_alter_table('family_invites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_family_invites_senior_id'), ['senior_id'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('family_invites', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_family_invites_senior_id'))

    op.drop_table('family_invites')
