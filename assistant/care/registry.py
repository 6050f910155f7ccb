"""The provider registry: who offers what, where, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Iterable, Mapping, Optional, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql import Select

from assistant.care import audit
from assistant.care.clock import require_aware, utcnow, zone
from assistant.care.db import Database
from assistant.care.diets import normalise_dietary_needs
from assistant.care.errors import InvalidInput, NotFound
from assistant.care.hours import (
    describe_hours,
    dumps_hours,
    loads_hours,
    validate_hours,
)
from assistant.care.models import Dish, DishTag, Offering, Provider, ProviderDistrict
from assistant.care.reviews import recompute
from assistant.care.scheduling import DEFAULT_TIMEZONE, provider_open
from assistant.care.validation import (
    MAX_NAME,
    MAX_TEXT,
    clean_int,
    clean_phone,
    clean_text,
)
from assistant.care.views import MealOption, OfferingView, ProviderView
from assistant.care.vocabulary import (
    DIETARY_TAGS,
    MEAL_MODES,
    MEAL_PROVIDER_KIND,
    MEAL_TYPES,
    PROVIDER_KINDS,
)


def provider_view(provider: Provider) -> ProviderView:
    """Return the frozen view of a provider (call inside the session)."""
    return ProviderView(
        provider_id=provider.id,
        name=provider.name,
        kind=provider.kind,
        phone=provider.phone,
        verified=provider.verified,
        rating=provider.rating,
        rating_count=provider.rating_count,
        districts=provider.district_names,
        opening_hours=describe_hours(loads_hours(provider.opening_hours)),
        active=provider.active,
        score=provider.score,
    )


def offering_view(offering: Offering) -> OfferingView:
    """Return the frozen view of an offering (call inside the session)."""
    provider = offering.provider
    return OfferingView(
        offering_id=offering.id,
        provider_id=provider.id,
        provider_name=provider.name,
        provider_kind=provider.kind,
        mode=offering.mode,
        name=offering.name,
        description=offering.description,
        price_cents=offering.price_cents,
        duration_minutes=offering.duration_minutes,
        verified=provider.verified,
        rating=provider.rating,
        score=provider.score,
    )


def meal_option(dish: Dish) -> MealOption:
    """Return the frozen view of a dish with its provider (call inside the session)."""
    provider = dish.provider
    return MealOption(
        dish_id=dish.id,
        dish_name=dish.name,
        description=dish.description,
        provider_id=provider.id,
        provider_name=provider.name,
        price_cents=dish.price_cents,
        tags=dish.tag_names,
        meal_type=dish.meal_type,
        verified=provider.verified,
        rating=provider.rating,
    )


def _serving(district: str) -> Select:
    """Return a subquery of provider ids serving ``district`` (any letter case)."""
    return select(ProviderDistrict.provider_id).where(
        func.lower(ProviderDistrict.district) == district.strip().lower()
    )


def _clean_kind(kind: str) -> str:
    """Return a known provider kind."""
    value = (kind or "").strip().lower()
    if value not in PROVIDER_KINDS:
        raise InvalidInput(
            f"{kind!r} is not a kind of provider. Use one of: {', '.join(PROVIDER_KINDS)}.",
            field="kind",
        )
    return value


def _clean_districts(districts: Iterable[str]) -> list[str]:
    """Return district names without blanks or repeats (first spelling wins)."""
    seen: dict[str, str] = {}
    for raw in districts:
        name = clean_text(raw, "district", MAX_NAME, field="districts", required=False)
        if name and name.casefold() not in seen:
            seen[name.casefold()] = name
    if not seen:
        raise InvalidInput("A provider needs at least one district.", field="districts")
    return list(seen.values())


def create_provider(
    session: Session,
    *,
    name: str,
    kind: str,
    districts: Iterable[str],
    phone: Optional[str] = None,
    verified: bool = False,
    opening_hours: Optional[Mapping[str, Sequence[Sequence[str]]]] = None,
    rating: float = 0.0,
    rating_count: int = 0,
    active: bool = True,
    actor: str = "cli",
) -> Provider:
    """Validate and add a provider to ``session`` (with an audit row).

    Raises:
        InvalidInput: If a value is missing, too long or unknown.
    """
    provider = Provider(
        name=clean_text(name, "provider name", MAX_NAME, field="name"),
        kind=_clean_kind(kind),
        created_at=utcnow(),
    )
    _apply_provider_fields(
        session, provider, districts=districts, phone=phone, verified=verified,
        opening_hours=opening_hours, rating=rating, rating_count=rating_count, active=active,
    )
    session.add(provider)
    session.flush()
    audit.record(session, actor, "provider.created", "provider", provider.id, kind=provider.kind)
    return provider


def _apply_provider_fields(
    session: Session,
    provider: Provider,
    *,
    districts: Iterable[str],
    phone: Optional[str],
    verified: bool,
    opening_hours: Optional[Mapping[str, Sequence[Sequence[str]]]],
    rating: float,
    rating_count: int,
    active: bool,
) -> None:
    """Validate and set the changeable fields of a provider and recompute its score."""
    spelling = {d.casefold(): d for d in session.scalars(select(ProviderDistrict.district).distinct())}
    names = [spelling.get(n.casefold(), n) for n in _clean_districts(districts)]
    try:
        rating_value = float(rating)
    except (TypeError, ValueError):
        raise InvalidInput("The rating must be a number from 0 to 5.", field="rating") from None
    if not 0.0 <= rating_value <= 5.0:
        raise InvalidInput("The rating must be a number from 0 to 5.", field="rating")
    provider.phone = clean_phone(phone)
    provider.verified = bool(verified)
    provider.opening_hours = dumps_hours(validate_hours(opening_hours or {}))
    provider.rating = rating_value
    provider.rating_count = clean_int(rating_count, "number of ratings", 0, 10**9, field="rating_count")
    provider.active = bool(active)
    current = {d.district for d in provider.districts}
    provider.districts = [d for d in provider.districts if d.district in names]
    for name in names:
        if name not in current:
            provider.districts.append(ProviderDistrict(district=name))
    recompute(session, provider)


def update_provider(session: Session, provider: Provider, *, actor: str = "cli", **fields: object) -> Provider:
    """Replace a provider's changeable fields (districts, phone, hours...) with an audit row."""
    _apply_provider_fields(session, provider, **fields)  # type: ignore[arg-type]
    session.flush()
    audit.record(session, actor, "provider.updated", "provider", provider.id, fields=sorted(fields))
    return provider


def create_offering(
    session: Session,
    provider: Provider,
    *,
    mode: str,
    name: str,
    price_cents: int,
    description: str = "",
    duration_minutes: Optional[int] = None,
    actor: str = "cli",
) -> Offering:
    """Validate and add an offering of ``provider`` (with an audit row).

    Meal providers' modes are ``delivery``, ``meal_plan``, ``chef_visit`` and
    ``table_reservation``; home-service offerings use the service name as mode.

    Raises:
        InvalidInput: If a value is missing, too long or unknown.
    """
    offering = Offering(provider=provider)
    _apply_offering_fields(
        offering, provider, mode=mode, name=name, price_cents=price_cents,
        description=description, duration_minutes=duration_minutes,
    )
    session.add(offering)
    session.flush()
    audit.record(session, actor, "offering.created", "offering", offering.id, provider_id=provider.id)
    return offering


def _apply_offering_fields(
    offering: Offering,
    provider: Provider,
    *,
    mode: str,
    name: str,
    price_cents: int,
    description: str,
    duration_minutes: Optional[int],
) -> None:
    """Validate and set the changeable fields of an offering."""
    mode_value = clean_text(mode, "offering mode", 60, field="mode").lower()
    if provider.kind == MEAL_PROVIDER_KIND and mode_value not in MEAL_MODES:
        raise InvalidInput(
            f"Meal offerings must be one of: {', '.join(MEAL_MODES)}.", field="mode"
        )
    offering.mode = mode_value
    offering.name = clean_text(name, "offering name", MAX_NAME, field="offering_name")
    offering.description = clean_text(description, "description", MAX_TEXT, field="description", required=False)
    offering.price_cents = clean_int(price_cents, "price", 0, 10**7, field="price")
    offering.duration_minutes = (
        None if duration_minutes in (None, "")
        else clean_int(duration_minutes, "duration in minutes", 1, 24 * 60, field="duration_minutes")
    )
    offering.active = True


def update_offering(session: Session, offering: Offering, *, actor: str = "cli", **fields: object) -> Offering:
    """Replace an offering's fields with an audit row."""
    _apply_offering_fields(offering, offering.provider, **fields)  # type: ignore[arg-type]
    session.flush()
    audit.record(session, actor, "offering.updated", "offering", offering.id, fields=sorted(fields))
    return offering


def create_dish(
    session: Session,
    provider: Provider,
    *,
    name: str,
    meal_type: str,
    price_cents: int,
    tags: Iterable[str] = (),
    description: str = "",
    actor: str = "cli",
) -> Dish:
    """Validate and add a dish of a meal provider (with an audit row).

    Raises:
        InvalidInput: If a value is missing, too long or unknown.
    """
    if provider.kind != MEAL_PROVIDER_KIND:
        raise InvalidInput("Only meal providers have dishes.", field="provider")
    meal = (meal_type or "").strip().lower()
    if meal not in MEAL_TYPES:
        raise InvalidInput(f"The meal must be one of: {', '.join(MEAL_TYPES)}.", field="meal_type")
    tag_list = [str(t).strip().lower() for t in tags]
    unknown = [t for t in tag_list if t not in DIETARY_TAGS]
    if unknown:
        raise InvalidInput(f"Unknown dietary tags: {', '.join(unknown)}.", field="tags")
    dish = Dish(
        provider=provider,
        name=clean_text(name, "dish name", MAX_NAME, field="name"),
        description=clean_text(description, "description", MAX_TEXT, field="description", required=False),
        meal_type=meal,
        price_cents=clean_int(price_cents, "price", 0, 10**6, field="price"),
        active=True,
        tags=[DishTag(tag=t) for t in sorted(set(tag_list))],
    )
    session.add(dish)
    session.flush()
    audit.record(session, actor, "dish.created", "dish", dish.id, provider_id=provider.id)
    return dish


class RegistryService:
    """Search and maintain the provider registry.

    Args:
        db: The database.
        timezone: IANA name of the deployment timezone, in which providers'
            opening hours are written.
    """

    def __init__(self, db: Database, timezone: str = DEFAULT_TIMEZONE) -> None:
        self._db = db
        self._tz = zone(timezone)

    def meal_options(
        self,
        district: str,
        dietary_needs: Sequence[str],
        meal_type: Optional[str] = None,
        at: Optional[datetime] = None,
        limit: int = 6,
    ) -> list[MealOption]:
        """Return dishes a senior in ``district`` with these needs can order.

        Only active dishes of active meal providers serving the district that
        carry every one of the dietary tags. With ``at``, only providers open at
        that moment. Verified providers first, then by rating, then cheapest.

        Raises:
            InvalidInput: On an unknown dietary need or meal type.
        """
        needs = normalise_dietary_needs(dietary_needs)
        if meal_type is not None and meal_type not in MEAL_TYPES:
            raise InvalidInput(f"The meal must be one of: {', '.join(MEAL_TYPES)}.", field="meal_type")
        if at is not None:
            at = require_aware(at, "at")
        query = (
            select(Dish)
            .join(Provider, Dish.provider_id == Provider.id)
            .where(
                Dish.active.is_(True),
                Provider.active.is_(True),
                Provider.kind == MEAL_PROVIDER_KIND,
                Provider.id.in_(_serving(district)),
            )
            .options(selectinload(Dish.tags), selectinload(Dish.provider))
            .order_by(Provider.verified.desc(), Provider.rating.desc(), Dish.price_cents, Dish.name, Dish.id)
        )
        for tag in needs:
            query = query.where(Dish.id.in_(select(DishTag.dish_id).where(DishTag.tag == tag)))
        if meal_type is not None:
            query = query.where(Dish.meal_type == meal_type)
        options: list[MealOption] = []
        with self._db.session() as session:
            for dish in session.scalars(query):
                if at is not None and not provider_open(dish.provider, at, self._tz):
                    continue
                options.append(meal_option(dish))
                if len(options) >= limit:
                    break
        return options

    def offerings(
        self,
        district: str,
        *,
        kind: Optional[str] = None,
        mode: Optional[str] = None,
        at: Optional[datetime] = None,
    ) -> list[OfferingView]:
        """Return active offerings available in ``district``, best providers first.

        Args:
            district: The senior's district.
            kind: Only providers of this kind (``meal``, ``cleaning``...).
            mode: Only offerings of this mode (``chef_visit``, a service name...).
            at: Only providers open at this moment.
        """
        query = (
            select(Offering)
            .join(Provider, Offering.provider_id == Provider.id)
            .where(
                Offering.active.is_(True),
                Provider.active.is_(True),
                Provider.id.in_(_serving(district)),
            )
            .options(selectinload(Offering.provider))
            .order_by(Provider.verified.desc(), Provider.rating.desc(), Offering.price_cents, Offering.id)
        )
        if kind is not None:
            query = query.where(Provider.kind == _clean_kind(kind))
        if mode is not None:
            query = query.where(func.lower(Offering.mode) == mode.strip().lower())
        if at is not None:
            at = require_aware(at, "at")
        with self._db.session() as session:
            return [
                offering_view(o)
                for o in session.scalars(query)
                if at is None or provider_open(o.provider, at, self._tz)
            ]

    def catering_offerings(self, district: str, mode: str) -> list[OfferingView]:
        """Return chef-visit or table-reservation offerings in ``district``.

        Raises:
            InvalidInput: If ``mode`` is not ``chef_visit`` or ``table_reservation``.
        """
        if mode not in ("chef_visit", "table_reservation"):
            raise InvalidInput("Choose a chef visit or a table reservation.", field="mode")
        return self.offerings(district, kind=MEAL_PROVIDER_KIND, mode=mode)

    def providers(self, kind: Optional[str] = None, district: Optional[str] = None) -> list[ProviderView]:
        """Return active providers, optionally of one kind and serving one district."""
        query = (
            select(Provider)
            .where(Provider.active.is_(True))
            .options(selectinload(Provider.districts))
            .order_by(Provider.verified.desc(), Provider.rating.desc(), Provider.name)
        )
        if kind is not None:
            query = query.where(Provider.kind == _clean_kind(kind))
        if district is not None:
            query = query.where(Provider.id.in_(_serving(district)))
        with self._db.session() as session:
            return [provider_view(p) for p in session.scalars(query)]

    def add_provider(
        self,
        name: str,
        kind: str,
        districts: Sequence[str],
        *,
        phone: Optional[str] = None,
        verified: bool = False,
        opening_hours: Optional[Mapping[str, Sequence[Sequence[str]]]] = None,
        rating: float = 0.0,
        rating_count: int = 0,
        actor: str = "cli",
    ) -> ProviderView:
        """Add a provider to the registry.

        Raises:
            InvalidInput: If a value is missing, too long or unknown, or a
                provider with this name and kind exists.
        """
        with self._db.session() as session:
            clean_name = clean_text(name, "provider name", MAX_NAME, field="name")
            existing = session.scalar(
                select(Provider.id).where(
                    func.lower(Provider.name) == clean_name.lower(), Provider.kind == _clean_kind(kind)
                )
            )
            if existing is not None:
                raise InvalidInput(f"{clean_name} is already in the registry.", field="name")
            provider = create_provider(
                session, name=clean_name, kind=kind, districts=districts, phone=phone,
                verified=verified, opening_hours=opening_hours, rating=rating,
                rating_count=rating_count, actor=actor,
            )
            view = provider_view(provider)
        return view

    def add_offering(
        self,
        provider_id: int,
        mode: str,
        name: str,
        price_cents: int,
        *,
        description: str = "",
        duration_minutes: Optional[int] = None,
        actor: str = "cli",
    ) -> OfferingView:
        """Add an offering to a provider.

        Raises:
            NotFound: If there is no such provider.
            InvalidInput: If a value is missing, too long or unknown.
        """
        with self._db.session() as session:
            provider = session.get(Provider, provider_id)
            if provider is None:
                raise NotFound("There is no such provider.")
            offering = create_offering(
                session, provider, mode=mode, name=name, price_cents=price_cents,
                description=description, duration_minutes=duration_minutes, actor=actor,
            )
            view = offering_view(offering)
        return view

    def add_dish(
        self,
        provider_id: int,
        name: str,
        meal_type: str,
        price_cents: int,
        *,
        tags: Sequence[str] = (),
        description: str = "",
        actor: str = "cli",
    ) -> MealOption:
        """Add a dish to a meal provider.

        Raises:
            NotFound: If there is no such provider.
            InvalidInput: If a value is missing, too long or unknown.
        """
        with self._db.session() as session:
            provider = session.get(Provider, provider_id)
            if provider is None:
                raise NotFound("There is no such provider.")
            dish = create_dish(
                session, provider, name=name, meal_type=meal_type, price_cents=price_cents,
                tags=tags, description=description, actor=actor,
            )
            view = meal_option(dish)
        return view

    def set_active(self, provider_id: int, active: bool, *, actor: str = "cli") -> ProviderView:
        """Take a provider out of (or back into) the registry's results.

        Raises:
            NotFound: If there is no such provider.
        """
        with self._db.session() as session:
            provider = session.get(Provider, provider_id)
            if provider is None:
                raise NotFound("There is no such provider.")
            if provider.active != bool(active):
                provider.active = bool(active)
                audit.record(
                    session, actor, "provider.activated" if active else "provider.deactivated",
                    "provider", provider.id,
                )
            view = provider_view(provider)
        return view
