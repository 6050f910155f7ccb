"""Family linking by invite: a senior gives a relative a one-time code, then confirms the link.

1. The senior asks for an invite and gets a short code (``K7M-4QP``) that works once, for
   :data:`INVITE_LIFETIME`. Only a hash of the code is stored.
2. The relative sends the code from their own chat. Nothing is linked yet: the senior is
   asked (notification ``EXTERNAL_family_link_request``) whether this person may act for them.
3. The senior allows or declines; the relative is told either way (``EXTERNAL_family_link_answer``).

A relative's chat that guesses wrong codes too often is refused for an hour.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Optional

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from assistant.care.core import audit
from assistant.care.core.db import CareService
from assistant.care.core.errors import InvalidInput, InvalidTransition, NotAllowed, NotFound
from assistant.care.core.models import AuditLog, FamilyInvite, Person, RelativeLink
from assistant.care.core.notifications import enqueue
from assistant.care.people.people import (
    link_in_session,
    person_by_conversation,
    require_senior,
)
from assistant.care.core.validation import MAX_NAME, clean_text

INVITE_LIFETIME: Final = timedelta(hours=24)
CODE_ALPHABET: Final = "ACDEFGHJKMNPQRTUVWXY34679"
"""Letters and digits that cannot be mistaken for one another when read aloud or on paper."""
CODE_LENGTH: Final = 6
MAX_OPEN_INVITES: Final = 5
MAX_WRONG_CODES: Final = 5
WRONG_CODE_WINDOW: Final = timedelta(hours=1)

REQUEST_INTENT: Final = "EXTERNAL_family_link_request"
ANSWER_INTENT: Final = "EXTERNAL_family_link_answer"
UNLINKED_INTENT: Final = "EXTERNAL_family_unlinked"

UNKNOWN_CODE: Final = (
    "I don't know that code, or it has already been used or has expired. Please check it with the "
    "person who gave it to you; they can make a new one by saying “invite a relative”."
)


@dataclass(frozen=True)
class Invite:
    """A fresh invite: the code to pass on (shown once) and when it stops working."""

    code: str
    expires_at: datetime
    relationship: str


@dataclass(frozen=True)
class LinkRequest:
    """A relative has used a senior's code and waits for the senior to confirm."""

    request_id: int
    senior_first_name: str
    relative_name: str


@dataclass(frozen=True)
class LinkDecision:
    """What the senior decided about a link request."""

    request_id: int
    accepted: bool
    relative_name: str


def normalise_code(code: str) -> str:
    """Return the code as stored: capitals only, spaces and dashes removed ("k7m 4qp" → "K7M4QP")."""
    return "".join(ch for ch in str(code).upper() if ch.isalnum())


def format_code(raw: str) -> str:
    """Return a code as shown to people, in two halves: ``K7M-4QP``."""
    half = len(raw) // 2
    return f"{raw[:half]}-{raw[half:]}"


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("ascii", "ignore")).hexdigest()


def _first_name(person: Person) -> str:
    name = person.profile.full_name if person.profile is not None else person.display_name
    return (name or "your relative").split()[0]


class InviteService(CareService):
    """Creates invites, lets a relative use one, and records the senior's decision.

    Args:
        db: The database.
        clock: Returns the current aware time.
    """

    def create(self, senior_conversation_id: str, relationship: str = "") -> Invite:
        """Make a new one-time code for the senior of this conversation.

        Raises:
            NotRegistered: If the conversation is not a registered senior's.
            NotAllowed: If a relative asks (only the person helped can invite), or too many
                invites are open.
        """
        relationship = clean_text(relationship, "relationship", 60, field="relationship", required=False).lower()
        now = self._clock()
        with self._db.session() as session:
            person = person_by_conversation(session, senior_conversation_id)
            if person is not None and person.role == "relative":
                raise NotAllowed(
                    "Only the person you help can invite family members. They can say “invite a relative” "
                    "to me in their own chat.",
                    field="senior",
                )
            senior, _ = require_senior(session, senior_conversation_id)
            self._expire(session, now, senior_id=senior.id)
            open_count = session.scalar(
                select(func.count(FamilyInvite.id)).where(
                    FamilyInvite.senior_id == senior.id, FamilyInvite.status == "open"
                )
            )
            if open_count >= MAX_OPEN_INVITES:
                raise NotAllowed(
                    f"You already have {open_count} family codes waiting to be used. Please use those "
                    "first, or wait until they expire tomorrow.",
                    field="invite",
                )
            raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            invite = FamilyInvite(
                senior_id=senior.id, code_hash=_hash(raw), relationship=relationship, status="open",
                created_at=now, expires_at=now + INVITE_LIFETIME, relative_name="",
            )
            session.add(invite)
            session.flush()
            audit.record(session, audit.person_actor(senior.id), "family.invite_created", "family_invite",
                         invite.id, at=now)
            return Invite(format_code(raw), invite.expires_at, relationship)

    def claim(
        self, relative_conversation_id: str, code: str, name: str = "", channel: str = "rest"
    ) -> LinkRequest:
        """A relative uses a code: record who, and ask the senior to confirm.

        Args:
            relative_conversation_id: The relative's own conversation.
            code: The code as typed (case, spaces and dashes do not matter).
            name: The relative's name as their channel knows it ("" when unknown).
            channel: The relative's channel, for new people.

        Raises:
            InvalidInput: If the code is unknown, used or expired.
            NotAllowed: If this chat belongs to a senior, guessed too many wrong codes, or
                is already linked to the senior.
        """
        raw = normalise_code(code)
        name = clean_text(name, "name", MAX_NAME, field="name", required=False)
        now = self._clock()
        with self._db.session() as session:
            person = person_by_conversation(session, relative_conversation_id)
            if person is not None and person.role != "relative":
                raise NotAllowed(
                    "This chat belongs to someone registered with us, so it cannot be linked as a "
                    "relative. Please use the code from the relative's own phone or chat.",
                    field="invite_code",
                )
            if self._wrong_codes(session, relative_conversation_id, now) >= MAX_WRONG_CODES:
                raise NotAllowed(
                    "That was too many codes that did not work. Please wait an hour and try again, "
                    "or ask a care coordinator to help.",
                    field="invite_code",
                )
            self._expire(session, now)
            invite = session.scalar(
                select(FamilyInvite).where(FamilyInvite.code_hash == _hash(raw), FamilyInvite.status == "open")
            ) if len(raw) == CODE_LENGTH else None
            if invite is None:
                # Kept (the block ends normally) so that guesses count towards the lock-out.
                audit.record(session, audit.ASSISTANT, "family.code_rejected", "conversation",
                             relative_conversation_id[:64], at=now)
            else:
                return self._claim(session, invite, person, relative_conversation_id, name, channel, now)
        raise InvalidInput(UNKNOWN_CODE, field="invite_code")

    def _claim(
        self, session: Session, invite: FamilyInvite, person: Optional[Person],
        relative_conversation_id: str, name: str, channel: str, now: datetime,
    ) -> LinkRequest:
        """Record the relative on a valid open invite and ask the senior."""
        senior = session.get(Person, invite.senior_id)
        assert senior is not None
        if person is None:
            person = Person(role="relative", conversation_id=relative_conversation_id,
                            display_name=name, channel=channel[:40], created_at=now)
            session.add(person)
            session.flush()
        elif name and not person.display_name:
            person.display_name = name
        if self._linked(session, senior.id, person.id):
            raise NotAllowed(
                f"You are already linked to {_first_name(senior)}, so there is nothing more to do.",
                field="invite_code",
            )
        shown = person.display_name or (f"Your {invite.relationship}" if invite.relationship else "A relative")
        invite.status = "pending"
        invite.relative_id = person.id
        invite.relative_name = shown[:MAX_NAME]
        invite.claimed_at = now
        enqueue(
            session, senior.id, "family_link_request", REQUEST_INTENT,
            {"family_request": str(invite.id), "relative_name": invite.relative_name,
             "relation": invite.relationship},
            text=f"{invite.relative_name} used your family code and asks to help you.", at=now,
        )
        audit.record(session, audit.person_actor(person.id), "family.invite_claimed", "family_invite",
                     invite.id, at=now, senior_id=senior.id, relative_id=person.id)
        return LinkRequest(invite.id, _first_name(senior), invite.relative_name)

    def decide(self, senior_conversation_id: str, request_id: object, accept: bool) -> LinkDecision:
        """The senior allows (links) or declines a pending request; the relative is told.

        Raises:
            NotRegistered: If the conversation is not a registered senior's.
            NotFound: If there is no such request for this senior.
            InvalidTransition: If it was already decided.
        """
        now = self._clock()
        with self._db.session() as session:
            senior, _ = require_senior(session, senior_conversation_id)
            invite = session.get(FamilyInvite, _request_id(request_id))
            if invite is None or invite.senior_id != senior.id or invite.relative_id is None:
                raise NotFound("I can't find that request to help you. It may have been withdrawn.")
            if invite.status != "pending":
                already = "allowed" if invite.status == "accepted" else "answered"
                raise InvalidTransition(f"You have already {already} that request from {invite.relative_name}.")
            relative = session.get(Person, invite.relative_id)
            assert relative is not None
            invite.status = "accepted" if accept else "declined"
            invite.decided_at = now
            if accept:
                if not relative.display_name:
                    relative.display_name = invite.relative_name  # "Your daughter": the senior's own words
                link_in_session(session, senior, relative, invite.relationship, now)
            enqueue(
                session, relative.id, "family_link_answer", ANSWER_INTENT,
                {"senior_name": _first_name(senior), "family_answer": "yes" if accept else "no"},
                text=f"{_first_name(senior)} {'allowed' if accept else 'did not allow'} the link.", at=now,
            )
            audit.record(session, audit.person_actor(senior.id),
                         "family.link_accepted" if accept else "family.link_declined",
                         "family_invite", invite.id, at=now, relative_id=relative.id)
            return LinkDecision(invite.id, accept, invite.relative_name)

    @staticmethod
    def _linked(session: Session, senior_id: int, relative_id: int) -> bool:
        return session.scalar(
            select(RelativeLink.id).where(RelativeLink.senior_id == senior_id, RelativeLink.relative_id == relative_id)
        ) is not None

    @staticmethod
    def _wrong_codes(session: Session, conversation_id: str, now: datetime) -> int:
        return session.scalar(
            select(func.count(AuditLog.id)).where(
                AuditLog.entity_type == "conversation",
                AuditLog.entity_id == conversation_id[:64],
                AuditLog.action == "family.code_rejected",
                AuditLog.at > now - WRONG_CODE_WINDOW,
            )
        ) or 0

    @staticmethod
    def _expire(session: Session, now: datetime, *, senior_id: Optional[int] = None) -> None:
        query = update(FamilyInvite).where(FamilyInvite.status == "open", FamilyInvite.expires_at <= now)
        if senior_id is not None:
            query = query.where(FamilyInvite.senior_id == senior_id)
        session.execute(query.values(status="expired"), execution_options={"synchronize_session": False})


def _request_id(value: object) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        raise NotFound("I can't find that request to help you. It may have been withdrawn.") from None
