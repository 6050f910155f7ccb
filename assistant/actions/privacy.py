"""Your data, your say: "/mydata" shows and sends what we hold, "/forget" deletes it after one yes."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Final, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from assistant.actions.base import care, latest_intent
from assistant.care.core.errors import CareError
from assistant.care.privacy.forget import NOT_A_SENIOR, ForgetReport
from assistant.care.privacy.history import ConversationHistory
from assistant.care.privacy.records import NOBODY
from assistant.care.privacy.summary import active_reminders, describe_counts, upcoming_bookings
from assistant.settings import load_settings

FORGOTTEN_SLOT: Final = "forgotten"
"""Set once the person is deleted; the tracker store then deletes the conversation (assistant/tracker_store.py)."""
CONFIRM_PAYLOAD: Final = "/confirm_forget"
KEEP_PAYLOAD: Final = "/deny"
TALK_TO_A_PERSON: Final = {"title": "Talk to a person", "payload": "/talk_to_human"}
WITHDRAW_INTRO: Final = (
    "Without your consent I may not keep your details, so withdrawing it means deleting them, "
    "and I can't arrange meals, visits or reminders for you after that. "
)


@lru_cache(maxsize=4)
def _history(url: str) -> ConversationHistory:
    return ConversationHistory(url)


def conversation_history(tracker: Tracker) -> list[dict[str, Any]]:
    """Every event of this conversation: what Rasa has stored, then this turn's (not stored yet)."""
    stored = _history(load_settings().tracker_url).events_of(tracker.sender_id)
    last = max((event.get("timestamp") or 0 for event in stored), default=0)
    return stored + [event for event in tracker.events if event.get("timestamp", last + 1) > last]


class ActionShowMyData(Action):
    """Says in plain words what we hold about the person, then sends all of it as one JSON file."""

    def name(self) -> str:
        return "action_show_my_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        export = care().privacy.data_export(tracker.sender_id, conversation_history(tracker))
        dispatcher.utter_message(text="This is what I keep about you:\n" + export.summary)
        dispatcher.utter_message(
            text="Here is all of it as one file, with our conversation. To delete everything, say “forget me” or send /forget.",
            json_message={"download": {
                "filename": export.filename, "mime": "application/json", "content": export.document,
                "label": f"Download my data ({export.filename})",
            }},
        )
        return []


def _deletion_question(sender_id: str) -> Optional[str]:
    """What a deletion would take away, for the one question before it; None when it is not theirs to ask."""
    records = care().privacy.export(sender_id)
    if records is None or records.person_id == NOBODY:
        return "I keep no details about you, only our conversation. Shall I delete it?"
    tables = records.tables
    roles = [row["role"] for row in tables.get("persons", ()) if row["id"] == records.person_id]
    if roles == ["relative"]:
        helped = [m.name for m in care().family.family(sender_id).members] if tables.get("relative_links") else []
        link = f", and ends your link with {' and '.join(helped)}, who will be told in one line" if helped else ""
        return (
            f"This deletes your own details and our conversation{link}. What you arranged for someone stays "
            "theirs, without your name. It cannot be undone. Shall I delete everything?"
        )
    if roles != ["senior"]:
        return None
    upcoming = len(upcoming_bookings(records))
    reminders = len(active_reminders(records))
    parts = ["your name, address and diet", "our conversation"]
    if upcoming:
        parts.append(f"{upcoming} booking{'s' if upcoming != 1 else ''} still to come, which will be cancelled")
    if reminders:
        parts.append(f"{reminders} reminder{'s' if reminders != 1 else ''}, which will stop")
    if tables.get("relative_links"):
        parts.append("your family links: each relative is told only that the link has ended")
    return (
        "This deletes everything I keep about you: " + "; ".join(parts) + ". Visits already carried out stay "
        "for the providers' accounts, without your name. It cannot be undone. Shall I delete everything?"
    )


class ActionAskForget(Action):
    """Asks once, with buttons, before anything is deleted, saying what would go."""

    def name(self) -> str:
        return "action_ask_forget"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        question = _deletion_question(tracker.sender_id)
        if question is None:
            dispatcher.utter_message(text=NOT_A_SENIOR, buttons=[TALK_TO_A_PERSON])
            return []
        intro = WITHDRAW_INTRO if latest_intent(tracker) == "withdraw_consent" else ""
        dispatcher.utter_message(
            text=intro + question,
            buttons=[{"title": "Yes, delete everything", "payload": CONFIRM_PAYLOAD},
                     {"title": "No, keep it", "payload": KEEP_PAYLOAD}],
        )
        return []


class ActionForgetMe(Action):
    """Deletes everything about the person, says what went, and has the conversation deleted too."""

    def name(self) -> str:
        return "action_forget_me"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            report = care().privacy.forget(tracker.sender_id)
        except CareError as error:
            dispatcher.utter_message(text=error.message, buttons=[TALK_TO_A_PERSON])
            return []
        dispatcher.utter_message(text=_forgotten_text(report))
        return [SlotSet(FORGOTTEN_SLOT, True)]


def _forgotten_text(report: ForgetReport) -> str:
    kept = sum(report.kept.values())
    told = report.relatives_told
    if not report.deleted:
        return "Done: I have deleted our conversation. I kept nothing else about you."
    return " ".join(filter(None, [
        f"Done: I have deleted {describe_counts(report.deleted)}, and our conversation.",
        f"{told} relative{'s were' if told != 1 else ' was'} told that the link has ended." if told else "",
        "Visits already carried out stay for the providers' accounts, without your name." if kept else "",
        "If you want to use the service again one day, just say hello.",
    ]))
