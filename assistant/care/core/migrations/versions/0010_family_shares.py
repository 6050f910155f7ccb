"""What a senior shares with each linked relative (bookings, reminders); existing links keep both.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('relative_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shares', sa.Text(), nullable=False, server_default='["bookings", "reminders"]'))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('relative_links', schema=None) as batch_op:
        batch_op.drop_column('shares')
