"""Greeting, session start and registration of a first-time user."""

from __future__ import annotations

import difflib
import json
import logging
import re
from typing import Any, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from assistant.actions.base import (
    care,
    channel_of,
    entity_values,
    latest_intent,
    latest_text,
)
from assistant.actions.forms import PatientFormValidation
from assistant.care.people.diets import read_diets
from assistant.care.core.errors import CareError
from assistant.settings import load_settings

logger = logging.getLogger(__name__)

ONBOARDING_SLOTS = ("full_name", "address", "district", "dietary_needs", "consent")
_NAME_PREFIX = re.compile(
    r"^\s*(?:hello|hi)?[\s,]*(?:my name is|my name's|i am|i'm|im|it is|it's|this is|call me|name is)\s+",
    re.IGNORECASE,
)
_HAS_LETTER = re.compile(r"[^\W\d_]")


def first_name(full_name: str) -> str:
    """The name to greet someone by."""
    return full_name.split()[0] if full_name.split() else full_name


class ActionSessionStart(Action):
    """Starts a session and remembers whether this person is registered."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        try:
            # handoff_by: a coordinator still holds this chat, so the new session stays quiet for them too.
            slots = care().session_slots(tracker.sender_id)
        except Exception:  # a database fault must not stop the conversation
            logger.exception("could not look up the profile at session start")
            slots = {"registered": False}
        events += [SlotSet(name, value) for name, value in slots.items()]
        events.append(ActionExecuted("action_listen"))
        return events


class ActionGreet(Action):
    """Greets a returning user by name, or welcomes a new one."""

    def name(self) -> str:
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        acting = care().family.acting(tracker.sender_id)
        if acting is None:
            dispatcher.utter_message(response="utter_greet_new")
            return [SlotSet("registered", False)]
        name = first_name(acting.speaker_name)
        dispatcher.utter_message(response="utter_greet_back", user_name=name)
        return [SlotSet("registered", True), SlotSet("user_name", name)]


RESUMABLE_REQUESTS = ("order_meal", "book_home_service")
"""Requests that continue by themselves once the user has registered (the pending_request values)."""


class ActionStartOnboarding(Action):
    """Explains that details are needed first and remembers what the user wanted."""

    def name(self) -> str:
        return "action_start_onboarding"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        wanted = latest_intent(tracker)
        pending = wanted if wanted in RESUMABLE_REQUESTS else None
        dispatcher.utter_message(response="utter_register_first")
        return [SlotSet("pending_request", pending)]


GREETING_START = re.compile(r"^(?:hello|hallo|hullo|hi|hiya|hey|howdy|good (?:morning|afternoon|evening|day)|morning|evening|greetings)\b")
"""How a greeting starts; a name that merely contains a greeting word ("Doris Day") does not."""


class ValidateOnboardingForm(PatientFormValidation):
    """Checks each registration answer and explains what is wrong, kindly."""

    def name(self) -> str:
        return "validate_onboarding_form"

    async def extract_full_name(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        # "Doris Day" read as "good day": an answer to "What is your name?" that does not start with a
        # greeting is the name, whatever the classifier thought.
        if tracker.get_slot("requested_slot") != "full_name" or tracker.get_slot("full_name"):
            return {}
        text = latest_text(tracker).strip()
        if latest_intent(tracker) == "greet" and text and not GREETING_START.match(text.lower()):
            return {"full_name": text}
        return {}

    async def extract_district(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        # The answer to another question ("Mary Parkview" as the name) never fills the district:
        # only the district question's answer does, or the message that started registering.
        if tracker.get_slot("requested_slot") not in (None, "district"):
            return {}
        found = entity_values(tracker, "district")
        if found and tracker.get_slot("district") is None:
            return {"district": found[0]}
        answer = self.requested_answer(tracker, "district")
        return {"district": answer} if answer else {}

    async def extract_dietary_needs(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "dietary_needs":
            return {}
        diets = entity_values(tracker, "diet")
        if diets:
            return {"dietary_needs": diets}
        if latest_intent(tracker) == "deny":
            return {"dietary_needs": []}
        answer = self.requested_answer(tracker, "dietary_needs")
        return {"dietary_needs": [answer]} if answer else {}

    def validate_full_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        name = _NAME_PREFIX.sub("", str(value or "")).strip(" .!,")
        if not name or not _HAS_LETTER.search(name):
            return self.reject("full_name", "Please tell me your name, for example “Mary Jones”.", dispatcher, tracker)
        if len(name) > 120:
            return self.reject(
                "full_name", "That name is too long for me. Please write it in fewer than 120 letters.", dispatcher, tracker
            )
        return self.accept(full_name=name)

    def validate_address(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        address = " ".join(str(value or "").split())
        if len(address) < 4 or not _HAS_LETTER.search(address):
            return self.reject(
                "address", "I need your street and house number, for example “12 Mill Lane”.", dispatcher, tracker
            )
        if len(address) > 300:
            return self.reject(
                "address", "That address is too long for me. Please write just the street and number.", dispatcher, tracker
            )
        return self.accept(address=address)

    def validate_district(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        district = match_district(str(value or ""), care().people.known_districts())
        if district is None:
            return self.reject(
                "district",
                "I'm sorry, we don't have providers there yet. Please choose one of the areas below, or talk to a person.",
                dispatcher,
                tracker,
            )
        return self.accept(district=district)

    def validate_dietary_needs(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        values = value if isinstance(value, list) else [value]
        diets, unknown = read_diets(str(v) for v in values if v is not None)
        if unknown:
            return self.reject(
                "dietary_needs",
                "I didn't recognise that diet. Please choose from the buttons, or say “no special diet”.",
                dispatcher,
                tracker,
            )
        return self.accept(dietary_needs=list(diets))


def match_district(text: str, districts: list[str]) -> Optional[str]:
    """The known district the text names, tolerating case, spacing and small typos."""
    wanted = re.sub(r"[^a-z]", "", text.lower())
    if not wanted:
        return None
    squashed = {re.sub(r"[^a-z]", "", d.lower()): d for d in districts}
    if wanted in squashed:
        return squashed[wanted]
    for key, district in squashed.items():
        if key and key in wanted:
            return district
    close = difflib.get_close_matches(wanted, list(squashed), n=1, cutoff=0.75)
    return squashed[close[0]] if close else None


class ActionAskDistrict(Action):
    """Asks for the district with a button for every area we serve."""

    def name(self) -> str:
        return "action_ask_district"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        buttons = [
            {"title": d, "payload": "/inform" + json.dumps({"district": d})}
            for d in care().people.known_districts()
        ]
        dispatcher.utter_message(response="utter_ask_district", buttons=buttons)
        return []


class ActionAskDietaryNeeds(Action):
    """Asks about diet with a button per diet we can cater for."""

    def name(self) -> str:
        return "action_ask_dietary_needs"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        from assistant.care.core.vocabulary import DIETARY_TAGS

        buttons = [{"title": "No special diet", "payload": "/inform" + json.dumps({"diet": "none"})}]
        buttons += [
            {"title": tag.replace("-", " ").capitalize(), "payload": "/inform" + json.dumps({"diet": tag})}
            for tag in DIETARY_TAGS
        ]
        dispatcher.utter_message(response="utter_ask_dietary_needs", buttons=buttons)
        return []


class ActionRegisterUser(Action):
    """Saves the registration when the user consented; otherwise forgets the answers."""

    def name(self) -> str:
        return "action_register_user"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        forget = [SlotSet(slot, None) for slot in ONBOARDING_SLOTS]
        if not tracker.get_slot("consent"):
            dispatcher.utter_message(response="utter_no_consent")
            return [*forget, SlotSet("registered", False)]
        try:
            profile = care().people.register_senior(
                conversation_id=tracker.sender_id,
                channel=channel_of(tracker),
                full_name=tracker.get_slot("full_name"),
                address=tracker.get_slot("address"),
                district=tracker.get_slot("district"),
                dietary_needs=tracker.get_slot("dietary_needs") or [],
                consent_care_data=True,
                timezone=load_settings().timezone,
            )
        except CareError as error:
            dispatcher.utter_message(response="utter_registration_failed", reason=error.message)
            return [*forget, SlotSet("registered", False)]
        name = first_name(profile.full_name)
        # A request made before registering carries on by itself; otherwise, say what comes next.
        resumes = tracker.get_slot("pending_request") is not None
        dispatcher.utter_message(response="utter_registered" if resumes else "utter_registered_next", user_name=name)
        return [*forget, SlotSet("registered", True), SlotSet("user_name", name)]
