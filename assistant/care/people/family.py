"""Who acts for whom: a senior and the relatives they have linked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import select

from assistant.care.core import audit
from assistant.care.core.db import CareService
from assistant.care.core.errors import InvalidInput, NotAllowed, NotFound, NotRegistered
from assistant.care.people.invites import UNLINKED_INTENT
from assistant.care.core.models import Person, RelativeLink
from assistant.care.core.vocabulary import FAMILY_SHARES, SHARE_WORDS
from assistant.care.core.notifications import enqueue, relatives_of
from assistant.care.people.people import (
    acting_for,
    person_by_conversation,
    profile_view,
    require_senior,
)
from assistant.care.core.views import ProfileView


@dataclass(frozen=True)
class Acting:
    """The senior a conversation acts for, and who is talking."""

    profile: ProfileView
    speaker_name: str
    is_relative: bool


@dataclass(frozen=True)
class FamilyMember:
    """One link, seen from one side: the relative (for a senior) or the senior (for a relative)."""

    link_id: int
    name: str
    relationship: str
    since: datetime
    shares: tuple[str, ...] = FAMILY_SHARES
    """What the senior shares with the relative on this link (FAMILY_SHARES)."""


def describe_shares(shares: tuple[str, ...]) -> str:
    """What one relative may see and arrange, in words ("meals and help at home, reminders and pills")."""
    return ", ".join(SHARE_WORDS[share] for share in shares) if shares else "only emergencies"


@dataclass(frozen=True)
class Family:
    """Who a conversation is linked with, and from which side."""

    is_senior: bool
    members: list[FamilyMember]


class FamilyService(CareService):
    """Looks up the senior behind a conversation and the family around them.

    Args:
        db: The database.
        clock: Returns the current aware time.
    """

    def family(self, conversation_id: str) -> Family:
        """A senior's linked relatives, or the seniors a relative helps (oldest link first).

        Raises:
            NotRegistered: If the conversation is neither a senior's nor a relative's.
        """
        with self._db.reading() as session:
            person = person_by_conversation(session, conversation_id)
            if person is None or person.role not in ("senior", "relative"):
                raise NotRegistered()
            is_senior = person.role == "senior"
            if is_senior:
                require_senior(session, conversation_id)
            own, other = (RelativeLink.senior_id, RelativeLink.relative_id) if is_senior else (
                RelativeLink.relative_id, RelativeLink.senior_id)
            rows = session.execute(
                select(RelativeLink, Person).join(Person, Person.id == other)
                .where(own == person.id).order_by(RelativeLink.id)
            )
            members = [
                # The relationship is the relative's to the senior, so it is shown to the senior only.
                FamilyMember(link.id, _full_name(member), link.relationship if is_senior else "", link.created_at,
                             link.shares)
                for link, member in rows
                if is_senior or (member.profile is not None and member.profile.consent_care_data)
            ]
            return Family(is_senior, members)

    def remove(self, conversation_id: str, link_id: object) -> FamilyMember:
        """End a link: the senior removes a relative, or a relative stops helping. The other side is told.

        Raises:
            NotRegistered: If the conversation is neither a senior's nor a relative's.
            NotFound: If the link does not exist or is not this conversation's.
        """
        now = self._clock()
        with self._db.session() as session:
            person = person_by_conversation(session, conversation_id)
            if person is None or person.role not in ("senior", "relative"):
                raise NotRegistered()
            link = session.get(RelativeLink, _link_id(link_id))
            if link is None or person.id not in (link.senior_id, link.relative_id):
                raise NotFound("I can't find that person among your family links. It may already be removed.")
            other = session.get(Person, link.relative_id if person.id == link.senior_id else link.senior_id)
            assert other is not None
            removed = FamilyMember(link.id, _full_name(other), link.relationship, link.created_at, link.shares)
            enqueue(
                session, other.id, "family_unlinked", UNLINKED_INTENT,
                {"relative_name": _full_name(person).split()[0]},
                text=f"{_full_name(person)} ended the family link.", at=now,
            )
            audit.record(session, audit.person_actor(person.id), "relative.unlinked", "relative_link", link.id,
                         at=now, senior_id=link.senior_id, relative_id=link.relative_id)
            session.delete(link)
            return removed

    def set_share(self, conversation_id: str, link_id: object, share: str, on: bool) -> FamilyMember:
        """The senior shares (or stops sharing) one of FAMILY_SHARES with one linked relative.

        Raises:
            InvalidInput: If ``share`` is not one of FAMILY_SHARES.
            NotAllowed: If the conversation is not the senior's of that link (a relative cannot change it).
            NotFound: If the link does not exist.
        """
        if share not in FAMILY_SHARES:
            raise InvalidInput(f"I can share only {' or '.join(SHARE_WORDS.values())}.", field="share")
        now = self._clock()
        with self._db.session() as session:
            person = person_by_conversation(session, conversation_id)
            link = session.get(RelativeLink, _link_id(link_id))
            if person is None or link is None or person.id not in (link.senior_id, link.relative_id):
                raise NotFound("I can't find that person among your family links. It may already be removed.")
            if person.id != link.senior_id:
                raise NotAllowed("Only the person you help can choose what they share with you.")
            link.shares = (set(link.shares) | {share}) if on else (set(link.shares) - {share})
            relative = session.get(Person, link.relative_id)
            assert relative is not None
            audit.record(session, audit.person_actor(person.id), "relative.shares_changed", "relative_link", link.id,
                         at=now, shares=list(link.shares))
            return FamilyMember(link.id, _full_name(relative), link.relationship, link.created_at, link.shares)

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
            people += [p for p in relatives_of(session, senior.id, "bookings") if p.id != actor.id]
            names = []
            for person in people:
                name = person.profile.full_name if person.profile is not None else person.display_name
                names.append((name or "your relative").split()[0])
            return names


def _full_name(person: Person) -> str:
    name = person.profile.full_name if person.profile is not None else person.display_name
    return name or "Your relative"


def _link_id(value: object) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        raise NotFound("I can't find that person among your family links.") from None
