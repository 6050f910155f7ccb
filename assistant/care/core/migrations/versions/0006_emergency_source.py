"""Which chat message raised an escalation: an emergency is recorded once per message, by the
action at once or by the care service from Rasa's tracker when the action server was down.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_message_id', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_escalations_source_message_id', ['source_message_id'], unique=True)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.drop_index('ix_escalations_source_message_id')
        batch_op.drop_column('source_message_id')
