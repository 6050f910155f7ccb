"""Who acts for whom: a senior and the relatives they have linked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from assistant.care.db import Database
from assistant.care.errors import NotAllowed, NotRegistered
from assistant.care.notifications import relatives_of
from assistant.care.people import acting_for, profile_view
from assistant.care.views import ProfileView


@dataclass(frozen=True)
class Acting:
    """The senior a conversation acts for, and who is talking."""

    profile: ProfileView
    speaker_name: str
    is_relative: bool


class FamilyService:
    """Looks up the senior behind a conversation and the family around them.

    Args:
        db: The database.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def acting(self, conversation_id: str) -> Optional[Acting]:
        """The senior this conversation acts for (their own, or a linked relative's), or None."""
        with self._db.session() as session:
            try:
                senior, profile, actor = acting_for(session, conversation_id)
            except (NotRegistered, NotAllowed):
                return None
            is_relative = actor.id != senior.id
            speaker = actor.display_name if is_relative else profile.full_name
            return Acting(profile_view(senior, profile), speaker or profile.full_name, is_relative)

    def relative_names(self, conversation_id: str) -> list[str]:
        """First names of the relatives told about the senior's bookings, except whoever is talking."""
        with self._db.session() as session:
            try:
                senior, _, actor = acting_for(session, conversation_id)
            except (NotRegistered, NotAllowed):
                return []
            people = [senior] if actor.id != senior.id else []
            people += [p for p in relatives_of(session, senior.id) if p.id != actor.id]
            names = []
            for person in people:
                name = person.profile.full_name if person.profile is not None else person.display_name
                names.append((name or "your relative").split()[0])
            return names
