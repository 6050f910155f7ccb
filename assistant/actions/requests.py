"""Requests the assistant cannot fulfil yet: recorded for a care coordinator, and said so honestly."""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from assistant.actions.base import care, latest_intent, latest_text, profile_of

logger = logging.getLogger(__name__)

# intent -> (escalation kind, what the assistant says about itself first)
REQUEST_KINDS: dict[str, tuple[str, str]] = {
    "talk_to_human": ("talk_to_human", ""),
}


class ActionRecordRequest(Action):
    """Records the request as an escalation; nothing is promised that was not saved."""

    def name(self) -> str:
        return "action_record_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        intent = latest_intent(tracker)
        kind, what = REQUEST_KINDS.get(intent, ("talk_to_human", ""))
        try:
            profile = profile_of(tracker)
            escalation = care().escalations.open(
                kind,
                tracker.sender_id,
                summary=f"{intent}: {latest_text(tracker)[:1000]}",
                person_id=profile.person_id if profile else None,
            )
        except Exception:
            logger.exception("could not record a %s request for %s", kind, tracker.sender_id)
            dispatcher.utter_message(response="utter_request_not_recorded", what=what)
            return []
        if kind == "talk_to_human":
            dispatcher.utter_message(response="utter_human_recorded", reference=escalation.reference)
        else:
            dispatcher.utter_message(response="utter_request_recorded", what=what, reference=escalation.reference)
        return []
