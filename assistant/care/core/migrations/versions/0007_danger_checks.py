"""Messages that may be emergencies: the "are you hurt or in danger right now?" question, its answer
and its deadline, after which the care service raises the full alarm.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from assistant.care.core.columns import UTCDateTime

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        'danger_checks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.String(length=255), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('sign', sa.String(length=40), nullable=True),
        sa.Column('message_id', sa.String(length=64), nullable=True),
        sa.Column('asked_at', UTCDateTime(), nullable=False),
        sa.Column('deadline', UTCDateTime(), nullable=False),
        sa.Column('answered_at', UTCDateTime(), nullable=True),
        sa.Column('answer', sa.String(length=10), nullable=True),
        sa.Column('escalation_reference', sa.String(length=16), nullable=True),
        sa.CheckConstraint("answer IS NULL OR answer IN ('yes', 'no', 'timeout')", name=op.f('ck_danger_checks_answer')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_danger_checks')),
    )
    with op.batch_alter_table('danger_checks', schema=None) as batch_op:
        batch_op.create_index('ix_danger_checks_open', ['answered_at', 'deadline'], unique=False)
        batch_op.create_index('ix_danger_checks_message_id', ['message_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_danger_checks_conversation_id'), ['conversation_id'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table('danger_checks')
