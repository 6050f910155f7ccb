"""Profile changes by conversation: "I moved to 5 Oak Street", "I'm vegetarian now"."""

from __future__ import annotations

import re
from typing import Any, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from assistant.actions.base import (
    RegisteredUserAction,
    care,
    entity_values,
    latest_text,
)
from assistant.actions.onboarding import match_district
from assistant.care.people.diets import describe_diets, read_diets
from assistant.care.core.errors import CareError
from assistant.care.core.views import ProfileView

_ADDRESS = re.compile(
    r"(?:moved to|moving to|new address is|address is now|now live at|now living at|live at|"
    r"living at|change my address to|address to)\s+(?P<address>.+)",
    re.IGNORECASE,
)
_NEGATED_DIET = re.compile(
    r"(?:no longer|not|stopped being|don'?t need|no more)\s+(?:a\s+|an\s+|on\s+a\s+|eating\s+)?(?P<diet>[\w-]+(?:\s+[\w-]+)?)",
    re.IGNORECASE,
)


def requested_changes(tracker: Tracker, districts: list[str], current_diet: tuple[str, ...]) -> dict[str, Any]:
    """What the latest message asks to change in the profile."""
    text = latest_text(tracker)
    changes: dict[str, Any] = {}
    district: Optional[str] = None
    for value in entity_values(tracker, "district"):
        district = match_district(value, districts) or district
    address_match = _ADDRESS.search(text)
    if address_match:
        address = address_match.group("address").strip(" .!")
        if district:
            address = re.sub(rf"[,\s]+(?:in\s+)?{re.escape(district)}\s*$", "", address, flags=re.IGNORECASE)
        changes["address"] = address
    if district:
        changes["district"] = district
    for field in ("phone", "address"):  # shared from Telegram as a contact, after the user said yes
        shared = entity_values(tracker, field)
        if shared:
            changes[field] = shared[0]
    diets, _ = read_diets(entity_values(tracker, "diet"))
    if diets:
        removed = set()
        for match in _NEGATED_DIET.finditer(text):
            removed |= set(read_diets([match.group("diet")])[0])
        removed &= set(diets) - {"low-salt"}  # "I don't eat salt any more" asks for low-salt food
        new_diet = (set(current_diet) | set(diets)) - removed
        changes["dietary_needs"] = sorted(new_diet)
    return changes


class ActionUpdateProfile(RegisteredUserAction):
    """Saves what the user asked to change, then says exactly what changed."""

    def name(self) -> str:
        return "action_update_profile"

    async def run_for(
        self, profile: ProfileView, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        changes = requested_changes(tracker, care().people.known_districts(), profile.dietary_needs)
        if not changes or (changes.get("dietary_needs") is not None and len(changes) == 1
                           and tuple(changes["dietary_needs"]) == tuple(profile.dietary_needs)):
            dispatcher.utter_message(response="utter_profile_unchanged")
            return []
        try:
            updated = care().people.update_profile(tracker.sender_id, **changes)
        except CareError as error:
            dispatcher.utter_message(response="utter_profile_update_failed", reason=error.message)
            return []
        said = []
        if "address" in changes:
            said.append(f"address to {updated.address}")
        if "district" in changes:
            said.append(f"area to {updated.district}")
        if "dietary_needs" in changes:
            said.append(f"diet to {describe_diets(updated.dietary_needs)}")
        dispatcher.utter_message(response="utter_profile_updated", changes=" and ".join(said))
        return []
