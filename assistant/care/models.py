"""SQLAlchemy models of the care domain (SQLAlchemy 1.4, 2.0 style).

Services never hand these objects out of a session: they return the frozen
views of :mod:`assistant.care.views` instead.
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

from assistant.care.clock import utcnow
from assistant.care.columns import UTCDateTime
from assistant.care.vocabulary import (
    BOOKING_KINDS,
    BOOKING_STATUSES,
    DIETARY_TAGS,
    ESCALATION_KINDS,
    ESCALATION_STATUSES,
    MEAL_TYPES,
    PROVIDER_KINDS,
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


class Escalation(Base):
    """A request for a human care coordinator."""

    __tablename__ = "escalations"
    __table_args__ = (
        CheckConstraint(_one_of("kind", ESCALATION_KINDS), name="kind"),
        CheckConstraint(_one_of("status", ESCALATION_STATUSES), name="status"),
        CheckConstraint("priority BETWEEN 1 AND 4", name="priority"),
        Index("ix_escalations_queue", "status", "priority", "created_at"),
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
