"""Home services (slots, reviews, complaints, provider score), reminders, notifications, locks.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import assistant.care.core.columns

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


OLD_ESCALATION_KINDS = "'emergency', 'talk_to_human', 'complaint', 'consultation', 'missed_medication', 'unmatched_booking', 'service_request'"
NEW_ESCALATION_KINDS = "'emergency', 'talk_to_human', 'complaint', 'consultation', 'missed_medication', 'unmatched_booking', 'service_request', 'provider_review', 'wellbeing', 'failed_delivery'"


def _escalation_kinds(kinds: str) -> None:
    """Replace the check constraint listing the escalation kinds."""
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_escalations_kind'), type_='check')
        batch_op.create_check_constraint('kind', f"kind IN ({kinds})")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('service_locks',
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('acquired_at', assistant.care.core.columns.UTCDateTime(), nullable=False),
    sa.Column('heartbeat_at', assistant.care.core.columns.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_service_locks'))
    )
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('intent', sa.String(length=80), nullable=False),
    sa.Column('entities', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', assistant.care.core.columns.UTCDateTime(), nullable=False),
    sa.Column('deliver_after', assistant.care.core.columns.UTCDateTime(), nullable=False),
    sa.Column('delivered_at', assistant.care.core.columns.UTCDateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'delivered', 'failed')", name=op.f('ck_notifications_status')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_notifications_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_due', ['status', 'deliver_after'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_person_id'), ['person_id'], unique=False)

    op.create_table('reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('senior_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('dose', sa.String(length=120), nullable=True),
    sa.Column('location', sa.String(length=200), nullable=True),
    sa.Column('schedule', sa.Text(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('next_due_at', assistant.care.core.columns.UTCDateTime(), nullable=True),
    sa.Column('escalate_after_minutes', sa.Integer(), nullable=True),
    sa.Column('grace_minutes', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', assistant.care.core.columns.UTCDateTime(), nullable=False),
    sa.Column('cancelled_at', assistant.care.core.columns.UTCDateTime(), nullable=True),
    sa.CheckConstraint("kind IN ('medication', 'appointment', 'other', 'checkin')", name=op.f('ck_reminders_kind')),
    sa.CheckConstraint('escalate_after_minutes IS NULL OR escalate_after_minutes > 0', name=op.f('ck_reminders_escalate')),
    sa.CheckConstraint('grace_minutes >= 0', name=op.f('ck_reminders_grace')),
    sa.ForeignKeyConstraint(['created_by_id'], ['persons.id'], name=op.f('fk_reminders_created_by_id_persons')),
    sa.ForeignKeyConstraint(['senior_id'], ['persons.id'], name=op.f('fk_reminders_senior_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminders'))
    )
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.create_index('ix_reminders_due', ['active', 'next_due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminders_senior_id'), ['senior_id'], unique=False)

    op.create_table('reminder_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reminder_id', sa.Integer(), nullable=False),
    sa.Column('due_at', assistant.care.core.columns.UTCDateTime(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('sent_at', assistant.care.core.columns.UTCDateTime(), nullable=True),
    sa.Column('acknowledged_at', assistant.care.core.columns.UTCDateTime(), nullable=True),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.Column('snoozed_until', assistant.care.core.columns.UTCDateTime(), nullable=True),
    sa.Column('escalated_at', assistant.care.core.columns.UTCDateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('answer', sa.String(length=40), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'sent', 'acknowledged', 'snoozed', 'missed', 'failed', 'escalated')", name=op.f('ck_reminder_deliveries_status')),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['persons.id'], name=op.f('fk_reminder_deliveries_acknowledged_by_id_persons'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reminder_id'], ['reminders.id'], name=op.f('fk_reminder_deliveries_reminder_id_reminders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_deliveries')),
    sa.UniqueConstraint('reminder_id', 'due_at', name='uq_reminder_deliveries_due')
    )
    with op.batch_alter_table('reminder_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_reminder_deliveries_status', ['status', 'due_at'], unique=False)

    op.create_table('booking_slots',
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('slot_start', assistant.care.core.columns.UTCDateTime(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_booking_slots_booking_id_bookings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_booking_slots_provider_id_providers')),
    sa.PrimaryKeyConstraint('provider_id', 'slot_start', name=op.f('pk_booking_slots'))
    )
    with op.batch_alter_table('booking_slots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_slots_booking_id'), ['booking_id'], unique=False)

    op.create_table('complaints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=16), nullable=False),
    sa.Column('senior_id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('provider_id', sa.Integer(), nullable=True),
    sa.Column('escalation_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', assistant.care.core.columns.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_complaints_booking_id_bookings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['escalation_id'], ['escalations.id'], name=op.f('fk_complaints_escalation_id_escalations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_complaints_provider_id_providers')),
    sa.ForeignKeyConstraint(['senior_id'], ['persons.id'], name=op.f('fk_complaints_senior_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaints')),
    sa.UniqueConstraint('reference', name=op.f('uq_complaints_reference'))
    )
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaints_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaints_senior_id'), ['senior_id'], unique=False)

    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('senior_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', assistant.care.core.columns.UTCDateTime(), nullable=False),
    sa.CheckConstraint('rating BETWEEN 1 AND 5', name=op.f('ck_reviews_rating')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_reviews_booking_id_bookings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_reviews_provider_id_providers')),
    sa.ForeignKeyConstraint(['senior_id'], ['persons.id'], name=op.f('fk_reviews_senior_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_reviews_booking_id'))
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviews_provider_id'), ['provider_id'], unique=False)

    with op.batch_alter_table('providers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('score', sa.Float(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('review_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('complaint_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('flagged_at', assistant.care.core.columns.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('flag_reason', sa.Text(), nullable=True))

    _escalation_kinds(NEW_ESCALATION_KINDS)



def downgrade() -> None:
    """Revert this revision."""
    _escalation_kinds(OLD_ESCALATION_KINDS)
    with op.batch_alter_table('providers', schema=None) as batch_op:
        batch_op.drop_column('flag_reason')
        batch_op.drop_column('flagged_at')
        batch_op.drop_column('complaint_count')
        batch_op.drop_column('review_count')
        batch_op.drop_column('score')

    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviews_provider_id'))

    op.drop_table('reviews')
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaints_senior_id'))
        batch_op.drop_index(batch_op.f('ix_complaints_provider_id'))

    op.drop_table('complaints')
    with op.batch_alter_table('booking_slots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_slots_booking_id'))

    op.drop_table('booking_slots')
    with op.batch_alter_table('reminder_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_reminder_deliveries_status')

    op.drop_table('reminder_deliveries')
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminders_senior_id'))
        batch_op.drop_index('ix_reminders_due')

    op.drop_table('reminders')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_person_id'))
        batch_op.drop_index('ix_notifications_due')

    op.drop_table('notifications')
    op.drop_table('service_locks')
