"""The provider registry: who offers what, where, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Iterable, Mapping, Optional, Sequence, Union

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql import Select

from assistant.care.core import audit
from assistant.care.core.clock import require_aware, utcnow, zone
from assistant.care.core.db import Database
from assistant.care.people.diets import normalise_dietary_needs
from assistant.care.core.errors import InvalidInput, NotFound
from assistant.care.registry.hours import (
    Hours,
    describe_hours,
    dumps_hours,
    loads_hours,
    parse_hours_text,
    validate_hours,
)
from assistant.care.core.models import Dish, DishTag, Offering, Provider, ProviderDistrict
from assistant.care.reviews.reviews import recompute
from assistant.care.registry.scheduling import DEFAULT_TIMEZONE, provider_open
from assistant.care.core.validation import (
    MAX_NAME,
    MAX_TEXT,
    clean_int,
    clean_phone,
    clean_text,
    parse_price,
)
from assistant.care.core.views import (
    MealOption,
    OfferingRecord,
    OfferingView,
    ProviderRecord,
    ProviderView,
    record_id,
)
from assistant.care.core.vocabulary import (
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


def provider_record(provider: Provider) -> ProviderRecord:
    """Return what coordinators see of a provider (call inside the session)."""
    return ProviderRecord(
        provider_id=provider.id, name=provider.name, kind=provider.kind, phone=provider.phone,
        verified=provider.verified, active=provider.active, districts=provider.district_names,
        opening_hours=describe_hours(loads_hours(provider.opening_hours)), score=provider.score,
        review_count=provider.review_count, complaint_count=provider.complaint_count,
        rating=provider.rating, rating_count=provider.rating_count,
        flagged=provider.flagged_at is not None, flagged_at=provider.flagged_at,
        flag_reason=provider.flag_reason, created_at=provider.created_at,
        offerings=tuple(
            OfferingRecord(o.id, o.mode, o.name, o.price_cents, o.duration_minutes, o.active)
            for o in sorted(provider.offerings, key=lambda o: (o.name.lower(), o.id))
        ),
    )


PROVIDER_FIELDS: Final = (
    "name", "kind", "districts", "opening_hours", "phone", "verified", "active", "offering_prices",
)
"""What coordinators may set on a provider (the console's form and JSON API)."""

_TRUE: Final = frozenset({"yes", "y", "true", "1", "on"})
_FALSE: Final = frozenset({"no", "n", "false", "0", "off", ""})
NOT_FOUND_MESSAGE: Final = "There is no such provider."
HOURS_EXAMPLE: Final = 'Write opening hours like "mon-fri 08:00-18:00; sat 09:00-13:00", or "closed".'


def clean_flag(value: object, label: str, *, field: str) -> bool:
    """Return a yes/no answer as a bool (``True``, ``"yes"``, ``"on"``, ``"0"``...).

    Raises:
        InvalidInput: If it is neither yes nor no.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise InvalidInput(f"Please answer yes or no for {label}.", field=field)


def clean_districts_input(value: object) -> list[str]:
    """Return districts given as a list or as text separated by ``;`` or ``,``.

    Raises:
        InvalidInput: If there is no district, or one is too long.
    """
    if isinstance(value, str):
        parts: list[Any] = value.replace(",", ";").split(";")
    elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        parts = list(value)
    else:
        raise InvalidInput("Give the districts as a list of names.", field="districts")
    return _clean_districts(parts)


def clean_hours_input(value: object) -> Hours:
    """Return opening hours given as text (``"mon-fri 08:00-18:00; sat 09:00-13:00"``) or a mapping.

    ``"closed"`` means never open (the provider is then never offered).

    Raises:
        InvalidInput: If they cannot be read.
    """
    if isinstance(value, Mapping):
        try:
            return validate_hours(value)
        except (TypeError, ValueError):
            raise InvalidInput(
                'Give each weekday a list of [start, end] times, e.g. {"mon": [["08:00", "18:00"]]}.',
                field="opening_hours",
            ) from None
    if not isinstance(value, str):
        raise InvalidInput(HOURS_EXAMPLE, field="opening_hours")
    text = value.strip()
    if len(text) > MAX_TEXT:
        raise InvalidInput("Those opening hours are too long.", field="opening_hours")
    if text.lower() == "closed":
        return {}
    try:
        return parse_hours_text(text)
    except InvalidInput as error:
        raise InvalidInput(f"{error.message} {HOURS_EXAMPLE}", field="opening_hours") from None


def _clean_prices(value: object) -> dict[int, int]:
    """Return offering prices given as ``{offering_id: "12.50"}``, in cents."""
    if not isinstance(value, Mapping):
        raise InvalidInput("Give offering prices as offering id to price.", field="offering_prices")
    prices: dict[int, int] = {}
    for key, price in value.items():
        try:
            offering_id = record_id(key, "")
        except NotFound:
            raise InvalidInput(f"{key!r} is not an offering id.", field="offering_prices") from None
        if isinstance(price, bool) or not isinstance(price, (str, int, float)) or str(price).strip() == "":
            raise InvalidInput("Each offering needs a price such as 12.50.", field="offering_prices")
        cents = parse_price(price, field="offering_prices")
        if cents > 10**7:
            raise InvalidInput("That price is too high.", field="offering_prices")
        prices[offering_id] = cents
    return prices


def clean_provider_input(data: Mapping[str, object], *, partial: bool) -> dict[str, Any]:
    """Check what a coordinator sent for a provider; return the cleaned values.

    Args:
        data: Field name to value (see :data:`PROVIDER_FIELDS`); text or JSON values.
        partial: An edit (only the fields given change) rather than a new provider.

    Raises:
        InvalidInput: On an unknown field, or a missing or wrong value (with its ``field``).
    """
    if not isinstance(data, Mapping):
        raise InvalidInput("Send the provider's fields as an object.", field="body")
    for key in data:
        if key not in PROVIDER_FIELDS:
            raise InvalidInput(f"{str(key)[:60]!r} is not a field of a provider.", field=str(key)[:60])
    if not partial:
        for key in ("name", "kind", "districts", "opening_hours"):
            if key not in data:
                raise InvalidInput(f"Please give the provider's {key.replace('_', ' ')}.", field=key)
    cleaned: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("name", "kind", "phone") and value is not None and not isinstance(value, str):
            raise InvalidInput(f"The {key} must be text.", field=key)
        if key == "name":
            cleaned[key] = clean_text(value, "provider name", MAX_NAME, field="name")  # type: ignore[arg-type]
        elif key == "kind":
            cleaned[key] = _clean_kind(value)  # type: ignore[arg-type]
        elif key == "districts":
            cleaned[key] = clean_districts_input(value)
        elif key == "opening_hours":
            cleaned[key] = clean_hours_input(value)
        elif key == "phone":
            cleaned[key] = clean_phone(value)  # type: ignore[arg-type]
        elif key in ("verified", "active"):
            cleaned[key] = clean_flag(value, f"{key} provider" if key == "verified" else "active", field=key)
        elif key == "offering_prices":
            cleaned[key] = _clean_prices(value)
    return cleaned


def _check_unique(session: Session, name: str, kind: str, exclude_id: Optional[int] = None) -> None:
    """Refuse a second provider with the same name (any case) and kind."""
    query = select(Provider.id).where(func.lower(Provider.name) == name.lower(), Provider.kind == kind)
    if exclude_id is not None:
        query = query.where(Provider.id != exclude_id)
    if session.scalar(query) is not None:
        raise InvalidInput(f"{name} is already in the registry.", field="name")


def dishes_for(
    session: Session, district: str, dietary_needs: Sequence[str], meal_type: Optional[str] = None
) -> list[Dish]:
    """Active dishes of active meal providers serving ``district`` with every dietary tag, best first.

    Raises:
        InvalidInput: On an unknown dietary need or meal type.
    """
    needs = normalise_dietary_needs(dietary_needs)
    if meal_type is not None and meal_type not in MEAL_TYPES:
        raise InvalidInput(f"The meal must be one of: {', '.join(MEAL_TYPES)}.", field="meal_type")
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
    return list(session.scalars(query))


def offerings_for(session: Session, district: str, kind: Optional[str] = None, mode: Optional[str] = None) -> list[Offering]:
    """Active offerings of active providers serving ``district``, of a kind and mode if given, best first."""
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
    return list(session.scalars(query))


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
        if at is not None:
            at = require_aware(at, "at")
        options: list[MealOption] = []
        with self._db.session() as session:
            for dish in dishes_for(session, district, dietary_needs, meal_type):
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
        if at is not None:
            at = require_aware(at, "at")
        with self._db.session() as session:
            return [
                offering_view(o)
                for o in offerings_for(session, district, kind, mode)
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

    # ---- coordinators: search, look at, add and edit ------------------------------------------

    def search(
        self,
        text: str = "",
        *,
        kind: Optional[str] = None,
        district: Optional[str] = None,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[list[ProviderRecord], int]:
        """Return one page of providers (active or not) by name, and how many match.

        Args:
            text: Part of the name (any letter case); empty matches all.
            kind: Only this kind of provider.
            district: Only providers serving this district.
            offset: How many to skip.
            limit: Page size, 1 to 500.

        Raises:
            InvalidInput: On an unknown kind or a too long search text.
        """
        query = select(Provider)
        name = clean_text(text, "search text", MAX_NAME, field="q", required=False)
        if name:
            escaped = name.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(func.lower(Provider.name).like(f"%{escaped}%", escape="\\"))
        if kind:
            query = query.where(Provider.kind == _clean_kind(kind))
        if district:
            place = clean_text(district, "district", MAX_NAME, field="district")
            query = query.where(Provider.id.in_(_serving(place)))
        with self._db.reading() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(
                query.options(selectinload(Provider.districts), selectinload(Provider.offerings))
                .order_by(func.lower(Provider.name), Provider.id)
                .offset(max(0, int(offset))).limit(min(500, max(1, int(limit))))
            )
            return [provider_record(p) for p in rows], int(total)

    def record(self, provider_id: Union[int, str]) -> ProviderRecord:
        """Return one provider with its reputation and offerings.

        Raises:
            NotFound: If there is no such provider (or the id is not a number).
        """
        pid = record_id(provider_id, NOT_FOUND_MESSAGE)
        with self._db.reading() as session:
            provider = session.get(Provider, pid)
            if provider is None:
                raise NotFound(NOT_FOUND_MESSAGE)
            return provider_record(provider)

    def create(self, data: Mapping[str, object], *, actor: str) -> ProviderRecord:
        """Add a provider from a coordinator's form or API call (see :func:`clean_provider_input`).

        Raises:
            InvalidInput: On a missing, wrong or duplicate value.
        """
        values = clean_provider_input(data, partial=False)
        if values.get("offering_prices"):
            raise InvalidInput("A new provider has no offerings yet.", field="offering_prices")
        with self._db.session() as session:
            _check_unique(session, values["name"], values["kind"])
            provider = create_provider(
                session, name=values["name"], kind=values["kind"], districts=values["districts"],
                phone=values.get("phone"), verified=values.get("verified", False),
                opening_hours=values["opening_hours"], active=values.get("active", True), actor=actor,
            )
            record = provider_record(provider)
        return record

    def edit(self, provider_id: Union[int, str], data: Mapping[str, object], *, actor: str) -> ProviderRecord:
        """Change some of a provider's fields (only those given); audited with the changed names.

        Raises:
            NotFound: If there is no such provider or offering.
            InvalidInput: On a wrong or duplicate value, or a kind change of a provider with offerings.
        """
        pid = record_id(provider_id, NOT_FOUND_MESSAGE)
        values = clean_provider_input(data, partial=True)
        with self._db.session() as session:
            provider = session.get(Provider, pid)
            if provider is None:
                raise NotFound(NOT_FOUND_MESSAGE)
            before = provider_record(provider)
            name, kind = values.get("name", provider.name), values.get("kind", provider.kind)
            if kind != provider.kind and (provider.offerings or provider.dishes):
                raise InvalidInput(
                    "This provider already has offerings, so its kind cannot change. Add a new provider instead.",
                    field="kind",
                )
            if (name.lower(), kind) != (provider.name.lower(), provider.kind):
                _check_unique(session, name, kind, exclude_id=provider.id)
            provider.name, provider.kind = name, kind
            _apply_provider_fields(
                session, provider,
                districts=values.get("districts", provider.district_names),
                phone=values["phone"] if "phone" in values else provider.phone,
                verified=values.get("verified", provider.verified),
                opening_hours=values.get("opening_hours", loads_hours(provider.opening_hours)),
                rating=provider.rating, rating_count=provider.rating_count,
                active=values.get("active", provider.active),
            )
            offerings = {o.id: o for o in provider.offerings}
            for offering_id, cents in values.get("offering_prices", {}).items():
                offering = offerings.get(offering_id)
                if offering is None:
                    raise NotFound(f"This provider has no offering {offering_id}.", field="offering_prices")
                if offering.price_cents != cents:
                    update_offering(
                        session, offering, actor=actor, mode=offering.mode, name=offering.name,
                        price_cents=cents, description=offering.description,
                        duration_minutes=offering.duration_minutes,
                    )
            session.flush()
            after = provider_record(provider)
            changed = [
                f for f in ("name", "kind", "districts", "opening_hours", "phone", "verified", "active")
                if getattr(before, f) != getattr(after, f)
            ]
            if changed:
                detail: dict[str, Any] = {"fields": changed}
                if "verified" in changed:
                    detail["verified"] = after.verified
                if "active" in changed:
                    detail["active"] = after.active
                audit.record(session, actor, "provider.updated", "provider", provider.id, **detail)
            return after
