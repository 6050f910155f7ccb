"""Per-chat settings (spoken replies, their language, recent buttons) in the database, not in files.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from assistant.care.core.columns import UTCDateTime

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        'chat_settings',
        sa.Column('conversation_id', sa.String(length=255), nullable=False),
        sa.Column('voice_replies', sa.Boolean(), nullable=False),
        sa.Column('language', sa.String(length=10), nullable=True),
        sa.Column('buttons', sa.Text(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('conversation_id', name=op.f('pk_chat_settings')),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table('chat_settings')
