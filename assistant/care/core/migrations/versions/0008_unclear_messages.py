"""Messages the assistant was unsure of, kept for coordinators to review and export as training data.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from assistant.care.core.columns import UTCDateTime

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        'unclear_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.String(length=255), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('guesses_json', sa.Text(), nullable=False),
        sa.Column('message_id', sa.String(length=64), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('chosen_intent', sa.String(length=80), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('intent', sa.String(length=80), nullable=True),
        sa.Column('reviewed_by', sa.String(length=120), nullable=True),
        sa.Column('reviewed_at', UTCDateTime(), nullable=True),
        sa.CheckConstraint("status IN ('new', 'accepted', 'dismissed')", name=op.f('ck_unclear_messages_status')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_unclear_messages')),
    )
    with op.batch_alter_table('unclear_messages', schema=None) as batch_op:
        batch_op.create_index('ix_unclear_messages_status', ['status', 'created_at'], unique=False)
        batch_op.create_index('ix_unclear_messages_message_id', ['message_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_unclear_messages_conversation_id'), ['conversation_id'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table('unclear_messages')
