"""When the care service started sending a reminder delivery: an unfinished send is checked, not repeated.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from assistant.care.core.columns import UTCDateTime

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('reminder_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', UTCDateTime(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('reminder_deliveries', schema=None) as batch_op:
        batch_op.drop_column('claimed_at')
