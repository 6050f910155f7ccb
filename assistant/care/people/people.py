"""People: senior registration with consent, profiles, relatives."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Optional, Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from assistant.care.core import audit
from assistant.care.bookings.bookings import TRANSITIONS, transition
from assistant.care.core.clock import zone
from assistant.care.core.db import CareService
from assistant.care.people.diets import normalise_dietary_needs
from assistant.care.core.errors import InvalidInput, NotAllowed, NotRegistered
from assistant.care.core.models import (
    Booking,
    FamilyInvite,
    Notification,
    Person,
    Provider,
    ProviderDistrict,
    RelativeLink,
    Reminder,
    ReminderDelivery,
    SeniorProfile,
)
from assistant.care.core.validation import MAX_ADDRESS, MAX_NAME, clean_phone, clean_text
from assistant.care.core.vocabulary import SHARE_WORDS
from assistant.care.core.views import ProfileView

MAX_CONVERSATION_ID = 255
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")

NO_CONSENT_MESSAGE = (
    "That is fine. I will not keep your details. Without them I cannot book anything for you, "
    "but I can still answer questions, and a person from our team can help you."
)


def profile_view(person: Person, profile: SeniorProfile) -> ProfileView:
    """Return the frozen view of a senior's profile (call inside the session)."""
    return ProfileView(
        person_id=person.id,
        conversation_id=person.conversation_id,
        role=person.role,
        full_name=profile.full_name,
        address=profile.address,
        district=profile.district,
        dietary_needs=profile.dietary_needs,
        language=profile.language,
        timezone=profile.timezone,
        voice_replies=profile.voice_replies,
        consent_care_data=profile.consent_care_data,
        phone=profile.phone,
        consent_health_data=profile.consent_health_data,
    )


def person_by_conversation(session: Session, conversation_id: str) -> Optional[Person]:
    """Return the person talking in this conversation, if we know them."""
    return session.scalar(select(Person).where(Person.conversation_id == conversation_id))


def require_senior(session: Session, conversation_id: str) -> tuple[Person, SeniorProfile]:
    """Return the registered senior of this conversation.

    Raises:
        NotRegistered: If there is no profile with consent for this conversation.
    """
    person = person_by_conversation(session, conversation_id)
    if person is None or person.role != "senior" or person.profile is None:
        raise NotRegistered()
    if not person.profile.consent_care_data:
        raise NotRegistered()
    return person, person.profile


def require_actor(session: Session, senior: Person, conversation_id: Optional[str]) -> Person:
    """Return who is acting for ``senior``: the senior, or a linked relative.

    Raises:
        NotAllowed: If the conversation is neither the senior's nor a linked relative's.
    """
    if conversation_id is None or conversation_id == senior.conversation_id:
        return senior
    person = person_by_conversation(session, conversation_id)
    if person is not None:
        linked = session.scalar(
            select(RelativeLink.id).where(
                RelativeLink.senior_id == senior.id, RelativeLink.relative_id == person.id
            )
        )
        if linked is not None:
            return person
    raise NotAllowed(
        "Sorry, I can only do this for the person themselves or a relative they have linked."
    )


def acting_for(
    session: Session, conversation_id: str, *, about: str = "booking", needs: Optional[str] = None
) -> tuple[Person, SeniorProfile, Person]:
    """Return ``(senior, profile, actor)`` for a conversation.

    The actor is the senior themselves, or a relative linked to exactly one
    registered senior, who then acts for that senior.

    Args:
        session: The open session.
        conversation_id: Who is talking.
        about: What is being done, for the question to a relative of several seniors
            ("Please tell me whose booking this is").
        needs: What the senior must share with a relative who acts (one of FAMILY_SHARES).

    Raises:
        NotRegistered: If the conversation is neither a registered senior's nor a
            linked relative's.
        NotAllowed: If the relative helps several seniors (we cannot tell whose booking it is).
    """
    person = person_by_conversation(session, conversation_id)
    if person is not None and person.role == "senior":
        senior, profile = require_senior(session, conversation_id)
        return senior, profile, senior
    if person is None or person.role != "relative":
        raise NotRegistered()
    seniors = [
        senior
        for senior in session.scalars(
            select(Person)
            .join(RelativeLink, RelativeLink.senior_id == Person.id)
            .where(RelativeLink.relative_id == person.id)
            .order_by(RelativeLink.id)
        )
        if senior.profile is not None and senior.profile.consent_care_data
    ]
    if not seniors:
        raise NotRegistered(
            "I do not know whom you are helping yet. The person you help can link you to their account."
        )
    if len(seniors) > 1:
        names = " or ".join(s.profile.full_name for s in seniors if s.profile is not None)
        raise NotAllowed(
            f"You help more than one person. Please tell me whose {about} this is: {names}. "
            "A person from our team can help too.",
            field="senior",
        )
    senior = seniors[0]
    assert senior.profile is not None
    if needs is not None:
        require_share(session, senior, person, needs)
    return senior, senior.profile, person


def require_share(session: Session, senior: Person, relative: Person, share: str) -> None:
    """Refuse a relative what the senior has not shared with them.

    Raises:
        NotAllowed: If the link does not share ``share`` (one of FAMILY_SHARES).
    """
    link = session.scalar(
        select(RelativeLink).where(RelativeLink.senior_id == senior.id, RelativeLink.relative_id == relative.id)
    )
    if link is None or share not in link.shares:
        name = senior.profile.full_name if senior.profile is not None else "The person you help"
        raise NotAllowed(
            f"{name} has not chosen to share their {SHARE_WORDS[share]} with you, so I can't do that for them. "
            "They can change it by saying “my family”."
        )


def link_in_session(
    session: Session, senior: Person, relative: Person, relationship: str, at: datetime
) -> RelativeLink:
    """Link ``relative`` to ``senior`` (or update the relationship of an existing link), audited."""
    link = session.scalar(
        select(RelativeLink).where(RelativeLink.senior_id == senior.id, RelativeLink.relative_id == relative.id)
    )
    if link is None:
        link = RelativeLink(senior_id=senior.id, relative_id=relative.id, created_at=at)
        session.add(link)
    link.relationship = relationship
    session.flush()
    audit.record(
        session, audit.person_actor(senior.id), "relative.linked", "relative_link", link.id,
        at=at, senior_id=senior.id, relative_id=relative.id,
    )
    return link


def served_districts(session: Session) -> list[str]:
    """Return the districts served by any active provider, sorted."""
    query = (
        select(ProviderDistrict.district)
        .join(Provider, Provider.id == ProviderDistrict.provider_id)
        .where(Provider.active.is_(True))
        .distinct()
        .order_by(ProviderDistrict.district)
    )
    return list(session.scalars(query))


def canonical_district(session: Session, district: str) -> str:
    """Return the registry's spelling of ``district`` when it is one we serve."""
    for known in served_districts(session):
        if known.casefold() == district.casefold():
            return known
    return district


class PeopleService(CareService):
    """Registration, profiles and consent of the people who use the assistant.

    Args:
        db: The database.
        clock: Returns the current aware time.
    """

    def find_by_conversation(self, conversation_id: str) -> Optional[ProfileView]:
        """Return the senior's profile, or None if unknown or without consent."""
        with self._db.session() as session:
            try:
                person, profile = require_senior(session, conversation_id)
            except NotRegistered:
                return None
            return profile_view(person, profile)

    def register_senior(
        self,
        conversation_id: str,
        channel: str,
        full_name: str,
        address: str,
        district: str,
        dietary_needs: Sequence[str],
        consent_care_data: bool,
        language: str = "en",
        timezone: str = "Europe/London",
    ) -> ProfileView:
        """Create or update a senior's profile (idempotent per conversation).

        Raises:
            NotAllowed: If consent is not given (nothing is stored), or the
                conversation belongs to a relative or coordinator.
            InvalidInput: If a value is missing, too long or unknown.
        """
        if consent_care_data is not True:
            raise NotAllowed(NO_CONSENT_MESSAGE, field="consent_care_data")
        conversation_id = clean_text(
            conversation_id, "conversation", MAX_CONVERSATION_ID, field="conversation_id"
        )
        channel = clean_text(channel, "channel", 40, field="channel")
        full_name = clean_text(full_name, "name", MAX_NAME, field="full_name")
        address = clean_text(address, "address", MAX_ADDRESS, field="address")
        district = clean_text(district, "district", MAX_NAME, field="district")
        needs = normalise_dietary_needs(dietary_needs)
        language = _clean_language(language)
        zone(timezone)
        now = self._clock()

        with self._db.session() as session:
            district = canonical_district(session, district)
            person = person_by_conversation(session, conversation_id)
            if person is not None and person.role != "senior":
                raise NotAllowed(
                    "This chat is set up for a relative or coordinator. "
                    "A person from our team can help change that."
                )
            created = person is None
            if person is None:
                person = Person(
                    role="senior", conversation_id=conversation_id, channel=channel, created_at=now
                )
                session.add(person)
            person.display_name = full_name
            person.channel = channel
            profile = person.profile
            if profile is None:
                profile = SeniorProfile(timezone=timezone)
                person.profile = profile
            if not profile.consent_care_data:
                profile.consent_care_data = True
                profile.consent_care_data_at = now
            profile.full_name = full_name
            profile.address = address
            profile.district = district
            profile.dietary_needs = needs
            profile.language = language
            profile.timezone = timezone
            profile.updated_at = now
            session.flush()
            audit.record(
                session,
                audit.person_actor(person.id),
                "senior.registered" if created else "senior.reregistered",
                "person",
                person.id,
                at=now,
                channel=channel,
            )
            view = profile_view(person, profile)
        return view

    def update_profile(
        self,
        conversation_id: str,
        *,
        address: Optional[str] = None,
        district: Optional[str] = None,
        dietary_needs: Optional[Sequence[str]] = None,
        full_name: Optional[str] = None,
        phone: Optional[str] = None,
        voice_replies: Optional[bool] = None,
    ) -> ProfileView:
        """Change some profile fields; the others stay as they are.

        Raises:
            NotRegistered: If the conversation has no profile.
            InvalidInput: If a value is missing, too long or unknown.
        """
        changes: dict[str, object] = {}
        if full_name is not None:
            changes["full_name"] = clean_text(full_name, "name", MAX_NAME, field="full_name")
        if address is not None:
            changes["address"] = clean_text(address, "address", MAX_ADDRESS, field="address")
        if district is not None:
            changes["district"] = clean_text(district, "district", MAX_NAME, field="district")
        if dietary_needs is not None:
            changes["dietary_needs"] = normalise_dietary_needs(dietary_needs)
        if phone is not None:
            changes["phone"] = clean_phone(phone)
        if voice_replies is not None:
            changes["voice_replies"] = bool(voice_replies)
        now = self._clock()

        with self._db.session() as session:
            person, profile = require_senior(session, conversation_id)
            if "district" in changes:
                changes["district"] = canonical_district(session, str(changes["district"]))
            changed = [name for name, value in changes.items() if getattr(profile, name) != value]
            for name in changed:
                setattr(profile, name, changes[name])
            if "full_name" in changed:
                person.display_name = profile.full_name
            if changed:
                profile.updated_at = now
                audit.record(
                    session, audit.person_actor(person.id), "profile.updated", "person", person.id,
                    at=now, fields=sorted(changed),
                )
            view = profile_view(person, profile)
        return view

    def set_health_consent(self, conversation_id: str, given: bool) -> ProfileView:
        """Record whether the senior agrees that we keep health-related data.

        Raises:
            NotRegistered: If the conversation has no profile.
        """
        now = self._clock()
        with self._db.session() as session:
            person, profile = require_senior(session, conversation_id)
            if profile.consent_health_data != bool(given):
                profile.consent_health_data = bool(given)
                profile.consent_health_data_at = now
                profile.updated_at = now
                audit.record(
                    session, audit.person_actor(person.id),
                    "consent.health_given" if given else "consent.health_withdrawn",
                    "person", person.id, at=now,
                )
            view = profile_view(person, profile)
        return view

    def withdraw_consent(self, conversation_id: str) -> int:
        """Delete the senior's personal data and cancel their open bookings.

        The person row stays (without a name) so past bookings and the audit
        trail keep their references; booking notes are cleared. The senior's
        reminders (health data: titles, doses) and their deliveries are deleted,
        so none is sent again, as are messages still waiting to be sent to them;
        family links end and unused family codes stop working. Calling it again
        does nothing.

        Returns:
            How many open bookings were cancelled.
        """
        now = self._clock()
        with self._db.session() as session:
            person = person_by_conversation(session, conversation_id)
            if person is None or person.role != "senior" or person.profile is None:
                return 0
            actor = audit.person_actor(person.id)
            cancelled = 0
            for booking in session.scalars(select(Booking).where(Booking.senior_id == person.id)):
                if "cancelled" in TRANSITIONS[booking.status]:
                    transition(booking, "cancelled", actor, now=now, reason="consent withdrawn")
                    cancelled += 1
                booking.details = ""
            session.execute(delete(RelativeLink).where(RelativeLink.senior_id == person.id))
            session.execute(
                update(FamilyInvite).where(FamilyInvite.senior_id == person.id,
                                           FamilyInvite.status.in_(("open", "pending")))
                .values(status="revoked", decided_at=now), execution_options={"synchronize_session": False},
            )
            # Messages not yet sent to them quote bookings and reminders: they go too.
            session.execute(
                delete(Notification).where(Notification.person_id == person.id, Notification.status == "pending"),
                execution_options={"synchronize_session": False},
            )
            _delete_reminders(session, person, actor, now)
            person.profile = None
            person.display_name = ""
            audit.record(
                session, actor, "consent.withdrawn", "person", person.id, at=now,
                cancelled_bookings=cancelled,
            )
        return cancelled

    def link_relative(
        self,
        senior_conversation_id: str,
        relative_conversation_id: str,
        relative_name: str,
        relationship: str,
        channel: str = "rest",
    ) -> None:
        """Let a relative's conversation act for a registered senior.

        Raises:
            NotRegistered: If the senior has no profile.
            NotAllowed: If the relative's conversation belongs to a senior.
            InvalidInput: If a value is missing or too long.
        """
        relative_conversation_id = clean_text(
            relative_conversation_id, "conversation", MAX_CONVERSATION_ID, field="conversation_id"
        )
        relative_name = clean_text(relative_name, "name", MAX_NAME, field="display_name")
        relationship = clean_text(relationship, "relationship", 60, field="relationship", required=False)
        channel = clean_text(channel, "channel", 40, field="channel")
        now = self._clock()
        with self._db.session() as session:
            senior, _ = require_senior(session, senior_conversation_id)
            relative = person_by_conversation(session, relative_conversation_id)
            if relative is not None and relative.role != "relative":
                raise NotAllowed("That chat belongs to someone who cannot be added as a relative.")
            if relative is None:
                relative = Person(
                    role="relative", conversation_id=relative_conversation_id,
                    channel=channel, created_at=now,
                )
                session.add(relative)
            relative.display_name = relative_name
            session.flush()
            link_in_session(session, senior, relative, relationship, now)

    def known_districts(self) -> list[str]:
        """Return the districts served by any active provider, sorted."""
        with self._db.session() as session:
            return served_districts(session)


def _delete_reminders(session: Session, senior: Person, actor: str, now: datetime) -> None:
    """Delete every reminder of ``senior`` with its deliveries, so none is sent again."""
    ids = list(session.scalars(select(Reminder.id).where(Reminder.senior_id == senior.id)))
    if not ids:
        return
    gone = session.execute(delete(ReminderDelivery).where(ReminderDelivery.reminder_id.in_(ids)))
    session.execute(delete(Reminder).where(Reminder.id.in_(ids)))
    audit.record(
        session, actor, "reminders.deleted", "person", senior.id, at=now,
        reminders=len(ids), deliveries=gone.rowcount, reason="consent withdrawn",
    )


def _clean_language(language: str) -> str:
    """Return a language code such as ``"en"`` or ``"pt-BR"``."""
    code = (language or "en").strip()
    if not _LANGUAGE.match(code):
        raise InvalidInput("Sorry, I do not know that language.", field="language")
    return code
