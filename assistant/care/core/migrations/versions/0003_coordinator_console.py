"""Coordinator console: coordinator accounts and escalation notes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import assistant.care.core.columns

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('coordinators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=60), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', assistant.care.core.columns.UTCDateTime(), nullable=True),
    sa.Column('created_at', assistant.care.core.columns.UTCDateTime(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint('failed_logins >= 0', name=op.f('ck_coordinators_failed_logins')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coordinators')),
    sa.UniqueConstraint('username', name=op.f('uq_coordinators_username'))
    )
    op.create_table('escalation_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('escalation_id', sa.Integer(), nullable=False),
    sa.Column('coordinator', sa.String(length=120), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', assistant.care.core.columns.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['escalation_id'], ['escalations.id'], name=op.f('fk_escalation_notes_escalation_id_escalations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation_notes'))
    )
    with op.batch_alter_table('escalation_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalation_notes_escalation_id'), ['escalation_id'], unique=False)



def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('escalation_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_escalation_notes_escalation_id'))

    op.drop_table('escalation_notes')
    op.drop_table('coordinators')
