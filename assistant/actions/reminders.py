"""Reminders by conversation: set (read back first), list, stop, and answer them when they come."""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from assistant.actions.base import (
    care,
    first_entity,
    latest_text,
    now_utc,
    profile_of,
    user_timezone,
)
from assistant.actions.forms import PatientFormValidation
from assistant.care.core.errors import CareError, InvalidInput
from assistant.care.reminders.reminder_messages import CHECKIN_BUTTONS, compose
from assistant.care.reminders.reminders import ReminderView
from assistant.settings import load_settings

logger = logging.getLogger(__name__)

REMINDER_FORM_SLOTS = ("reminder_title", "reminder_when", "reminder_confirm", "failed_attempts")
MEDICATION_WORDS = re.compile(
    r"\b(pills?|tablets?|medicines?|medication|meds|insulin|inhaler|drops|capsules?|antibiotics?|"
    r"painkillers?|warfarin|metformin|statins?|vitamins?|jab|injection|prescription)\b"
)
APPOINTMENT_WORDS = re.compile(
    r"\b(appointment|appt|doctor'?s?|gp|dentist|hospital|clinic|optician|chiropodist|physio|nurse|surgery|check-?up)\b"
)
TIME_START = re.compile(
    r"\b(every|each|daily|tomorrow|tonight|today|yesterday|"
    r"at (?=\d)|at (?:noon|midday|midnight|lunch|lunchtime|breakfast|dinner|tea|teatime|night|bedtime)|"
    r"in (?=\d)|in (?:half|an? (?:hour|minute|min|day|week|fortnight|month|couple|few))|"
    r"in the (?:morning|afternoon|evening)|"
    r"(?:this|next) (?:morning|afternoon|evening|night|week|weekend|month|(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*)|"
    r"on (?:the )?(?=\d)|on (?:mon|tue|wed|thu|fri|sat|sun)[a-z]*|"
    r"before (?:bed|breakfast|lunch|dinner)|with (?:breakfast|lunch|dinner)|mornings?|evenings?|"
    r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*day)\b",
    re.IGNORECASE,
)
OWNED = frozenset("my the your his her our their a an".split())
"""A day or part of the day after these is part of the name: "my morning pills", "the Monday class"."""
THEN_WHAT = re.compile(r"\s(?:to|about|that|for)\s", re.IGNORECASE)
"""Where the reminder's subject starts after a time said first."""
LEAD_IN = re.compile(
    r"^(?:(?:hello|hi|please|can you|could you|would you|will you|i want you to|i need you to|"
    r"set (?:up )?(?:a |an )?(?:daily |medication |pill )?(?:reminder|alarm)(?: for| to| about)?|add a reminder:?|"
    r"remind (?:me|him|her|my \w+)(?: to| about| of| that)?|don'?t let me forget(?: to| about)?|nudge me(?: to)?|"
    r"ping me(?: to)?|i need a reminder(?: for| to| about)?|new reminder)[\s,]*)+",
    re.IGNORECASE,
)


def reminder_kind(title: str) -> str:
    """medication, appointment or other, from the words of the title."""
    text = title.lower()
    if MEDICATION_WORDS.search(text):
        return "medication"
    if APPOINTMENT_WORDS.search(text):
        return "appointment"
    return "other"


def split_request(text: str) -> tuple[str, str]:
    """(what, when) from "remind me to take my pills every day at 8"; either may be empty."""
    body = LEAD_IN.sub("", " ".join(text.split())).strip(" ,.!?")
    match = next(
        (m for m in TIME_START.finditer(body) if body[: m.start()].split()[-1:] not in ([w] for w in OWNED)),
        None,
    )
    if match is None:
        return body, ""
    what = body[: match.start()].strip(" ,.!?")
    when = body[match.start():].strip(" ,.!?")
    if not what:  # the time came first: "at 9 tomorrow to phone the bank"
        then = THEN_WHAT.search(when)
        if then is not None:
            return when[then.end():].strip(" ,.!?"), when[: then.start()].strip(" ,.!?")
    return what, when


def clean_title(what: str) -> str:
    """'take my blood pressure pills' stays; 'to take' loses the 'to'; pronouns stay as said."""
    what = re.sub(r"^(?:to|about|of|for|that)\s+", "", what.strip(), flags=re.IGNORECASE)
    return what[:1].upper() + what[1:] if what else ""


def preview_for(tracker: Tracker, title: str, when: str) -> ReminderView:
    """The reminder as it would be saved (raises InvalidInput with a kind message)."""
    return care().reminders.preview(tracker.sender_id, reminder_kind(title), title, when)


class ValidateReminderForm(PatientFormValidation):
    """What to remind about and when, checked by the care layer before the read-back."""

    def name(self) -> str:
        return "validate_reminder_form"

    async def extract_reminder_title(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("reminder_title"):
            return {}
        answer = self.requested_answer(tracker, "reminder_title")
        if answer:
            what, when = split_request(answer)  # "my pills at 8" answers both questions
            if not when or tracker.get_slot("reminder_when"):
                return {"reminder_title": answer}
            return {"reminder_when": when, **({"reminder_title": what} if what else {})}
        if tracker.get_slot("requested_slot") is None:
            what, when = split_request(latest_text(tracker))
            found: dict[str, Any] = {}
            if len(clean_title(what)) >= 3 and not re.fullmatch(r"(?i)(a |an )?reminder", what):
                found["reminder_title"] = clean_title(what)
            if when and not tracker.get_slot("reminder_when"):
                found["reminder_when"] = when
            return found
        return {}

    def validate_reminder_title(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        title = clean_title(" ".join(str(value or "").split()))
        if len(title) < 2:
            return self.reject("reminder_title", "What should I remind you about? A few words are enough.", dispatcher, tracker)
        if len(title) > 200:
            return self.reject(
                "reminder_title", "That's a bit long for a reminder. Please give it a short name, like “heart tablet”.",
                dispatcher, tracker,
            )
        return self.accept(reminder_title=title)

    async def extract_reminder_when(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        answer = self.requested_answer(tracker, "reminder_when")
        return {"reminder_when": answer} if answer else {}

    def validate_reminder_when(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        when = " ".join(str(value or "").split())
        title = tracker.get_slot("reminder_title") or "your reminder"
        try:
            preview_for(tracker, title, when)
        except InvalidInput as error:
            if error.field in ("time", "schedule", None):
                return self.reject("reminder_when", error.message, dispatcher, tracker)
            return self.reject("reminder_title", error.message, dispatcher, tracker, reminder_when=when)
        except CareError as error:
            return self.reject("reminder_when", error.message, dispatcher, tracker)
        return self.accept(reminder_when=when)


class ActionAskReminderWhen(Action):
    """Asks when, with common answers as buttons."""

    def name(self) -> str:
        return "action_ask_reminder_when"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        buttons = [
            {"title": "Every day at 8:00", "payload": "every day at 8am"},
            {"title": "Every day at 8:00 and 20:00", "payload": "every day at 8am and 8pm"},
            {"title": "Tomorrow at 9:00", "payload": "tomorrow at 9am"},
            {"title": "In 1 hour", "payload": "in 1 hour"},
        ]
        dispatcher.utter_message(response="utter_ask_reminder_when", buttons=buttons)
        return []


def escalation_words(view: ReminderView) -> str:
    """What happens if a medication reminder is not confirmed."""
    if view.kind != "medication" or not view.escalate_after_minutes:
        return ""
    return (
        f" If you don't press “Done” within {view.escalate_after_minutes} minutes, "
        "I'll let your family or a care coordinator know."
    )


class ActionAskReminderConfirm(Action):
    """Reads the reminder back before anything is saved."""

    def name(self) -> str:
        return "action_ask_reminder_confirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        title = tracker.get_slot("reminder_title") or ""
        when = tracker.get_slot("reminder_when") or ""
        try:
            view = preview_for(tracker, title, when)
        except CareError as error:
            dispatcher.utter_message(response="utter_invalid_answer", reason=error.message)
            return [SlotSet("reminder_when", None)]
        dispatcher.utter_message(response="utter_reminder_summary", read_back=view.read_back, escalation=escalation_words(view))
        return []


class ActionSaveReminder(Action):
    """Saves the reminder; only then says it is set."""

    def name(self) -> str:
        return "action_save_reminder"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reset = [SlotSet(slot, None) for slot in REMINDER_FORM_SLOTS]
        if not tracker.get_slot("reminder_confirm"):
            dispatcher.utter_message(response="utter_reminder_not_saved")
            return reset
        title = tracker.get_slot("reminder_title") or ""
        try:
            view = care().reminders.create(
                tracker.sender_id, reminder_kind(title), title, tracker.get_slot("reminder_when") or ""
            )
        except CareError as error:
            dispatcher.utter_message(response="utter_reminder_failed", reason=error.message)
            return reset
        dispatcher.utter_message(response="utter_reminder_saved", read_back=view.read_back)
        return reset


class ActionListReminders(Action):
    """Lists the reminders, the next one first, with a button to stop each."""

    def name(self) -> str:
        return "action_list_reminders"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            reminders = care().reminders.list_for(tracker.sender_id)
        except CareError as error:
            dispatcher.utter_message(response="utter_invalid_answer", reason=error.message)
            return []
        if not reminders:
            dispatcher.utter_message(response="utter_no_reminders")
            return []
        dispatcher.utter_message(response="utter_reminders_header")
        for reminder in reminders:
            dispatcher.utter_message(response="utter_reminder_line", read_back=reminder.read_back)
        return []


def cancel_buttons(reminders: list[ReminderView]) -> list[dict[str, str]]:
    """A button per reminder that stops it."""
    return [
        {"title": f"Stop: {r.title}", "payload": "/cancel_reminder" + json.dumps({"reminder": str(r.reminder_id)})}
        for r in reminders
    ]


class ActionCancelReminder(Action):
    """Stops the reminder the user names (or pressed); asks which when it is not clear."""

    def name(self) -> str:
        return "action_cancel_reminder"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        service = care().reminders
        try:
            reminders = service.list_for(tracker.sender_id)
        except CareError as error:
            dispatcher.utter_message(response="utter_reminder_cancel_failed", reason=error.message)
            return []
        if not reminders:
            dispatcher.utter_message(response="utter_no_reminders")
            return []
        pressed = first_entity(tracker, "reminder") or None
        wanted = pressed or self._named(latest_text(tracker), reminders)
        if wanted is None:
            dispatcher.utter_message(response="utter_which_reminder_to_cancel", buttons=cancel_buttons(reminders))
            return []
        try:
            stopped = service.cancel(tracker.sender_id, wanted)
        except CareError as error:
            dispatcher.utter_message(response="utter_reminder_cancel_failed", reason=error.message)
            return []
        dispatcher.utter_message(response="utter_reminder_cancelled", title=stopped.title)
        return []

    @staticmethod
    def _named(text: str, reminders: list[ReminderView]) -> Optional[str]:
        """The id of the one reminder whose title shares a real word with the message."""
        words = {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 3} - {
            "cancel", "stop", "remove", "delete", "reminder", "reminders", "reminding", "please", "anymore", "need",
        }
        hits = [r for r in reminders if words & set(re.findall(r"[a-z]+", r.title.lower()))]
        if len(hits) == 1:
            return str(hits[0].reminder_id)
        if len(reminders) == 1 and not words:
            return str(reminders[0].reminder_id)
        return None


class ActionDeliverReminder(Action):
    """Says a reminder sent as ``EXTERNAL_reminder``, with its buttons.

    The care service appends reminders to the conversation itself (the same words, composed by
    :mod:`assistant.care.reminders.reminder_messages`, recorded as this action), so this runs only
    for a reminder triggered the older way, e.g. by a care service not yet upgraded.
    """

    def name(self) -> str:
        return "action_deliver_reminder"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        kind = first_entity(tracker, "kind", "other")
        hour = now_utc().astimezone(user_timezone(profile_of(tracker))).hour
        message = compose(
            kind, first_entity(tracker, "title", "your reminder"), due_time=first_entity(tracker, "due_time"),
            dose=first_entity(tracker, "dose") or None, location=first_entity(tracker, "location") or None,
            note=first_entity(tracker, "due_note"), local_hour=hour,
        )
        dispatcher.utter_message(text=message.text, buttons=[dict(b) for b in message.buttons])
        return [SlotSet("last_delivery_id", first_entity(tracker, "delivery_id") or None), SlotSet("last_delivery_kind", kind)]


def delivery_slot(tracker: Tracker) -> Optional[int]:
    """The delivery the latest reminder message was about, if known."""
    raw = tracker.get_slot("last_delivery_id")
    try:
        return int(raw) if raw else None
    except (TypeError, ValueError):
        return None


class ActionReminderDone(Action):
    """"Done", "I took them" or "yes" right after a reminder: recorded as acknowledged."""

    def name(self) -> str:
        return "action_reminder_done"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("last_delivery_kind") == "checkin":  # "yes, all good" answers the check-in
            return answer_checkin(dispatcher, tracker, checkin_answer(tracker) or "fine")
        try:
            done = care().reminders.acknowledge(tracker.sender_id, delivery_slot(tracker))
            if done is None and delivery_slot(tracker) is not None:
                done = care().reminders.acknowledge(tracker.sender_id)
        except CareError as error:
            dispatcher.utter_message(response="utter_invalid_answer", reason=error.message)
            return []
        if done is None:
            dispatcher.utter_message(response="utter_nothing_to_acknowledge")
        else:
            dispatcher.utter_message(response="utter_reminder_acknowledged")
        return [SlotSet("last_delivery_id", None), SlotSet("last_delivery_kind", None)]


def snooze_minutes(text: str) -> int:
    """Minutes from "in 20 minutes", "2 hours", "half an hour" or "an hour" (10 when none is said)."""
    text = text.lower()
    match = re.search(r"(\d+)\s*(h(?:ou)?rs?\b)?", text)
    if match:
        return int(match.group(1)) * (60 if match.group(2) else 1)
    if re.search(r"\bhalf an? hour\b", text):
        return 30
    if re.search(r"\b(?:an|one) hour\b", text):
        return 60
    return 10


class ActionSnoozeReminder(Action):
    """"Remind me in 10 minutes": the care service sends it again then."""

    def name(self) -> str:
        return "action_snooze_reminder"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        said = first_entity(tracker, "minutes")
        minutes = int(said) if said.isdigit() else snooze_minutes(latest_text(tracker))
        try:
            delivery = care().reminders.snooze(tracker.sender_id, minutes, delivery_slot(tracker))
        except CareError as error:
            dispatcher.utter_message(response="utter_snooze_failed", reason=error.message)
            return []
        if delivery is None or delivery.snoozed_until is None:
            dispatcher.utter_message(response="utter_nothing_to_acknowledge")
            return []
        until = delivery.snoozed_until.astimezone(user_timezone(profile_of(tracker)))
        dispatcher.utter_message(response="utter_reminder_snoozed", until=f"{until:%H:%M}")
        return []


class ActionMissedReminder(Action):
    """Tells a relative that their senior has not confirmed a reminder."""

    def name(self) -> str:
        return "action_missed_reminder"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reason = first_entity(tracker, "reason")
        dispatcher.utter_message(
            response="utter_missed_reminder",
            senior_name=first_entity(tracker, "senior_name", "Your relative"),
            what=first_entity(tracker, "title", "a reminder"),
            due_time=first_entity(tracker, "due_time"),
            reason=f" {reason}" if reason else "",
        )
        return []


class ActionReminderAcknowledged(Action):
    """Tells a relative who was alerted that the reminder has now been confirmed."""

    def name(self) -> str:
        return "action_reminder_acknowledged"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(
            response="utter_reminder_acknowledged_late",
            senior_name=first_entity(tracker, "senior_name", "Your relative"),
            title=first_entity(tracker, "title", "the reminder"),
            due_time=first_entity(tracker, "due_time"),
        )
        return []


ANSWER_WORDS = {"not_good": "are not feeling good", "call_me": "would like someone to call them"}


class ActionCheckinAlert(Action):
    """Tells a relative what their senior answered at the check-in."""

    def name(self) -> str:
        return "action_checkin_alert"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(
            response="utter_checkin_alert",
            senior_name=first_entity(tracker, "senior_name", "Your relative"),
            answer_words=ANSWER_WORDS.get(first_entity(tracker, "answer"), "need help"),
            reference=first_entity(tracker, "reference"),
        )
        return []


def checkin_answer(tracker: Tracker) -> Optional[str]:
    """fine / not_good / call_me from a button or the words of the answer."""
    pressed = first_entity(tracker, "checkin")
    if pressed:
        return pressed
    text = re.sub(r"\bnot (?:so |too |that )?bad\b", "fine", latest_text(tracker).lower())  # British for fine
    if re.search(r"\bcall\b|\bring me\b|\bphone me\b|\bspeak to (someone|a person)\b", text):
        return "call_me"
    if re.search(
        r"\bnot (so |too |very )?(good|great|well|fine)\b|"
        r"\b(poorly|unwell|ill|sick|bad|badly|awful|terrible|low|dizzy|pain|pains|painful|hurts?|hurting)\b",
        text,
    ):
        return "not_good"
    if re.search(r"\b(fine|good|well|ok|okay|great|grand|lovely|alright|all right)\b", text):
        return "fine"
    return None


def answer_checkin(dispatcher: CollectingDispatcher, tracker: Tracker, answer: str) -> list[EventType]:
    """Records a check-in answer and says what happens next; not good or call me reaches people."""
    forget = [SlotSet("last_delivery_id", None), SlotSet("last_delivery_kind", None)]
    try:
        result = care().reminders.answer_checkin(tracker.sender_id, answer)
    except CareError as error:
        dispatcher.utter_message(response="utter_checkin_failed", reason=error.message)
        return forget
    number = load_settings().emergency_number
    who = "your family and a care coordinator" if result.relatives_told else "a care coordinator"
    if result.answer == "fine":
        dispatcher.utter_message(response="utter_checkin_fine")
    elif result.answer == "not_good":
        dispatcher.utter_message(response="utter_checkin_not_good", who=who, number=number)
    else:
        dispatcher.utter_message(
            response="utter_checkin_call_me", who=who, reference=result.escalation_reference or "", number=number
        )
    return forget


class ActionCheckinAnswer(Action):
    """Records the check-in answer from a button or the user's words."""

    def name(self) -> str:
        return "action_checkin_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("last_delivery_kind") != "checkin":
            dispatcher.utter_message(response="utter_default")
            return []
        answer = checkin_answer(tracker)
        if answer is None:
            dispatcher.utter_message(text="How are you today?", buttons=[dict(b) for b in CHECKIN_BUTTONS])
            return []
        return answer_checkin(dispatcher, tracker, answer)


class ActionSetCheckin(Action):
    """"Check on me every morning at 10": sets or moves the daily check-in."""

    def name(self) -> str:
        return "action_set_checkin"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        _, when = split_request(latest_text(tracker))
        try:
            view = care().reminders.set_checkin(tracker.sender_id, when or "every day at 10am")
        except CareError as error:
            dispatcher.utter_message(response="utter_checkin_set_failed", reason=error.message)
            return []
        dispatcher.utter_message(response="utter_checkin_set", schedule=view.schedule)
        return []


class ActionStopCheckin(Action):
    """Stops the daily check-in."""

    def name(self) -> str:
        return "action_stop_checkin"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            stopped = care().reminders.stop_checkin(tracker.sender_id)
        except CareError as error:
            dispatcher.utter_message(response="utter_checkin_set_failed", reason=error.message)
            return []
        dispatcher.utter_message(response="utter_checkin_stopped" if stopped else "utter_no_checkin")
        return []
