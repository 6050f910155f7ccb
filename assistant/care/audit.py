"""The audit trail: one row per state change, written in the same transaction."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Optional

from sqlalchemy.orm import Session

from assistant.care.clock import require_aware, utcnow
from assistant.care.models import AuditLog

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
