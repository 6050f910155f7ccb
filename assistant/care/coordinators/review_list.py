"""Messages the assistant was unsure of, for a person to review and turn into training data.

Every "did you mean ...?" is kept here with the classifier's guesses (and, once known, what the user
chose). A coordinator marks the intent it really meant, or dismisses it; accepted messages are
exported in Rasa's YAML training format, so real conversations improve the model only after a
person checked them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Iterable, Optional, Sequence

from sqlalchemy import func, select

from assistant.care.core import audit
from assistant.care.core.db import CareService
from assistant.care.core.errors import InvalidInput, NotFound
from assistant.care.core.models import UnclearMessage

STATUSES: Final = ("new", "accepted", "dismissed")
MAX_TEXT: Final = 1000


@dataclass(frozen=True)
class UnclearView:
    """One unclear message as the console shows it."""

    id: int
    conversation_id: str
    text: str
    guesses: tuple[tuple[str, float], ...]
    created_at: datetime
    chosen_intent: Optional[str]
    status: str
    intent: Optional[str]
    reviewed_by: Optional[str]


def _view(row: UnclearMessage) -> UnclearView:
    return UnclearView(row.id, row.conversation_id, row.text, tuple(row.guesses), row.created_at, row.chosen_intent,
                       row.status, row.intent, row.reviewed_by)


def _yaml_quote(text: str) -> str:
    """A training example on one YAML line, as Rasa's block literal expects it."""
    return " ".join(text.split())


class ReviewListService(CareService):
    """Keeps, lists, reviews and exports the messages the assistant was unsure of."""

    def record(
        self, conversation_id: str, text: str, guesses: Iterable[tuple[str, float]], *, message_id: Optional[str] = None,
    ) -> Optional[UnclearView]:
        """Keep one unclear message (once per chat message); None for an empty or button-only text."""
        text = " ".join((text or "").split())[:MAX_TEXT]
        if not text or text.startswith("/"):
            return None
        with self._db.session() as session:
            if message_id:
                known = session.scalar(select(UnclearMessage).where(UnclearMessage.message_id == message_id))
                if known is not None:
                    return _view(known)
            row = UnclearMessage(
                conversation_id=conversation_id, text=text, message_id=message_id, created_at=self._clock(),
                guesses_json=json.dumps([[str(n), round(float(c), 4)] for n, c in guesses]), status="new",
            )
            session.add(row)
            session.flush()
            return _view(row)

    def note_choice(self, unclear_id: int, intent: str) -> None:
        """Record which meaning the user chose (or what they wrote next)."""
        with self._db.session() as session:
            row = session.get(UnclearMessage, unclear_id)
            if row is not None and row.chosen_intent is None:
                row.chosen_intent = intent[:80]

    def awaiting_choice(self, since: datetime, before: datetime) -> list[tuple[int, str, datetime]]:
        """(id, conversation, when) of new messages kept between ``since`` and ``before`` with no choice yet."""
        with self._db.reading() as session:
            rows = session.execute(
                select(UnclearMessage.id, UnclearMessage.conversation_id, UnclearMessage.created_at).where(
                    UnclearMessage.status == "new", UnclearMessage.chosen_intent.is_(None),
                    UnclearMessage.created_at >= since, UnclearMessage.created_at <= before,
                ).order_by(UnclearMessage.id).limit(500)
            ).all()
            return [(int(i), str(c), at) for i, c, at in rows]

    def search(self, status: str = "new", offset: int = 0, limit: int = 25) -> tuple[list[UnclearView], int]:
        """One page of messages with ``status``, newest first, and how many there are.

        Raises:
            InvalidInput: If the status is not one of :data:`STATUSES`.
        """
        if status not in STATUSES:
            raise InvalidInput(f"Status must be one of: {', '.join(STATUSES)}.")
        with self._db.reading() as session:
            where = UnclearMessage.status == status
            total = session.scalar(select(func.count()).select_from(UnclearMessage).where(where)) or 0
            rows = session.scalars(
                select(UnclearMessage).where(where).order_by(UnclearMessage.created_at.desc(), UnclearMessage.id.desc())
                .offset(max(0, offset)).limit(max(1, min(limit, 200)))
            )
            return [_view(r) for r in rows], int(total)

    def review(self, unclear_id: int, intent: Optional[str], actor: str, known_intents: Sequence[str]) -> UnclearView:
        """Accept the message as an example of ``intent``, or dismiss it (``intent`` None or empty).

        Raises:
            NotFound: If there is no such message.
            InvalidInput: If the intent is not one the assistant knows.
        """
        if intent and intent not in known_intents:
            raise InvalidInput("Choose one of the assistant's intents, or dismiss the message.")
        with self._db.session() as session:
            row = session.get(UnclearMessage, unclear_id)
            if row is None:
                raise NotFound("There is no such message to review.")
            row.status = "accepted" if intent else "dismissed"
            row.intent = intent or None
            row.reviewed_by = actor[:120]
            row.reviewed_at = self._clock()
            audit.record(session, actor, f"review.{row.status}", "unclear_message", str(row.id), at=row.reviewed_at,
                         intent=intent or "")
            return _view(row)

    def export_yaml(self) -> str:
        """Every accepted message as Rasa NLU training data (``version: "3.1"``), grouped by intent."""
        with self._db.reading() as session:
            rows = session.execute(
                select(UnclearMessage.intent, UnclearMessage.text).where(UnclearMessage.status == "accepted")
                .order_by(UnclearMessage.intent, UnclearMessage.id)
            ).all()
        lines = ['version: "3.1"', "nlu:"]
        current = None
        for intent, text in rows:
            if intent != current:
                lines += [f"- intent: {intent}", "  examples: |"]
                current = intent
            lines.append(f"    - {_yaml_quote(text)}")
        if current is None:
            lines[-1] = "nlu: []"
        return "\n".join(lines) + "\n"
