"""Records deleted when their time is up (docs/privacy.md): resolved escalations after their period.

Conversation history lives in Rasa's tracker store, outside this database; the care service deletes
it on schedule (:mod:`assistant.careservice.retention`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from assistant.care.core import audit
from assistant.care.core.clock import require_aware
from assistant.care.core.models import Complaint, Escalation, EscalationNote

DEFAULT_ESCALATION_DAYS: Final = 730
"""How long a resolved escalation is kept: two years, for complaints and audits that look back."""


def delete_resolved_escalations(session: Session, resolved_before: datetime, now: datetime) -> int:
    """Delete escalations resolved before ``resolved_before``, with their notes; return how many.

    Open and claimed escalations are never deleted, however old. A complaint that pointed at one
    keeps its own record (its period is the person's, see docs/privacy.md) without the link.
    """
    require_aware(resolved_before)
    ids = list(session.scalars(
        select(Escalation.id).where(Escalation.status == "resolved", Escalation.resolved_at < resolved_before)
    ))
    if not ids:
        return 0
    options = {"synchronize_session": False}
    session.execute(update(Complaint).where(Complaint.escalation_id.in_(ids)).values(escalation_id=None),
                    execution_options=options)
    session.execute(delete(EscalationNote).where(EscalationNote.escalation_id.in_(ids)), execution_options=options)
    session.execute(delete(Escalation).where(Escalation.id.in_(ids)), execution_options=options)
    audit.record(session, audit.ASSISTANT, "escalations.expired", "escalation", "resolved", at=now,
                 deleted=len(ids), resolved_before=resolved_before.isoformat())
    return len(ids)
