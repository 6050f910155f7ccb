"""Human handoff: which coordinator is talking in an escalation's conversation, since when.

Coordinators get a session epoch (logging out ends every session of the account).

Also when an emergency was posted to the coordinators' Telegram chat, and an index on when
escalations were opened (the console's live stream asks for the ones opened since its last look).

Notifications may also go to a conversation without a registered person (a guest in a handoff).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import assistant.care.core.columns

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('handoff_by', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('handoff_at', assistant.care.core.columns.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('chat_alerted_at', assistant.care.core.columns.UTCDateTime(), nullable=True))
        batch_op.create_index('ix_escalations_created_at', ['created_at'], unique=False)
    with op.batch_alter_table('coordinators', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('conversation_id', sa.String(length=255), nullable=True))
        batch_op.alter_column('person_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_check_constraint('recipient', 'person_id IS NOT NULL OR conversation_id IS NOT NULL')


def downgrade() -> None:
    """Revert this revision (notifications for guests only are dropped)."""
    op.execute("DELETE FROM notifications WHERE person_id IS NULL")
    with op.batch_alter_table('coordinators', schema=None) as batch_op:
        batch_op.drop_column('session_epoch')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_recipient'), type_='check')
        batch_op.alter_column('person_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('conversation_id')
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.drop_index('ix_escalations_created_at')
        batch_op.drop_column('chat_alerted_at')
        batch_op.drop_column('handoff_at')
        batch_op.drop_column('handoff_by')
