"""Import a real provider registry from a CSV file.

One row per provider and offering (repeat the provider on several rows for
several offerings). Columns::

    name, kind, districts, phone, verified, opening_hours,
    offering_name, offering_mode, price, duration_minutes

``districts`` is semicolon-separated; ``verified`` is yes/no; ``opening_hours``
reads like ``"mon-fri 08:00-18:00; sat 09:00-13:00"``; ``price`` is in euros
(``12.50``). Providers are matched by name (any letter case) and kind, and
updated in place; offerings by name within their provider. Every row is checked
and written in its own transaction: a bad row is skipped whole and reported.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Mapping, Optional, Union

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from assistant.care.core.db import Database
from assistant.care.core.errors import CareError, InvalidInput
from assistant.care.registry.hours import Hours, parse_hours_text
from assistant.care.core.models import Offering, Provider
from assistant.care.registry.registry import (
    create_offering,
    create_provider,
    update_offering,
    update_provider,
)
from assistant.care.core.validation import (
    MAX_NAME,
    clean_int,
    clean_phone,
    clean_text,
    parse_price,
)
from assistant.care.core.vocabulary import MEAL_MODES, MEAL_PROVIDER_KIND, PROVIDER_KINDS

COLUMNS: Final = (
    "name",
    "kind",
    "districts",
    "phone",
    "verified",
    "opening_hours",
    "offering_name",
    "offering_mode",
    "price",
    "duration_minutes",
)
_YES: Final = frozenset({"yes", "y", "true", "1"})
_NO: Final = frozenset({"no", "n", "false", "0", ""})


@dataclass(frozen=True)
class RowProblem:
    """A skipped row: its number in the spreadsheet (header = row 1) and why."""

    row: int
    name: str
    reason: str


@dataclass(frozen=True)
class ImportReport:
    """What an import did."""

    created: int = 0
    updated: int = 0
    skipped: tuple[RowProblem, ...] = field(default_factory=tuple)

    @property
    def imported(self) -> int:
        """Rows written (providers created or updated)."""
        return self.created + self.updated

    @property
    def errors(self) -> tuple[RowProblem, ...]:
        """The skipped rows (an alias of ``skipped``)."""
        return self.skipped

    def __str__(self) -> str:
        return self.summary()

    def summary(self) -> str:
        """Return a short report for the command line."""
        lines = [f"{self.imported} rows imported ({self.created} new providers, {self.updated} updates)."]
        if self.skipped:
            lines.append(f"{len(self.skipped)} rows skipped:")
            lines.extend(f"  row {p.row} ({p.name or 'no name'}): {p.reason}" for p in self.skipped)
        return "\n".join(lines)


@dataclass(frozen=True)
class _Row:
    """One checked CSV row."""

    name: str
    kind: str
    districts: tuple[str, ...]
    phone: Optional[str]
    verified: bool
    hours: Hours
    offering_name: str
    offering_mode: str
    price_cents: Optional[int]
    duration_minutes: Optional[int]


def import_providers_csv(db: Database, path: Union[str, Path], *, actor: str = "cli") -> ImportReport:
    """Import (create or update) providers and offerings from a CSV file.

    Args:
        db: The database.
        path: The CSV file (UTF-8, a spreadsheet's byte-order mark is fine).
        actor: Who is importing, for the audit log.

    Raises:
        InvalidInput: If the file cannot be read or lacks columns.
    """
    try:
        handle = open(path, encoding="utf-8-sig", newline="")
    except OSError as error:
        raise InvalidInput(f"I could not open {path}: {error.strerror}.") from None
    created = updated = 0
    problems: list[RowProblem] = []
    with handle:
        reader = csv.DictReader(handle)
        header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise InvalidInput(f"The file is missing these columns: {', '.join(missing)}.")
        reader.fieldnames = header
        for number, raw in enumerate(reader, start=2):
            name = (raw.get("name") or "").strip()
            try:
                row = _check_row(raw)
                with db.session() as session:
                    is_new = _write_row(session, row, actor)
            except CareError as error:
                problems.append(RowProblem(number, name, error.message))
                continue
            except SQLAlchemyError as error:
                problems.append(RowProblem(number, name, f"database refused the row ({type(error).__name__})"))
                continue
            if is_new:
                created += 1
            else:
                updated += 1
    return ImportReport(created=created, updated=updated, skipped=tuple(problems))


def _check_row(raw: Mapping[Optional[str], Any]) -> _Row:
    """Validate one row's cells."""
    if raw.get(None):
        raise InvalidInput("the row has more cells than the header.")
    cells = {k: (v or "").strip() for k, v in raw.items() if k is not None}
    name = clean_text(cells.get("name"), "provider name", MAX_NAME, field="name")
    kind = cells.get("kind", "").lower()
    if kind not in PROVIDER_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(PROVIDER_KINDS)}, not {cells.get('kind')!r}.")
    districts = tuple(d.strip() for d in cells.get("districts", "").split(";") if d.strip())
    if not districts:
        raise InvalidInput("districts is empty.")
    verified_text = cells.get("verified", "").lower()
    if verified_text not in _YES | _NO:
        raise InvalidInput(f"verified must be yes or no, not {cells.get('verified')!r}.")
    offering_name = cells.get("offering_name", "")
    offering_mode = cells.get("offering_mode", "").lower()
    price_cents: Optional[int] = None
    duration: Optional[int] = None
    if offering_name:
        if not offering_mode:
            raise InvalidInput("offering_mode is empty.")
        if kind == MEAL_PROVIDER_KIND and offering_mode not in MEAL_MODES:
            raise InvalidInput(f"offering_mode of a meal provider must be one of {', '.join(MEAL_MODES)}.")
        if not cells.get("price"):
            raise InvalidInput("price is empty.")
        price_cents = parse_price(cells["price"])
        if cells.get("duration_minutes"):
            duration = clean_int(cells["duration_minutes"], "duration in minutes", 1, 24 * 60, field="duration_minutes")
    elif any(cells.get(c) for c in ("offering_mode", "price", "duration_minutes")):
        raise InvalidInput("offering_name is empty but other offering cells are filled.")
    return _Row(
        name=name,
        kind=kind,
        districts=districts,
        phone=clean_phone(cells.get("phone")),
        verified=verified_text in _YES,
        hours=parse_hours_text(cells.get("opening_hours", "")),
        offering_name=offering_name,
        offering_mode=offering_mode,
        price_cents=price_cents,
        duration_minutes=duration,
    )


def _write_row(session: Session, row: _Row, actor: str) -> bool:
    """Create or update the row's provider and offering; return True if new."""
    provider = session.scalar(
        select(Provider).where(func.lower(Provider.name) == row.name.lower(), Provider.kind == row.kind)
    )
    is_new = provider is None
    if provider is None:
        provider = create_provider(
            session, name=row.name, kind=row.kind, districts=row.districts, phone=row.phone,
            verified=row.verified, opening_hours=row.hours, actor=actor,
        )
    else:
        update_provider(
            session, provider, actor=actor, districts=row.districts, phone=row.phone,
            verified=row.verified, opening_hours=row.hours, rating=provider.rating,
            rating_count=provider.rating_count, active=True,
        )
    if row.offering_name:
        offering = session.scalar(
            select(Offering).where(
                Offering.provider_id == provider.id,
                func.lower(Offering.name) == row.offering_name.lower(),
            )
        )
        fields = dict(
            mode=row.offering_mode, name=row.offering_name, price_cents=row.price_cents,
            description=offering.description if offering else "", duration_minutes=row.duration_minutes,
        )
        if offering is None:
            create_offering(session, provider, actor=actor, **fields)  # type: ignore[arg-type]
        else:
            update_offering(session, offering, actor=actor, **fields)
    return is_new
