"""SQLAlchemy models of the care domain (SQLAlchemy 1.4, 2.0 style).

Services never hand these objects out of a session: they return the frozen
views of :mod:`assistant.care.core.views` instead.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Iterable, Optional

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, declarative_base, relationship

from assistant.care.core.clock import utcnow
from assistant.care.core.columns import UTCDateTime
from assistant.care.core.vocabulary import (
    BOOKING_KINDS,
    BOOKING_STATUSES,
    DELIVERY_STATUSES,
    DIETARY_TAGS,
    ESCALATION_KINDS,
    ESCALATION_STATUSES,
    FAMILY_SHARES,
    INVITE_STATUSES,
    MEAL_TYPES,
    NOTIFICATION_STATUSES,
    PROVIDER_KINDS,
    REMINDER_KINDS,
    ROLES,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)
Base = declarative_base(metadata=metadata)


def _one_of(column: str, values: Iterable[str]) -> str:
    """Return the SQL text of a ``column IN (...)`` check."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Person(Base):
    """Anyone who talks to the assistant: a senior, a relative or a coordinator."""

    __tablename__ = "persons"
    __table_args__ = (CheckConstraint(_one_of("role", ROLES), name="role"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    role: Mapped[str] = Column(String(20), nullable=False)
    display_name: Mapped[str] = Column(String(120), nullable=False, default="")
    conversation_id: Mapped[Optional[str]] = Column(String(255), unique=True, nullable=True)
    channel: Mapped[str] = Column(String(40), nullable=False, default="rest")
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)

    profile: Mapped[Optional["SeniorProfile"]] = relationship(
        "SeniorProfile", back_populates="person", uselist=False, cascade="all, delete-orphan"
    )


class SeniorProfile(Base):
    """Personal data of a senior, stored only with consent (1:1 with a Person)."""

    __tablename__ = "senior_profiles"

    person_id: Mapped[int] = Column(
        Integer, ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True
    )
    full_name: Mapped[str] = Column(String(120), nullable=False)
    address: Mapped[str] = Column(String(300), nullable=False)
    district: Mapped[str] = Column(String(120), nullable=False)
    phone: Mapped[Optional[str]] = Column(String(40), nullable=True)
    dietary_needs_json: Mapped[str] = Column("dietary_needs", Text, nullable=False, default="[]")
    language: Mapped[str] = Column(String(10), nullable=False, default="en")
    timezone: Mapped[str] = Column(String(64), nullable=False)
    voice_replies: Mapped[bool] = Column(Boolean, nullable=False, default=False)
    consent_care_data: Mapped[bool] = Column(Boolean, nullable=False, default=False)
    consent_care_data_at: Mapped[Optional[datetime]] = Column(UTCDateTime, nullable=True)
    consent_health_data: Mapped[bool] = Column(Boolean, nullable=False, default=False)
    consent_health_data_at: Mapped[Optional[datetime]] = Column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)

    person: Mapped[Person] = relationship("Person", back_populates="profile")

    @property
    def dietary_needs(self) -> tuple[str, ...]:
        """The senior's dietary needs as a tuple of tags."""
        return tuple(json.loads(self.dietary_needs_json or "[]"))

    @dietary_needs.setter
    def dietary_needs(self, values: Iterable[str]) -> None:
        self.dietary_needs_json = json.dumps(list(values))


class RelativeLink(Base):
    """A relative (or friend) allowed to act for a senior."""

    __tablename__ = "relative_links"
    __table_args__ = (UniqueConstraint("senior_id", "relative_id", name="uq_relative_links_pair"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    senior_id: Mapped[int] = Column(
        Integer, ForeignKey("persons.id", ondelete="CASCADE"), nullable=False
    )
    relative_id: Mapped[int] = Column(
        Integer, ForeignKey("persons.id", ondelete="CASCADE"), nullable=False
    )
    relationship: Mapped[str] = Column(String(60), nullable=False, default="")
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)
    # What the senior shares with this relative (FAMILY_SHARES); both until the senior changes it.
    shares_json: Mapped[str] = Column(
        "shares", Text, nullable=False, default=json.dumps(list(FAMILY_SHARES)), server_default=json.dumps(list(FAMILY_SHARES))
    )

    @property
    def shares(self) -> tuple[str, ...]:
        """What this relative may see and arrange, in the order of FAMILY_SHARES."""
        chosen = set(json.loads(self.shares_json or "[]"))
        return tuple(share for share in FAMILY_SHARES if share in chosen)

    @shares.setter
    def shares(self, values: Iterable[str]) -> None:
        chosen = set(values)
        self.shares_json = json.dumps([share for share in FAMILY_SHARES if share in chosen])


class FamilyInvite(Base):
    """A one-time code a senior gives a relative so the relative can ask to be linked.

    Only a hash of the code is stored. The relative who uses it is recorded, and the link
    is made only when the senior confirms.
    """

    __tablename__ = "family_invites"
    __table_args__ = (CheckConstraint(_one_of("status", INVITE_STATUSES), name="status"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    senior_id: Mapped[int] = Column(
        Integer, ForeignKey("persons.id", ondelete="CASCADE"), nullable=False, index=True
    )
    code_hash: Mapped[str] = Column(String(64), nullable=False, unique=True)
    relationship: Mapped[str] = Column(String(60), nullable=False, default="")
    status: Mapped[str] = Column(String(20), nullable=False, default="open")
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    relative_id: Mapped[Optional[int]] = Column(
        Integer, ForeignKey("persons.id", ondelete="CASCADE"), nullable=True
    )
    relative_name: Mapped[str] = Column(String(120), nullable=False, default="")
    claimed_at: Mapped[Optional[datetime]] = Column(UTCDateTime, nullable=True)
    decided_at: Mapped[Optional[datetime]] = Column(UTCDateTime, nullable=True)


class Provider(Base):
    """A care provider from the registry (meals or a home service)."""

    __tablename__ = "providers"
    __table_args__ = (
        UniqueConstraint("name", "kind", name="uq_providers_name_kind"),
        CheckConstraint(_one_of("kind", PROVIDER_KINDS), name="kind"),
        CheckConstraint("rating >= 0 AND rating <= 5", name="rating"),
        CheckConstraint("rating_count >= 0", name="rating_count"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    name: Mapped[str] = Column(String(120), nullable=False)
    kind: Mapped[str] = Column(String(20), nullable=False)
    phone: Mapped[Optional[str]] = Column(String(40), nullable=True)
    verified: Mapped[bool] = Column(Boolean, nullable=False, default=False)
    rating: Mapped[float] = Column(Float, nullable=False, default=0.0)
    rating_count: Mapped[int] = Column(Integer, nullable=False, default=0)
    opening_hours: Mapped[str] = Column(Text, nullable=False, default="{}")
    active: Mapped[bool] = Column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)
    # ``rating``/``rating_count`` above are carried over from the provider's previous listing;
    # ``score`` is recomputed from them and our own verified reviews (see assistant.care.reviews.reviews).
    score: Mapped[float] = Column(Float, nullable=False, default=0.0, server_default="0")
    review_count: Mapped[int] = Column(Integer, nullable=False, default=0, server_default="0")
    complaint_count: Mapped[int] = Column(Integer, nullable=False, default=0, server_default="0")
    flagged_at: Mapped[Optional[datetime]] = Column(UTCDateTime, nullable=True)
    flag_reason: Mapped[Optional[str]] = Column(Text, nullable=True)

    districts: Mapped[list["ProviderDistrict"]] = relationship(
        "ProviderDistrict", cascade="all, delete-orphan", order_by="ProviderDistrict.district"
    )
    offerings: Mapped[list["Offering"]] = relationship("Offering", back_populates="provider")
    dishes: Mapped[list["Dish"]] = relationship("Dish", back_populates="provider")

    @property
    def district_names(self) -> tuple[str, ...]:
        """The districts this provider serves, sorted."""
        return tuple(sorted(d.district for d in self.districts))


class ProviderDistrict(Base):
    """A district served by a provider."""

    __tablename__ = "provider_districts"

    provider_id: Mapped[int] = Column(
        Integer, ForeignKey("providers.id", ondelete="CASCADE"), primary_key=True
    )
    district: Mapped[str] = Column(String(120), primary_key=True, index=True)


class Offering(Base):
    """Something a provider sells: a meal mode (chef visit, table) or a home service."""

    __tablename__ = "offerings"
    __table_args__ = (
        CheckConstraint("price_cents >= 0", name="price_cents"),
        CheckConstraint("duration_minutes IS NULL OR duration_minutes > 0", name="duration"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    provider_id: Mapped[int] = Column(
        Integer, ForeignKey("providers.id"), nullable=False, index=True
    )
    mode: Mapped[str] = Column(String(60), nullable=False)
    name: Mapped[str] = Column(String(120), nullable=False)
    description: Mapped[str] = Column(Text, nullable=False, default="")
    price_cents: Mapped[int] = Column(Integer, nullable=False)
    duration_minutes: Mapped[Optional[int]] = Column(Integer, nullable=True)
    active: Mapped[bool] = Column(Boolean, nullable=False, default=True)

    provider: Mapped[Provider] = relationship("Provider", back_populates="offerings")


class Dish(Base):
    """A dish a meal provider delivers."""

    __tablename__ = "dishes"
    __table_args__ = (
        CheckConstraint(_one_of("meal_type", MEAL_TYPES), name="meal_type"),
        CheckConstraint("price_cents >= 0", name="price_cents"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    provider_id: Mapped[int] = Column(
        Integer, ForeignKey("providers.id"), nullable=False, index=True
    )
    name: Mapped[str] = Column(String(120), nullable=False)
    description: Mapped[str] = Column(Text, nullable=False, default="")
    meal_type: Mapped[str] = Column(String(20), nullable=False)
    price_cents: Mapped[int] = Column(Integer, nullable=False)
    active: Mapped[bool] = Column(Boolean, nullable=False, default=True)

    provider: Mapped[Provider] = relationship("Provider", back_populates="dishes")
    tags: Mapped[list["DishTag"]] = relationship(
        "DishTag", cascade="all, delete-orphan", order_by="DishTag.tag"
    )

    @property
    def tag_names(self) -> tuple[str, ...]:
        """The dish's dietary tags, sorted."""
        return tuple(sorted(t.tag for t in self.tags))


class DishTag(Base):
    """A dietary tag carried by a dish."""

    __tablename__ = "dish_tags"
    __table_args__ = (CheckConstraint(_one_of("tag", DIETARY_TAGS), name="tag"),)

    dish_id: Mapped[int] = Column(
        Integer, ForeignKey("dishes.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = Column(String(40), primary_key=True, index=True)


class Booking(Base):
    """An order or appointment: a meal delivery, a meal plan, a visit, a reservation."""

    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint(_one_of("kind", BOOKING_KINDS), name="kind"),
        CheckConstraint(_one_of("status", BOOKING_STATUSES), name="status"),
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("party_size IS NULL OR party_size > 0", name="party_size"),
        CheckConstraint("price_cents >= 0 AND fees_cents >= 0", name="money"),
        CheckConstraint("ends_at >= starts_at", name="window"),
        Index("ix_bookings_senior_status", "senior_id", "status"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    reference: Mapped[str] = Column(String(16), nullable=False, unique=True)
    senior_id: Mapped[int] = Column(Integer, ForeignKey("persons.id"), nullable=False)
    created_by_id: Mapped[int] = Column(Integer, ForeignKey("persons.id"), nullable=False)
    kind: Mapped[str] = Column(String(30), nullable=False)
    status: Mapped[str] = Column(String(20), nullable=False, default="requested")
    provider_id: Mapped[int] = Column(
        Integer, ForeignKey("providers.id"), nullable=False, index=True
    )
    offering_id: Mapped[Optional[int]] = Column(Integer, ForeignKey("offerings.id"), nullable=True)
    dish_id: Mapped[Optional[int]] = Column(Integer, ForeignKey("dishes.id"), nullable=True)
    quantity: Mapped[int] = Column(Integer, nullable=False, default=1)
    party_size: Mapped[Optional[int]] = Column(Integer, nullable=True)
    starts_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    ends_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    recurrence: Mapped[Optional[str]] = Column(String(60), nullable=True)
    details: Mapped[str] = Column(Text, nullable=False, default="")
    price_cents: Mapped[int] = Column(Integer, nullable=False, default=0)
    fees_cents: Mapped[int] = Column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)
    cancelled_at: Mapped[Optional[datetime]] = Column(UTCDateTime, nullable=True)

    senior: Mapped[Person] = relationship("Person", foreign_keys=[senior_id])
    created_by: Mapped[Person] = relationship("Person", foreign_keys=[created_by_id])
    provider: Mapped[Provider] = relationship("Provider")
    offering: Mapped[Optional[Offering]] = relationship("Offering")
    dish: Mapped[Optional[Dish]] = relationship("Dish")


class BookingSlot(Base):
    """One fixed-length slot of a provider's time held by a booking.

    The primary key makes the database refuse a second booking of the same provider for an
    overlapping time, on SQLite and PostgreSQL alike and under concurrent sessions.
    """

    __tablename__ = "booking_slots"

    provider_id: Mapped[int] = Column(
        Integer, ForeignKey("providers.id"), primary_key=True
    )
    slot_start: Mapped[datetime] = Column(UTCDateTime, primary_key=True)
    booking_id: Mapped[int] = Column(
        Integer, ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False, index=True
    )


class Review(Base):
    """A senior's rating of a completed booking (at most one per booking)."""

    __tablename__ = "reviews"
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    booking_id: Mapped[int] = Column(
        Integer, ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    provider_id: Mapped[int] = Column(
        Integer, ForeignKey("providers.id"), nullable=False, index=True
    )
    senior_id: Mapped[int] = Column(Integer, ForeignKey("persons.id"), nullable=False)
    rating: Mapped[int] = Column(Integer, nullable=False)
    comment: Mapped[str] = Column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)


class Complaint(Base):
    """A complaint about a booking or provider; escalated to coordinators."""

    __tablename__ = "complaints"

    id: Mapped[int] = Column(Integer, primary_key=True)
    reference: Mapped[str] = Column(String(16), nullable=False, unique=True)
    senior_id: Mapped[int] = Column(Integer, ForeignKey("persons.id"), nullable=False, index=True)
    booking_id: Mapped[Optional[int]] = Column(
        Integer, ForeignKey("bookings.id", ondelete="SET NULL"), nullable=True
    )
    provider_id: Mapped[Optional[int]] = Column(
        Integer, ForeignKey("providers.id"), nullable=True, index=True
    )
    escalation_id: Mapped[Optional[int]] = Column(
        Integer, ForeignKey("escalations.id", ondelete="SET NULL"), nullable=True
    )
    text: Mapped[str] = Column(Text, nullable=False)
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)


class Escalation(Base):
    """A request for a human care coordinator."""

    __tablename__ = "escalations"
    __table_args__ = (
        CheckConstraint(_one_of("kind", ESCALATION_KINDS), name="kind"),
        CheckConstraint(_one_of("status", ESCALATION_STATUSES), name="status"),
        CheckConstraint("priority BETWEEN 1 AND 4", name="priority"),
        Index("ix_escalations_queue", "status", "priority", "created_at"),
        Index("ix_escalations_created_at", "created_at"),
        Index("ix_escalations_source_message_id", "source_message_id", unique=True),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    reference: Mapped[str] = Column(String(16), nullable=False, unique=True)
    kind: Mapped[str] = Column(String(30), nullable=False)
    priority: Mapped[int] = Column(Integer, nullable=False)
    status: Mapped[str] = Column(String(20), nullable=False, default="open")
    conversation_id: Mapped[Optional[str]] = Column(String(255), nullable=True, index=True)
    person_id: Mapped[Optional[int]] = Column(
        Integer, ForeignKey("persons.id", ondelete="SET NULL"), nullable=True
    )
    summary: Mapped[str] = Column(Text, nullable=False)
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)
    claimed_by: Mapped[Optional[str]] = Column(String(120), nullable=True)
    claimed_at: Mapped[Optional[datetime]] = Column(UTCDateTime, nullable=True)
    resolved_at: Mapped[Optional[datetime]] = Column(UTCDateTime, nullable=True)
    outcome: Mapped[Optional[str]] = Column(Text, nullable=True)
    # Set while a coordinator talks in the user's chat (the assistant stays silent there).
    handoff_by: Mapped[Optional[str]] = Column(String(120), nullable=True)
    handoff_at: Mapped[Optional[datetime]] = Column(UTCDateTime, nullable=True)
    # When an emergency was posted to the coordinators' Telegram chat (None: not yet, or not one).
    chat_alerted_at: Mapped[Optional[datetime]] = Column(UTCDateTime, nullable=True)
    # The chat message (Rasa's message id) that raised it: one escalation per emergency message, whether
    # the action recorded it at once or the care service found it in the tracker later.
    source_message_id: Mapped[Optional[str]] = Column(String(64), nullable=True)


class DangerCheck(Base):
    """A message that may be an emergency: the user was asked "are you hurt or in danger right now?".

    Open until answered; "yes", or no answer by ``deadline``, raises the full alarm (``escalation_reference``).
    """

    __tablename__ = "danger_checks"
    __table_args__ = (
        CheckConstraint("answer IS NULL OR answer IN ('yes', 'no', 'timeout')", name="answer"),
        Index("ix_danger_checks_open", "answered_at", "deadline"),
        Index("ix_danger_checks_message_id", "message_id", unique=True),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    conversation_id: Mapped[str] = Column(String(255), nullable=False, index=True)
    text: Mapped[str] = Column(Text, nullable=False)
    sign: Mapped[Optional[str]] = Column(String(40), nullable=True)
    message_id: Mapped[Optional[str]] = Column(String(64), nullable=True)
    asked_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)
    deadline: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    answered_at: Mapped[Optional[datetime]] = Column(UTCDateTime, nullable=True)
    answer: Mapped[Optional[str]] = Column(String(10), nullable=True)
    escalation_reference: Mapped[Optional[str]] = Column(String(16), nullable=True)


class UnclearMessage(Base):
    """A message the assistant was unsure of ("did you mean ...?"), kept for a coordinator to review.

    Once a person has checked which intent it meant, it can be exported as training data.
    """

    __tablename__ = "unclear_messages"
    __table_args__ = (
        CheckConstraint("status IN ('new', 'accepted', 'dismissed')", name="status"),
        Index("ix_unclear_messages_status", "status", "created_at"),
        Index("ix_unclear_messages_message_id", "message_id", unique=True),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    conversation_id: Mapped[str] = Column(String(255), nullable=False, index=True)
    text: Mapped[str] = Column(Text, nullable=False)
    guesses_json: Mapped[str] = Column(Text, nullable=False, default="[]")
    message_id: Mapped[Optional[str]] = Column(String(64), nullable=True)
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)
    chosen_intent: Mapped[Optional[str]] = Column(String(80), nullable=True)
    status: Mapped[str] = Column(String(10), nullable=False, default="new")
    intent: Mapped[Optional[str]] = Column(String(80), nullable=True)
    reviewed_by: Mapped[Optional[str]] = Column(String(120), nullable=True)
    reviewed_at: Mapped[Optional[datetime]] = Column(UTCDateTime, nullable=True)

    @property
    def guesses(self) -> list[tuple[str, float]]:
        """The classifier's likeliest intents, with their confidence."""
        return [(str(name), float(confidence)) for name, confidence in json.loads(self.guesses_json or "[]")]


class AuditLog(Base):
    """One state change: who did what to which entity. Holds no personal data."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)
    actor: Mapped[str] = Column(String(120), nullable=False)
    action: Mapped[str] = Column(String(60), nullable=False)
    entity_type: Mapped[str] = Column(String(40), nullable=False)
    entity_id: Mapped[str] = Column(String(64), nullable=False)
    detail: Mapped[str] = Column(Text, nullable=False, default="{}")


class Notification(Base):
    """A message the assistant owes a person outside a conversation turn (outbox).

    The care service delivers pending rows through Rasa's ``trigger_intent`` (``intent`` with
    ``entities``), so the conversation knows what was said; nothing is lost if Rasa is down.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(_one_of("status", NOTIFICATION_STATUSES), name="status"),
        CheckConstraint("person_id IS NOT NULL OR conversation_id IS NOT NULL", name="recipient"),
        Index("ix_notifications_due", "status", "deliver_after"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    # A known person, or (for someone not registered, e.g. in a handoff) only their conversation.
    person_id: Mapped[Optional[int]] = Column(
        Integer, ForeignKey("persons.id", ondelete="CASCADE"), nullable=True, index=True
    )
    conversation_id: Mapped[Optional[str]] = Column(String(255), nullable=True)
    kind: Mapped[str] = Column(String(40), nullable=False)
    intent: Mapped[str] = Column(String(80), nullable=False)
    entities_json: Mapped[str] = Column("entities", Text, nullable=False, default="{}")
    text: Mapped[str] = Column(Text, nullable=False, default="")
    status: Mapped[str] = Column(String(20), nullable=False, default="pending")
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)
    deliver_after: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)
    delivered_at: Mapped[Optional[datetime]] = Column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = Column(Integer, nullable=False, default=0)
    last_error: Mapped[Optional[str]] = Column(Text, nullable=True)

    @property
    def entities(self) -> dict:
        """The entities sent with the intent."""
        return dict(json.loads(self.entities_json or "{}"))

    @entities.setter
    def entities(self, values: dict) -> None:
        self.entities_json = json.dumps(values, sort_keys=True)


class Reminder(Base):
    """A medication, appointment or free reminder, or the daily wellbeing check-in."""

    __tablename__ = "reminders"
    __table_args__ = (
        CheckConstraint(_one_of("kind", REMINDER_KINDS), name="kind"),
        CheckConstraint("escalate_after_minutes IS NULL OR escalate_after_minutes > 0", name="escalate"),
        CheckConstraint("grace_minutes >= 0", name="grace"),
        Index("ix_reminders_due", "active", "next_due_at"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    senior_id: Mapped[int] = Column(
        Integer, ForeignKey("persons.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_by_id: Mapped[int] = Column(Integer, ForeignKey("persons.id"), nullable=False)
    kind: Mapped[str] = Column(String(20), nullable=False)
    title: Mapped[str] = Column(String(200), nullable=False)
    dose: Mapped[Optional[str]] = Column(String(120), nullable=True)
    location: Mapped[Optional[str]] = Column(String(200), nullable=True)
    schedule_json: Mapped[str] = Column("schedule", Text, nullable=False)
    timezone: Mapped[str] = Column(String(64), nullable=False)
    next_due_at: Mapped[Optional[datetime]] = Column(UTCDateTime, nullable=True)
    escalate_after_minutes: Mapped[Optional[int]] = Column(Integer, nullable=True)
    grace_minutes: Mapped[int] = Column(Integer, nullable=False, default=60)
    active: Mapped[bool] = Column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)
    cancelled_at: Mapped[Optional[datetime]] = Column(UTCDateTime, nullable=True)

    deliveries: Mapped[list["ReminderDelivery"]] = relationship(
        "ReminderDelivery", back_populates="reminder", cascade="all, delete-orphan",
        order_by="ReminderDelivery.due_at",
    )


class ReminderDelivery(Base):
    """One due time of a reminder and what became of it (sent, acknowledged, escalated...)."""

    __tablename__ = "reminder_deliveries"
    __table_args__ = (
        UniqueConstraint("reminder_id", "due_at", name="uq_reminder_deliveries_due"),
        CheckConstraint(_one_of("status", DELIVERY_STATUSES), name="status"),
        Index("ix_reminder_deliveries_status", "status", "due_at"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    reminder_id: Mapped[int] = Column(
        Integer, ForeignKey("reminders.id", ondelete="CASCADE"), nullable=False
    )
    due_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    status: Mapped[str] = Column(String(20), nullable=False, default="pending")
    sent_at: Mapped[Optional[datetime]] = Column(UTCDateTime, nullable=True)
    acknowledged_at: Mapped[Optional[datetime]] = Column(UTCDateTime, nullable=True)
    acknowledged_by_id: Mapped[Optional[int]] = Column(
        Integer, ForeignKey("persons.id", ondelete="SET NULL"), nullable=True
    )
    snoozed_until: Mapped[Optional[datetime]] = Column(UTCDateTime, nullable=True)
    escalated_at: Mapped[Optional[datetime]] = Column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = Column(Integer, nullable=False, default=0)
    claimed_at: Mapped[Optional[datetime]] = Column(UTCDateTime, nullable=True)
    """When the care service started sending it; cleared when that attempt failed."""
    answer: Mapped[Optional[str]] = Column(String(40), nullable=True)
    note: Mapped[str] = Column(Text, nullable=False, default="")

    reminder: Mapped[Reminder] = relationship("Reminder", back_populates="deliveries")


class ServiceLock(Base):
    """A named lock held by one long-lived process (e.g. the reminder scheduler)."""

    __tablename__ = "service_locks"

    name: Mapped[str] = Column(String(60), primary_key=True)
    holder: Mapped[str] = Column(String(200), nullable=False)
    acquired_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)
    heartbeat_at: Mapped[datetime] = Column(UTCDateTime, nullable=False)


class Coordinator(Base):
    """A care coordinator's console account (argon2id password hash, lock-out counters)."""

    __tablename__ = "coordinators"
    __table_args__ = (CheckConstraint("failed_logins >= 0", name="failed_logins"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    username: Mapped[str] = Column(String(60), nullable=False, unique=True)
    display_name: Mapped[str] = Column(String(120), nullable=False)
    password_hash: Mapped[str] = Column(String(255), nullable=False)
    failed_logins: Mapped[int] = Column(Integer, nullable=False, default=0)
    locked_until: Mapped[Optional[datetime]] = Column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)
    active: Mapped[bool] = Column(Boolean, nullable=False, default=True)
    # Raised by "log out": every session cookie signed with an older value stops working.
    session_epoch: Mapped[int] = Column(Integer, nullable=False, default=0, server_default="0")


class EscalationNote(Base):
    """A coordinator's note on an escalation (what was done, who was called)."""

    __tablename__ = "escalation_notes"

    id: Mapped[int] = Column(Integer, primary_key=True)
    escalation_id: Mapped[int] = Column(
        Integer, ForeignKey("escalations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    coordinator: Mapped[str] = Column(String(120), nullable=False)
    text: Mapped[str] = Column(Text, nullable=False)
    created_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)


class ChatSetting(Base):
    """One chat's own settings: spoken replies, their language, and the buttons of its recent messages.

    Kept per conversation (a Telegram chat), registered or not, so it is exported and deleted with
    the person (found by ``conversation_id``). ``buttons`` maps the short ``callback_data`` key of a
    button to its title and payload (JSON), newest last.
    """

    __tablename__ = "chat_settings"

    conversation_id: Mapped[str] = Column(String(255), primary_key=True)
    voice_replies: Mapped[bool] = Column(Boolean, nullable=False, default=False)
    language: Mapped[Optional[str]] = Column(String(10), nullable=True)
    buttons_json: Mapped[str] = Column("buttons", Text, nullable=False, default="{}")
    updated_at: Mapped[datetime] = Column(UTCDateTime, nullable=False, default=utcnow)
