"""Demo registry data for local use, loaded from ``data/registry/demo_providers.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final, Mapping, Optional

import yaml
from sqlalchemy import func, select

from assistant.care.core.db import Database
from assistant.care.core.errors import InvalidInput
from assistant.care.registry.hours import parse_hours_text
from assistant.care.core.models import Provider
from assistant.care.registry.registry import create_dish, create_offering, create_provider
from assistant.care.reviews.reviews import recompute_all
from assistant.care.core.validation import parse_price
from assistant.care.core.vocabulary import MEAL_PROVIDER_KIND

DEMO_FILE: Final = Path(__file__).resolve().parents[3] / "data" / "registry" / "demo_providers.yaml"
ACTOR: Final = "seed"
PROVIDER_KEYS: Final = frozenset(
    {"name", "kind", "districts", "phone", "verified", "rating", "rating_count", "hours", "dishes", "offerings"}
)
DISH_KEYS: Final = frozenset({"name", "meal", "price", "tags", "description"})
OFFERING_KEYS: Final = frozenset({"mode", "name", "price", "duration", "description"})


def load_demo_data(db: Database, path: Optional[Path] = None) -> dict[str, int]:
    """Fill an empty registry with the demo providers, dishes and offerings.

    Each provider's score (:mod:`assistant.care.reviews.reviews`) is computed as it is
    created. When any provider exists nothing is loaded, so it is safe to call at
    every start; only the scores are recomputed (which fills them in for a
    registry loaded before scores existed).

    Args:
        db: The database (tables must exist).
        path: The YAML file (default: ``data/registry/demo_providers.yaml``).

    Returns:
        Counts of what was created (providers, meal_providers,
        home_service_providers, dishes, offerings, districts); empty when the
        registry already had providers.
    """
    with db.session() as session:
        if session.scalar(select(func.count(Provider.id))):
            recompute_all(session)
            return {}
        counts = dict.fromkeys(
            ("providers", "meal_providers", "home_service_providers", "dishes", "offerings", "districts"), 0
        )
        data = _read(path or DEMO_FILE)
        districts: set[str] = set()
        entries = [(MEAL_PROVIDER_KIND, e) for e in data.get("meal_providers", [])]
        entries += [(e.get("kind", ""), e) for e in data.get("home_service_providers", [])]
        for kind, entry in entries:
            _check_keys(entry, PROVIDER_KEYS)
            provider = create_provider(
                session,
                name=entry["name"],
                kind=kind,
                districts=entry["districts"],
                phone=entry.get("phone"),
                verified=bool(entry.get("verified", False)),
                opening_hours=parse_hours_text(entry["hours"]),
                rating=float(entry.get("rating", 0)),
                rating_count=int(entry.get("rating_count", 0)),
                actor=ACTOR,
            )
            counts["providers"] += 1
            counts["meal_providers" if kind == MEAL_PROVIDER_KIND else "home_service_providers"] += 1
            districts.update(provider.district_names)
            for dish in entry.get("dishes", []):
                _check_keys(dish, DISH_KEYS)
                create_dish(
                    session, provider, name=dish["name"], meal_type=dish["meal"],
                    price_cents=parse_price(dish["price"]), tags=dish.get("tags") or (),
                    description=dish.get("description", ""), actor=ACTOR,
                )
                counts["dishes"] += 1
            for offering in entry.get("offerings", []):
                _check_keys(offering, OFFERING_KEYS)
                create_offering(
                    session, provider, mode=offering.get("mode", kind), name=offering["name"],
                    price_cents=parse_price(offering["price"]),
                    description=offering.get("description", ""),
                    duration_minutes=offering.get("duration"), actor=ACTOR,
                )
                counts["offerings"] += 1
        counts["districts"] = len(districts)
    return counts


def _read(path: Path) -> Mapping[str, Any]:
    """Return the parsed YAML file."""
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{path} does not hold a provider list.")
    return data


def _check_keys(entry: Mapping[str, Any], allowed: frozenset[str]) -> None:
    """Refuse misspelt keys or values cut by a stray comma in the YAML."""
    unknown = sorted(str(k) for k in entry if k not in allowed)
    empty = sorted(str(k) for k, v in entry.items() if v is None)
    if unknown or empty:
        raise InvalidInput(
            f"Demo entry {entry.get('name')!r} has unknown keys {unknown} or empty values {empty}."
        )
