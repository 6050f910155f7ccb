"""Initial care schema: people, profiles, registry, bookings, escalations, audit log.

Revision ID: 0001
Revises: -
Create Date: 2025-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import assistant.care.core.columns

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', assistant.care.core.columns.UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('entity_type', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index('ix_audit_log_entity', 'audit_log', ['entity_type', 'entity_id'], unique=False)

    op.create_table('persons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('conversation_id', sa.String(length=255), nullable=True),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('created_at', assistant.care.core.columns.UTCDateTime(), nullable=False),
    sa.CheckConstraint("role IN ('senior', 'relative', 'coordinator')", name=op.f('ck_persons_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_persons')),
    sa.UniqueConstraint('conversation_id', name=op.f('uq_persons_conversation_id'))
    )
    op.create_table('providers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('verified', sa.Boolean(), nullable=False),
    sa.Column('rating', sa.Float(), nullable=False),
    sa.Column('rating_count', sa.Integer(), nullable=False),
    sa.Column('opening_hours', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', assistant.care.core.columns.UTCDateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('meal', 'cleaning', 'laundry', 'repair', 'hairdressing', 'beauty')", name=op.f('ck_providers_kind')),
    sa.CheckConstraint('rating >= 0 AND rating <= 5', name=op.f('ck_providers_rating')),
    sa.CheckConstraint('rating_count >= 0', name=op.f('ck_providers_rating_count')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_providers')),
    sa.UniqueConstraint('name', 'kind', name='uq_providers_name_kind')
    )
    op.create_table('dishes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('meal_type', sa.String(length=20), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint("meal_type IN ('breakfast', 'lunch', 'dinner')", name=op.f('ck_dishes_meal_type')),
    sa.CheckConstraint('price_cents >= 0', name=op.f('ck_dishes_price_cents')),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_dishes_provider_id_providers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dishes'))
    )
    op.create_index(op.f('ix_dishes_provider_id'), 'dishes', ['provider_id'], unique=False)

    op.create_table('escalations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('conversation_id', sa.String(length=255), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('created_at', assistant.care.core.columns.UTCDateTime(), nullable=False),
    sa.Column('claimed_by', sa.String(length=120), nullable=True),
    sa.Column('claimed_at', assistant.care.core.columns.UTCDateTime(), nullable=True),
    sa.Column('resolved_at', assistant.care.core.columns.UTCDateTime(), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.CheckConstraint("kind IN ('emergency', 'talk_to_human', 'complaint', 'consultation', 'missed_medication', 'unmatched_booking', 'service_request')", name=op.f('ck_escalations_kind')),
    sa.CheckConstraint("status IN ('open', 'claimed', 'resolved')", name=op.f('ck_escalations_status')),
    sa.CheckConstraint('priority BETWEEN 1 AND 4', name=op.f('ck_escalations_priority')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_escalations_person_id_persons'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalations')),
    sa.UniqueConstraint('reference', name=op.f('uq_escalations_reference'))
    )
    op.create_index(op.f('ix_escalations_conversation_id'), 'escalations', ['conversation_id'], unique=False)
    op.create_index('ix_escalations_queue', 'escalations', ['status', 'priority', 'created_at'], unique=False)

    op.create_table('offerings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint('duration_minutes IS NULL OR duration_minutes > 0', name=op.f('ck_offerings_duration')),
    sa.CheckConstraint('price_cents >= 0', name=op.f('ck_offerings_price_cents')),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_offerings_provider_id_providers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offerings'))
    )
    op.create_index(op.f('ix_offerings_provider_id'), 'offerings', ['provider_id'], unique=False)

    op.create_table('provider_districts',
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('district', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_provider_districts_provider_id_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('provider_id', 'district', name=op.f('pk_provider_districts'))
    )
    op.create_index(op.f('ix_provider_districts_district'), 'provider_districts', ['district'], unique=False)

    op.create_table('relative_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('senior_id', sa.Integer(), nullable=False),
    sa.Column('relative_id', sa.Integer(), nullable=False),
    sa.Column('relationship', sa.String(length=60), nullable=False),
    sa.Column('created_at', assistant.care.core.columns.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['relative_id'], ['persons.id'], name=op.f('fk_relative_links_relative_id_persons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['senior_id'], ['persons.id'], name=op.f('fk_relative_links_senior_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_relative_links')),
    sa.UniqueConstraint('senior_id', 'relative_id', name='uq_relative_links_pair')
    )
    op.create_table('senior_profiles',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('full_name', sa.String(length=120), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('district', sa.String(length=120), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('dietary_needs', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('voice_replies', sa.Boolean(), nullable=False),
    sa.Column('consent_care_data', sa.Boolean(), nullable=False),
    sa.Column('consent_care_data_at', assistant.care.core.columns.UTCDateTime(), nullable=True),
    sa.Column('consent_health_data', sa.Boolean(), nullable=False),
    sa.Column('consent_health_data_at', assistant.care.core.columns.UTCDateTime(), nullable=True),
    sa.Column('updated_at', assistant.care.core.columns.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_senior_profiles_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_senior_profiles'))
    )
    op.create_table('bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=16), nullable=False),
    sa.Column('senior_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=True),
    sa.Column('dish_id', sa.Integer(), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('party_size', sa.Integer(), nullable=True),
    sa.Column('starts_at', assistant.care.core.columns.UTCDateTime(), nullable=False),
    sa.Column('ends_at', assistant.care.core.columns.UTCDateTime(), nullable=False),
    sa.Column('recurrence', sa.String(length=60), nullable=True),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('fees_cents', sa.Integer(), nullable=False),
    sa.Column('created_at', assistant.care.core.columns.UTCDateTime(), nullable=False),
    sa.Column('updated_at', assistant.care.core.columns.UTCDateTime(), nullable=False),
    sa.Column('cancelled_at', assistant.care.core.columns.UTCDateTime(), nullable=True),
    sa.CheckConstraint("kind IN ('meal_delivery', 'meal_plan', 'chef_visit', 'table_reservation', 'cleaning', 'laundry', 'repair', 'hairdressing', 'beauty')", name=op.f('ck_bookings_kind')),
    sa.CheckConstraint("status IN ('requested', 'confirmed', 'assigned', 'in_progress', 'done', 'cancelled')", name=op.f('ck_bookings_status')),
    sa.CheckConstraint('ends_at >= starts_at', name=op.f('ck_bookings_window')),
    sa.CheckConstraint('party_size IS NULL OR party_size > 0', name=op.f('ck_bookings_party_size')),
    sa.CheckConstraint('price_cents >= 0 AND fees_cents >= 0', name=op.f('ck_bookings_money')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_bookings_quantity')),
    sa.ForeignKeyConstraint(['created_by_id'], ['persons.id'], name=op.f('fk_bookings_created_by_id_persons')),
    sa.ForeignKeyConstraint(['dish_id'], ['dishes.id'], name=op.f('fk_bookings_dish_id_dishes')),
    sa.ForeignKeyConstraint(['offering_id'], ['offerings.id'], name=op.f('fk_bookings_offering_id_offerings')),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_bookings_provider_id_providers')),
    sa.ForeignKeyConstraint(['senior_id'], ['persons.id'], name=op.f('fk_bookings_senior_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings')),
    sa.UniqueConstraint('reference', name=op.f('uq_bookings_reference'))
    )
    op.create_index(op.f('ix_bookings_provider_id'), 'bookings', ['provider_id'], unique=False)
    op.create_index('ix_bookings_senior_status', 'bookings', ['senior_id', 'status'], unique=False)

    op.create_table('dish_tags',
    sa.Column('dish_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=40), nullable=False),
    sa.CheckConstraint("tag IN ('diabetic-friendly', 'low-salt', 'soft', 'vegetarian', 'halal')", name=op.f('ck_dish_tags_tag')),
    sa.ForeignKeyConstraint(['dish_id'], ['dishes.id'], name=op.f('fk_dish_tags_dish_id_dishes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('dish_id', 'tag', name=op.f('pk_dish_tags'))
    )
    op.create_index(op.f('ix_dish_tags_tag'), 'dish_tags', ['tag'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f('ix_dish_tags_tag'), table_name='dish_tags')
    op.drop_table('dish_tags')
    op.drop_index('ix_bookings_senior_status', table_name='bookings')
    op.drop_index(op.f('ix_bookings_provider_id'), table_name='bookings')
    op.drop_table('bookings')
    op.drop_table('senior_profiles')
    op.drop_table('relative_links')
    op.drop_index(op.f('ix_provider_districts_district'), table_name='provider_districts')
    op.drop_table('provider_districts')
    op.drop_index(op.f('ix_offerings_provider_id'), table_name='offerings')
    op.drop_table('offerings')
    op.drop_index('ix_escalations_queue', table_name='escalations')
    op.drop_index(op.f('ix_escalations_conversation_id'), table_name='escalations')
    op.drop_table('escalations')
    op.drop_index(op.f('ix_dishes_provider_id'), table_name='dishes')
    op.drop_table('dishes')
    op.drop_table('providers')
    op.drop_table('persons')
    op.drop_index('ix_audit_log_entity', table_name='audit_log')
    op.drop_table('audit_log')
