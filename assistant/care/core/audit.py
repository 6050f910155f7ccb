"""The audit trail: one row per state change, written in the same transaction."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from assistant.care.core.clock import require_aware, utcnow, zone
from assistant.care.core.errors import InvalidInput
from assistant.care.core.models import AuditLog
from assistant.care.core.views import AuditEntry, clean_day, day_bounds

if TYPE_CHECKING:  # pragma: no cover
    from assistant.care.core.db import Database

ASSISTANT = "assistant"
"""Actor name for changes made by the assistant itself."""


def person_actor(person_id: int) -> str:
    """Return the actor string for a person, e.g. ``"person:12"``."""
    return f"person:{person_id}"


def coordinator_actor(name: str) -> str:
    """Return the actor string for a coordinator, e.g. ``"coordinator:alice"``."""
    return f"coordinator:{name}"


def record(
    session: Session,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: Any,
    *,
    at: Optional[datetime] = None,
    **detail: Any,
) -> AuditLog:
    """Add an audit row to ``session`` (committed with the change it describes).

    Keep ``detail`` free of personal data: ids, statuses and field names only.

    Args:
        session: The session of the change being recorded.
        actor: Who made the change, e.g. ``"assistant"``, ``"person:12"``, ``"cli"``.
        action: What happened, e.g. ``"booking.created"``.
        entity_type: Kind of entity changed, e.g. ``"booking"``.
        entity_id: Its id or reference.
        at: When it happened (default: now).
        **detail: Extra JSON-serialisable facts.
    """
    entry = AuditLog(
        at=require_aware(at, "at") if at is not None else utcnow(),
        actor=actor[:120],
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        detail=json.dumps(detail, default=str, sort_keys=True),
    )
    session.add(entry)
    return entry


def _filter_text(value: Optional[str], label: str, field: str, max_length: int) -> str:
    """Return a filter's text without outer spaces (empty when not given)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"The {label} filter must be text.", field=field)
    text = value.strip()
    if len(text) > max_length:
        raise InvalidInput(f"The {label} filter is too long.", field=field)
    return text


def _like(text: str) -> str:
    """Escape LIKE wildcards in ``text``."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class AuditLogReader:
    """Read the audit trail for coordinators, newest first.

    Args:
        db: The database.
        timezone: The timezone in which filter days are meant.
    """

    def __init__(self, db: "Database", timezone: str = "Europe/London") -> None:
        self._db = db
        self._tz = zone(timezone)

    def search(
        self,
        *,
        actor: Optional[str] = None,
        action: Optional[str] = None,
        entity: Optional[str] = None,
        date_from: object = None,
        date_to: object = None,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[list[AuditEntry], int]:
        """Return one page of audit rows (newest first) and how many match.

        Args:
            actor: Part of the actor (any letter case), e.g. ``"alice"`` or ``"coordinator:"``.
            action: The start of the action, e.g. ``"provider."`` or ``"booking.done"``.
            entity: An entity type (``"provider"``) or type and id (``"provider:12"``).
            date_from: Only rows on or after this day (``YYYY-MM-DD``).
            date_to: Only rows on or before this day.
            offset: How many rows to skip.
            limit: Page size, 1 to 500.

        Raises:
            InvalidInput: On a bad date or a too long filter (with its ``field``).
        """
        query = select(AuditLog)
        who = _filter_text(actor, "actor", "actor", 120)
        if who:
            query = query.where(func.lower(AuditLog.actor).like(f"%{_like(who.lower())}%", escape="\\"))
        what = _filter_text(action, "action", "action", 60)
        if what:
            query = query.where(AuditLog.action.like(f"{_like(what)}%", escape="\\"))
        thing = _filter_text(entity, "entity", "entity", 110)
        if thing:
            kind, _, ident = thing.partition(":")
            query = query.where(AuditLog.entity_type == kind.strip())
            if ident.strip():
                query = query.where(AuditLog.entity_id == ident.strip())
        start, end = day_bounds(
            clean_day(date_from, "first day", field="from"), clean_day(date_to, "last day", field="to"),
            self._tz, field="to",
        )
        if start is not None:
            query = query.where(AuditLog.at >= start)
        if end is not None:
            query = query.where(AuditLog.at < end)
        with self._db.reading() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(
                query.order_by(AuditLog.at.desc(), AuditLog.id.desc())
                .offset(max(0, int(offset))).limit(min(500, max(1, int(limit))))
            )
            return [
                AuditEntry(r.id, r.at, r.actor, r.action, r.entity_type, r.entity_id, r.detail) for r in rows
            ], int(total)
