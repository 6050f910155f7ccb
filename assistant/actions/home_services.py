"""Help at home by conversation: what, when, who (as buttons), the full price, and only then the booking."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Optional
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from assistant.actions.base import (
    care,
    entity_values,
    first_entity,
    latest_text,
    now_utc,
    profile_of,
    user_timezone,
)
from assistant.actions.forms import PatientFormValidation
from assistant.actions.meals import ORDINALS, say_when
from assistant.care.core.errors import CareError, InvalidInput, Unavailable
from assistant.care.homeservices.homeservices import (
    MAX_LAUNDRY_RETURN,
    SERVICES,
    ServiceOption,
    TimeWindow,
    normalise_service,
    parse_window,
)
from assistant.care.core.timeparse import TimeParseError, parse_when
from assistant.care.core.views import format_price

logger = logging.getLogger(__name__)

SERVICE_FORM_SLOTS = (
    "home_service",
    "service_window",
    "service_details",
    "service_return",
    "service_choice",
    "service_confirm",
    "failed_attempts",
)
SERVICE_WORDS = {
    "cleaning": "cleaning",
    "laundry": "laundry",
    "repair": "repair",
    "hairdressing": "hairdressing",
    "beauty": "nails and beauty",
}
SERVICE_BUTTONS = (
    ("Cleaning", "cleaning"),
    ("Laundry pickup", "laundry"),
    ("A repair", "repair"),
    ("Hairdresser", "hairdressing"),
    ("Nails and feet", "beauty"),
)
NEEDS_DETAILS = ("repair",)
"""Services whose helper must know what to do before coming."""
UNMATCHED = "unmatched"
_GENERIC = re.compile(
    r"\b(can|could|would|will|please|someone|somebody|come|round|and|i|i'd|i'm|need|want|like|to|a|an|the|"
    r"me|my|for|book|get|send|some|help|with|at|on|in|this|next|tomorrow|today|morning|afternoon|evening)\b"
)


@dataclass(frozen=True)
class Choice:
    """A provider's offering at a start time, as carried in the ``service_choice`` slot."""

    offering_id: int
    starts_at: datetime

    @property
    def key(self) -> str:
        """The slot value, e.g. ``"o:12@2026-11-27T09:00:00+00:00"``."""
        return f"o:{self.offering_id}@{self.starts_at.isoformat()}"

    @classmethod
    def parse(cls, key: Optional[str]) -> Optional["Choice"]:
        """Read a slot value back (None for anything else)."""
        match = re.fullmatch(r"o:(\d+)@(.+)", (key or "").strip())
        if not match:
            return None
        try:
            return cls(int(match.group(1)), datetime.fromisoformat(match.group(2)))
        except ValueError:
            return None


def window_of(tracker: Tracker) -> Optional[TimeWindow]:
    """The validated time window from the ``service_window`` slot."""
    raw = tracker.get_slot("service_window")
    try:
        data = json.loads(raw) if raw else None
        return TimeWindow(datetime.fromisoformat(data["start"]), datetime.fromisoformat(data["end"]))
    except (TypeError, ValueError, KeyError):
        return None


def window_words(window: TimeWindow, tz: ZoneInfo) -> str:
    """'on Friday 27 November between 08:00 and 12:00', or 'tomorrow at 15:00'."""
    if window.ends_at <= window.starts_at:
        return say_when(window.starts_at, tz)
    day = say_when(window.starts_at, tz, with_time=False)
    start = window.starts_at.astimezone(tz)
    end = window.ends_at.astimezone(tz)
    prefix = "" if day in ("today", "tomorrow") else "on "
    return f"{prefix}{day} between {start:%H:%M} and {end:%H:%M}"


def option_button(option: ServiceOption, tz: ZoneInfo) -> dict[str, str]:
    """A big, short button: who, when, price and score."""
    stars = f"★{option.score:.1f}" if option.review_count or option.score else "new"
    check = " ✓" if option.verified else ""
    title = f"{option.provider_name}{check}, {say_when(option.starts_at, tz)}, {option.total_text}, {stars}"
    payload = "/inform" + json.dumps({"choice": Choice(option.offering_id, option.starts_at).key})
    return {"title": title, "payload": payload}


def service_from_text(text: str) -> Optional[str]:
    """The service a free-text message asks for, if it names one."""
    try:
        return normalise_service(text)
    except InvalidInput:
        return None


def details_from(text: str) -> str:
    """The message itself as details, when it says more than "book a plumber"."""
    rest = [w for w in re.findall(r"[a-z']+", _GENERIC.sub(" ", text.lower())) if len(w) > 2]
    return text.strip()[:500] if len(rest) >= 3 else ""


class ValidateHomeServiceForm(PatientFormValidation):
    """Fills the booking: service, when, details when needed, who, and the user's yes."""

    def name(self) -> str:
        return "validate_home_service_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        service = tracker.get_slot("home_service")
        slots = list(domain_slots)
        at = slots.index("service_choice")
        extra = []
        if service in NEEDS_DETAILS:
            extra.append("service_details")
        if service == "laundry":
            extra.append("service_return")
        return slots[:at] + extra + slots[at:]

    async def extract_home_service(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("home_service"):
            return {}
        answer = self.requested_answer(tracker, "home_service")
        named = [v for v in entity_values(tracker, "service") if v in SERVICES]
        if named:
            return {"home_service": named[0]}
        if answer:
            return {"home_service": answer}
        if tracker.get_slot("requested_slot") is None:
            found = service_from_text(latest_text(tracker))
            return {"home_service": found} if found else {}
        return {}

    def validate_home_service(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        try:
            service = normalise_service(str(value or ""))
        except InvalidInput as error:
            return self.reject("home_service", error.message, dispatcher, tracker)
        result: dict[str, Any] = {"home_service": service}
        if service in NEEDS_DETAILS and not tracker.get_slot("service_details"):
            details = details_from(latest_text(tracker))
            if details:
                result["service_details"] = details
        return self.accept(**result)

    async def extract_service_window(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("service_window"):
            return {}
        return self.time_answer(tracker, "service_window")

    def validate_service_window(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if window_of(tracker) is not None and value == tracker.get_slot("service_window"):
            return {}
        tz = user_timezone(profile_of(tracker))
        try:
            window = parse_window(str(value or ""), now_utc(), tz)
        except InvalidInput as error:
            return self.reject("service_window", error.message, dispatcher, tracker)
        encoded = json.dumps({"start": window.starts_at.isoformat(), "end": window.ends_at.isoformat()})
        return self.accept(service_window=encoded, service_choice=None)

    async def extract_service_details(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        answer = self.requested_answer(tracker, "service_details")
        return {"service_details": answer} if answer else {}

    def validate_service_details(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = " ".join(str(value or "").split())
        if len(text) < 3:
            return self.reject("service_details", "Please tell me in a few words what needs doing.", dispatcher, tracker)
        return self.accept(service_details=text[:500])

    async def extract_service_return(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        answer = self.requested_answer(tracker, "service_return")
        return {"service_return": answer} if answer else {}

    def validate_service_return(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "")
        try:
            datetime.fromisoformat(text)
            return {}
        except ValueError:
            pass
        window = window_of(tracker)
        tz = user_timezone(profile_of(tracker))
        try:
            when = parse_when(text, now_utc().astimezone(tz))
        except TimeParseError as error:
            return self.reject("service_return", error.message, dispatcher, tracker)
        if when is None:
            return self.reject("service_return", "I didn't catch the day. You could say “Monday afternoon”.", dispatcher, tracker)
        back = when.start if when.has_time else when.start.replace(hour=14, minute=0)
        if window is not None and back < window.starts_at + timedelta(hours=24):
            return self.reject(
                "service_return", "Washing and drying takes at least a day after the pickup. Please choose a later day.",
                dispatcher, tracker,
            )
        if window is not None and back > window.starts_at + MAX_LAUNDRY_RETURN:
            return self.reject(
                "service_return", "Please choose a day within two weeks of the pickup.", dispatcher, tracker
            )
        return self.accept(service_return=back.isoformat())

    async def extract_service_choice(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "service_choice":
            return {}
        picked = entity_values(tracker, "choice")
        if picked:
            return {"service_choice": picked[0]}
        answer = self.requested_answer(tracker, "service_choice")
        return {"service_choice": answer} if answer else {}

    def validate_service_choice(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        answer = str(value or "")
        if answer == UNMATCHED or Choice.parse(answer) is not None:
            return self.accept(service_choice=answer)
        if re.search(r"another time|other time|different time|other day|another day", answer.lower()):
            return self.accept(service_choice=None, service_window=None)
        options = current_options(tracker)
        picked = match_provider(answer, options)
        if picked is None:
            return self.reject("service_choice", "I couldn't tell which one you mean. Please press one of the buttons.", dispatcher, tracker)
        return self.accept(service_choice=Choice(picked.offering_id, picked.starts_at).key)


def match_provider(answer: str, options: list[ServiceOption]) -> Optional[ServiceOption]:
    """The option a typed answer names: "the first one", "2", "Bright Homes"."""
    words = re.findall(r"[a-z0-9]+", answer.lower())
    for word in words:
        if word in ORDINALS and ORDINALS[word] < len(options) and len(words) <= 3:
            return options[ORDINALS[word]]
    text = " ".join(words)
    named = [o for o in options if any(w in text for w in o.provider_name.lower().split() if len(w) > 3)]
    return named[0] if len(named) == 1 else None


def current_options(tracker: Tracker) -> list[ServiceOption]:
    """The options (or nearest alternatives) for the service and window chosen so far."""
    service = tracker.get_slot("home_service")
    window = window_of(tracker)
    if not service or window is None:
        return []
    try:
        return care().home_services.find_options(tracker.sender_id, service, window)
    except Unavailable as error:
        return list(getattr(error, "alternatives", []) or [])
    except CareError:
        return []


class ActionAskHomeService(Action):
    """Asks what kind of help, with a button per service."""

    def name(self) -> str:
        return "action_ask_home_service"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        buttons = [{"title": title, "payload": "/inform" + json.dumps({"service": value})} for title, value in SERVICE_BUTTONS]
        dispatcher.utter_message(response="utter_ask_home_service", buttons=buttons)
        return []


class ActionAskServiceWindow(Action):
    """Asks when, with the next few mornings and afternoons as buttons."""

    def name(self) -> str:
        return "action_ask_service_window"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        today = now_utc().astimezone(user_timezone(profile_of(tracker)))
        dispatcher.utter_message(response="utter_ask_service_window", buttons=window_buttons(today))
        return []


def window_buttons(today: datetime) -> list[dict[str, str]]:
    """The next few mornings and afternoons, from the user's local ``today``."""
    tomorrow = today + timedelta(days=1)
    after = today + timedelta(days=2)
    buttons = [
        {"title": "Tomorrow morning", "payload": "tomorrow morning"},
        {"title": "Tomorrow afternoon", "payload": "tomorrow afternoon"},
        {"title": f"{after:%A} morning", "payload": f"{after:%A} morning"},
    ]
    if tomorrow.weekday() == 6:  # most helpers do not work on Sundays
        buttons = buttons[2:] + [{"title": f"{after:%A} afternoon", "payload": f"{after:%A} afternoon"}]
    return buttons


class ActionAskServiceReturn(Action):
    """Asks when clean laundry should come back."""

    def name(self) -> str:
        return "action_ask_service_return"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        window = window_of(tracker)
        tz = user_timezone(profile_of(tracker))
        buttons = []
        if window is not None:
            for days in (2, 3):
                day = (window.starts_at + timedelta(days=days)).astimezone(tz)
                buttons.append({"title": f"{day:%A} afternoon", "payload": f"{day:%A} {day.day} {day:%B} at 2pm"})
        dispatcher.utter_message(response="utter_ask_service_return", buttons=buttons)
        return []


class ActionAskServiceChoice(Action):
    """Offers two or three providers as buttons, the nearest other times, or a coordinator."""

    def name(self) -> str:
        return "action_ask_service_choice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        service = tracker.get_slot("home_service") or ""
        window = window_of(tracker)
        profile = profile_of(tracker)
        tz = user_timezone(profile)
        if window is None:
            return ask_window_again(dispatcher, tracker)
        when = window_words(window, tz)
        try:
            options = care().home_services.find_options(tracker.sender_id, service, window)
        except Unavailable as error:
            alternatives = list(getattr(error, "alternatives", []) or [])
            if alternatives:
                buttons = [option_button(o, tz) for o in alternatives]
                buttons.append({"title": "Another day", "payload": "another day"})
                dispatcher.utter_message(response="utter_service_alternatives", when=when, buttons=buttons)
                return []
            return self._unmatched(dispatcher, tracker, service, window, profile.district if profile else "your area")
        except CareError as error:
            if isinstance(error, InvalidInput) and error.field == "time":  # the window is over by now
                return ask_window_again(dispatcher, tracker, reason=error.message)
            dispatcher.utter_message(response="utter_service_failed", reason=error.message)
            return [SlotSet("service_choice", UNMATCHED), SlotSet("service_confirm", False), SlotSet("requested_slot", None)]
        buttons = [option_button(o, tz) for o in options]
        buttons.append({"title": "Another time", "payload": "another time"})
        dispatcher.utter_message(
            response="utter_service_options", service=SERVICE_WORDS.get(service, service), when=when, buttons=buttons
        )
        return []

    @staticmethod
    def _unmatched(
        dispatcher: CollectingDispatcher, tracker: Tracker, service: str, window: TimeWindow, district: str
    ) -> list[EventType]:
        """Nobody at all: a coordinator takes it over, and the form ends."""
        words = SERVICE_WORDS.get(service, service)
        try:
            escalation = care().home_services.request_unmatched(
                tracker.sender_id, service, window, tracker.get_slot("service_details") or ""
            )
        except CareError:
            logger.exception("could not record an unmatched %s request for %s", service, tracker.sender_id)
            dispatcher.utter_message(response="utter_service_unmatched_unsaved", service=words)
        else:
            dispatcher.utter_message(
                response="utter_service_unmatched", service=words, district=district, reference=escalation.reference
            )
        return [SlotSet("service_choice", UNMATCHED), SlotSet("service_confirm", False), SlotSet("requested_slot", None)]


def ask_window_again(
    dispatcher: CollectingDispatcher, tracker: Tracker, reason: Optional[str] = None
) -> list[EventType]:
    """Forget the time window and make it the form's question again, saying ``reason`` if given."""
    buttons = window_buttons(now_utc().astimezone(user_timezone(profile_of(tracker))))
    if reason:
        dispatcher.utter_message(response="utter_invalid_answer", reason=reason, buttons=buttons)
    else:
        dispatcher.utter_message(response="utter_ask_service_window", buttons=buttons)
    return [SlotSet("service_window", None), SlotSet("requested_slot", "service_window")]


def chosen(tracker: Tracker) -> Optional[Choice]:
    """The provider and time the user picked."""
    return Choice.parse(tracker.get_slot("service_choice"))


def details_words(tracker: Tracker, tz: ZoneInfo) -> str:
    """The details read back in the summary (" Kitchen tap leaking." or the laundry return)."""
    parts = []
    details = tracker.get_slot("service_details")
    if details:
        parts.append(f" For: {details}.")
    back = tracker.get_slot("service_return")
    if back:
        parts.append(f" Brought back {say_when(datetime.fromisoformat(back), tz)}.")
    return "".join(parts)


class ActionAskServiceConfirm(Action):
    """Reads the booking back with the full price, fees included, before anything is booked."""

    def name(self) -> str:
        return "action_ask_service_confirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        choice = chosen(tracker)
        if choice is None:
            return [SlotSet("service_choice", None)]
        tz = user_timezone(profile_of(tracker))
        try:
            quote = care().home_services.quote(tracker.sender_id, choice.offering_id, choice.starts_at)
        except CareError as error:
            # Taken or gone since it was offered: say why and ask the choice again, with buttons.
            again = [SlotSet("service_choice", None), SlotSet("requested_slot", "service_choice")]
            alternatives = list(getattr(error, "alternatives", []) or [])
            if alternatives:
                buttons = [option_button(o, tz) for o in alternatives]
                buttons.append({"title": "Another time", "payload": "another time"})
                dispatcher.utter_message(response="utter_invalid_answer", reason=error.message, buttons=buttons)
                return again
            dispatcher.utter_message(response="utter_invalid_answer", reason=error.message)
            return again + await ActionAskServiceChoice().run(dispatcher, tracker, domain)
        fee_text = f" plus {format_price(quote.fees_cents)} pickup and return" if quote.fees_cents else ""
        dispatcher.utter_message(
            response="utter_service_summary",
            item=quote.offering_name,
            provider=quote.provider_name,
            when=say_when(quote.starts_at, tz),
            details=details_words(tracker, tz),
            price=format_price(quote.price_cents),
            fee_text=fee_text,
            total=quote.total_text,
        )
        return []


class ActionBookHomeService(Action):
    """Saves the booking and only then confirms it; a slot taken meanwhile brings back the choices."""

    def name(self) -> str:
        return "action_book_home_service"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reset = [SlotSet(slot, None) for slot in SERVICE_FORM_SLOTS] + [SlotSet("pending_request", None)]
        choice = chosen(tracker)
        if tracker.get_slot("service_choice") == UNMATCHED:
            return reset  # already explained when the choices were looked for
        if not tracker.get_slot("service_confirm") or choice is None:
            dispatcher.utter_message(response="utter_service_not_booked")
            return reset
        tz = user_timezone(profile_of(tracker))
        back = tracker.get_slot("service_return")
        try:
            booking = care().home_services.book(
                tracker.sender_id,
                choice.offering_id,
                choice.starts_at,
                details=tracker.get_slot("service_details") or "",
                return_at=datetime.fromisoformat(back) if back else None,
            )
        except Unavailable as error:
            dispatcher.utter_message(response="utter_invalid_answer", reason=error.message)
            return [SlotSet("service_choice", None), SlotSet("service_confirm", None), FollowupAction("home_service_form")]
        except CareError as error:
            dispatcher.utter_message(response="utter_service_failed", reason=error.message)
            return reset
        family = care().family.relative_names(tracker.sender_id)
        # The next step goes on the last message: the booking, or who was told of it.
        dispatcher.utter_message(
            response="utter_service_booked",
            item=booking.item_name,
            provider=booking.provider_name,
            when=say_when(booking.starts_at, tz),
            total=booking.total_text,
            reference=booking.reference,
            **({} if family else {"buttons": AFTER_A_BOOKING}),
        )
        if family:
            dispatcher.utter_message(
                response="utter_service_booked_family", family=" and ".join(family), buttons=AFTER_A_BOOKING
            )
        return reset


AFTER_A_BOOKING = [
    {"title": "My bookings", "payload": "/check_bookings"},
    {"title": "Something else", "payload": "/ask_capabilities"},
]
"""What a booked visit offers next (the same as a confirmed meal order, in the domain)."""


class ActionBookingUpdate(Action):
    """Says a booking update the care service sent (assigned, on the way, done...)."""

    def name(self) -> str:
        return "action_booking_update"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = first_entity(tracker, "text")
        if text:
            dispatcher.utter_message(response="utter_booking_update", update=text)
        return []
