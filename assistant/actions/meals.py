"""Meal ordering: single deliveries, regular meal plans, chef visits and table reservations."""

from __future__ import annotations

import difflib
import json
import logging
import re
from datetime import datetime, time, timedelta
from typing import Any, Optional, Union
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from assistant.actions.base import (
    RegisteredUserAction,
    care,
    entity_values,
    latest_text,
    now_utc,
    profile_of,
    user_timezone,
)
from assistant.actions.forms import PatientFormValidation
from assistant.care.core.errors import CareError
from assistant.care.core.timeparse import TimeParseError, parse_recurrence, parse_when
from assistant.care.core.views import (
    BookingView,
    MealOption,
    OfferingView,
    ProfileView,
    format_price,
)
from assistant.settings import load_settings

logger = logging.getLogger(__name__)

MEAL_FORM_SLOTS = (
    "meal_mode",
    "meal_type",
    "meal_time",
    "meal_days",
    "party_size",
    "meal_choice",
    "meal_confirm",
    "failed_attempts",
)
MODE_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("meal_plan", re.compile(r"\bevery\b|\beach\b|week ?days|daily|regular|meal plan|weekly|\bplan\b")),
    ("chef_visit", re.compile(r"\bchef\b|\bcook\b|cook (for|at)|come and cook")),
    ("table_reservation", re.compile(r"\btable\b|reserv|restaurant|eat out|dine out")),
)
MEAL_TYPE_WORDS = (
    ("breakfast", re.compile(r"breakfast|brekkie|morning meal")),
    ("lunch", re.compile(r"lunch|midday meal|dinner at (12|1)\b")),
    ("dinner", re.compile(r"dinner|supper|evening meal|\btea\b")),
)
ORDINALS = {"first": 0, "1": 0, "one": 0, "second": 1, "2": 1, "two": 1, "third": 2, "3": 2,
            "three": 2, "fourth": 3, "4": 3, "four": 3, "fifth": 4, "5": 4, "sixth": 5, "6": 5}
EARLIER = "t:"
"""Prefix of the choice that moves the order to the earliest time offered ("t:<ISO time>")."""
ANOTHER_TIME = re.compile(r"another time|other time|different time|change the time|later time")
Choice = Union[MealOption, OfferingView]


def meal_mode_from(tracker: Tracker) -> str:
    """The catering mode the user asked for (delivery when nothing else was said)."""
    named = entity_values(tracker, "catering_mode")
    for mode in ("meal_plan", "chef_visit", "table_reservation"):  # "lunch delivered every day" is a plan
        if mode in named:
            return mode
    text = latest_text(tracker).lower()
    for mode, pattern in MODE_WORDS:
        if pattern.search(text):
            return mode
    return "delivery"


def meal_type_from(tracker: Tracker) -> Optional[str]:
    """breakfast/lunch/dinner if the message names one."""
    for value in entity_values(tracker, "meal_type"):
        if value in ("breakfast", "lunch", "dinner"):
            return value
    text = latest_text(tracker).lower()
    for meal_type, pattern in MEAL_TYPE_WORDS:
        if pattern.search(text):
            return meal_type
    return None


def meal_type_at(moment: datetime) -> str:
    """The meal usually eaten at this local time."""
    if moment.hour < 11:
        return "breakfast"
    if moment.hour < 16:
        return "lunch"
    return "dinner"


def chosen_time(tracker: Tracker) -> Optional[datetime]:
    """The validated meal time slot as an aware datetime."""
    raw = tracker.get_slot("meal_time")
    try:
        return datetime.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def plan_of(tracker: Tracker) -> Optional[dict[str, Any]]:
    """The validated recurrence of a meal plan, if any."""
    raw = tracker.get_slot("meal_days")
    try:
        return json.loads(raw) if raw else None
    except (TypeError, ValueError):
        return None


def next_on_days(start: datetime, weekdays: list[int]) -> datetime:
    """The first moment at ``start``'s time on or after ``start`` that falls on one of ``weekdays``."""
    for offset in range(8):
        candidate = start + timedelta(days=offset)
        if candidate.weekday() in weekdays:
            return candidate
    return start


def options_for(profile: ProfileView, tracker: Tracker) -> list[Choice]:
    """What can be offered for the slots filled so far: with a time, only what a booking then accepts."""
    mode = tracker.get_slot("meal_mode") or "delivery"
    when = chosen_time(tracker)
    if when is not None:
        return care().meals.options_at(tracker.sender_id, mode, when, tracker.get_slot("meal_type"))
    if mode in ("chef_visit", "table_reservation"):
        return list(care().registry.catering_offerings(profile.district, mode))
    return list(
        care().registry.meal_options(
            profile.district,
            profile.dietary_needs,
            meal_type=tracker.get_slot("meal_type"),
            at=when,
            limit=4,
        )
    )


def option_key(option: Choice) -> str:
    """The stable button value of an option: 'd:<dish id>' or 'o:<offering id>'."""
    if isinstance(option, MealOption):
        return f"d:{option.dish_id}"
    return f"o:{option.offering_id}"


def option_title(option: Choice) -> str:
    """A short button label: name, price and provider."""
    if isinstance(option, MealOption):
        return f"{option.dish_name}, {option.price_text} ({option.provider_name})"
    return f"{option.name}, {option.price_text} ({option.provider_name})"


def option_name(option: Choice) -> str:
    """The item's own name."""
    return option.dish_name if isinstance(option, MealOption) else option.name


def match_option(answer: str, options: list[Choice]) -> Optional[Choice]:
    """The option a button value or a typed answer points at ("the soup", "second one", "2")."""
    answer = answer.strip()
    for option in options:
        if option_key(option) == answer:
            return option
    words = re.findall(r"[a-z0-9]+", answer.lower())
    for word in words:
        if word in ORDINALS and ORDINALS[word] < len(options) and len(words) <= 3:
            return options[ORDINALS[word]]
    names = {option_name(o).lower(): o for o in options}
    text = " ".join(words)
    for name, option in names.items():
        if name in text or (text and text in name and len(text) >= 4):
            return option
    scored = []
    for option in options:
        name_words = set(re.findall(r"[a-z]+", option_name(option).lower()))
        overlap = {w for w in words if len(w) > 3} & name_words
        if overlap:
            scored.append((len(overlap), option))
    scored.sort(key=lambda item: item[0], reverse=True)
    if scored and (len(scored) == 1 or scored[0][0] > scored[1][0]):
        return scored[0][1]
    close = difflib.get_close_matches(text, list(names), n=1, cutoff=0.7)
    return names[close[0]] if close else None


STOP_WORDS = frozenset({"cancel", "order", "please", "want", "that", "this", "booking", "meal", "would", "like"})


def match_words(answer: str, *names: str) -> bool:
    """True when a meaningful word of the answer (4+ letters) appears in one of the names."""
    words = {w for w in re.findall(r"[a-z]+", answer.lower()) if len(w) > 3} - STOP_WORDS
    target = " ".join(names).lower()
    return any(w in target for w in words)


class ValidateMealOrderForm(PatientFormValidation):
    """Fills and checks the meal order: when, what, and the user's yes."""

    def name(self) -> str:
        return "validate_meal_order_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        mode = tracker.get_slot("meal_mode") or meal_mode_from(tracker)
        extra = ["meal_days"] if mode == "meal_plan" else []
        extra += ["party_size"] if mode == "table_reservation" else []
        return ["meal_mode", *extra, *domain_slots]

    async def extract_meal_mode(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("meal_mode"):
            return {}
        return {"meal_mode": meal_mode_from(tracker), "meal_type": meal_type_from(tracker)}

    async def extract_meal_days(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("meal_mode") != "meal_plan" or tracker.get_slot("meal_days"):
            return {}
        answer = self.requested_answer(tracker, "meal_days")
        if answer:
            return {"meal_days": answer}
        if tracker.get_slot("requested_slot") is None:
            text = latest_text(tracker)
            try:
                found = parse_recurrence(text)
            except TimeParseError:
                return {"meal_days": text}  # validation explains what is wrong
            if found:
                return {"meal_days": text}
        return {}

    async def extract_meal_time(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self.time_answer(tracker, "meal_time")

    async def extract_party_size(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        answer = self.requested_answer(tracker, "party_size")
        numbers = entity_values(tracker, "number")
        if answer or (numbers and tracker.get_slot("party_size") is None and tracker.get_slot("meal_mode") == "table_reservation"):
            return {"party_size": numbers[0] if numbers else answer}
        return {}

    async def extract_meal_choice(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "meal_choice":
            return {}
        picked = entity_values(tracker, "choice")
        if picked:
            return {"meal_choice": picked[0]}
        answer = self.requested_answer(tracker, "meal_choice")
        return {"meal_choice": answer} if answer else {}

    def validate_meal_mode(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"meal_mode": value}

    def validate_meal_days(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if plan_of(tracker) is not None:
            return {}
        try:
            recurrence = parse_recurrence(str(value or ""))
        except TimeParseError as error:
            return self.reject("meal_days", error.message, dispatcher, tracker)
        if recurrence is None or not recurrence.weekdays:
            return self.reject("meal_days", "I didn't catch the days. You could say “every weekday” or “Monday and Thursday”.", dispatcher, tracker)
        plan = {
            "weekdays": list(recurrence.weekdays),
            "times": [t.strftime("%H:%M") for t in recurrence.times],
            "description": recurrence.description,
        }
        result: dict[str, Any] = {"meal_days": json.dumps(plan)}
        if recurrence.times and tracker.get_slot("meal_time") is None:
            tz = user_timezone(profile_of(tracker))
            result.update(self._plan_start(recurrence.times[0], plan["weekdays"], tracker, tz))
        return self.accept(**result)

    @staticmethod
    def _plan_start(at: time, weekdays: list[int], tracker: Tracker, tz: ZoneInfo) -> dict[str, Any]:
        """The first delivery of a plan at ``at`` on one of ``weekdays``, far enough ahead for the kitchen."""
        now = now_utc().astimezone(tz)
        lead = timedelta(minutes=load_settings().meal_lead_minutes)
        start = datetime.combine(now.date(), at, tzinfo=tz)
        if start < now + lead:
            start += timedelta(days=1)
        start = next_on_days(start, weekdays)
        meal_type = tracker.get_slot("meal_type") or meal_type_at(start)
        return {"meal_time": start.isoformat(), "meal_type": meal_type}

    def validate_meal_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "")
        try:
            datetime.fromisoformat(text)
            return {}  # already validated earlier
        except ValueError:
            pass
        tz = user_timezone(profile_of(tracker))
        now = now_utc().astimezone(tz)
        lead = timedelta(minutes=load_settings().meal_lead_minutes)
        meal_type = tracker.get_slot("meal_type")
        try:
            when = parse_when(text, now, meal_type=meal_type, default_time=None)
        except TimeParseError as error:
            return self.reject("meal_time", error.message, dispatcher, tracker)
        if when is None:
            return self.reject(
                "meal_time", "I couldn't find a time in that. You could say “tomorrow at noon” or “today at 6pm”.", dispatcher, tracker
            )
        if tracker.get_slot("meal_mode") == "meal_plan":
            plan = plan_of(tracker) or {"weekdays": list(range(7))}
            at = when.start.timetz().replace(tzinfo=None)
            return self.accept(**self._plan_start(at, plan["weekdays"], tracker, tz))
        start = when.start
        if not when.has_time:
            return self.reject("meal_time", "What time on that day? For example “at 12”.", dispatcher, tracker)
        if start < now + lead:
            if start >= now - timedelta(minutes=5):  # "now", "as soon as possible"
                start = _round_up(now + lead)
            else:
                return self.reject("meal_time", "That time has already passed. When would you like it?", dispatcher, tracker)
        return self.accept(meal_time=start.isoformat(), meal_type=meal_type or meal_type_at(start))

    def validate_party_size(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        match = re.search(r"\d+", str(value or ""))
        words = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}
        size = int(match.group()) if match else next((n for w, n in words.items() if w in str(value).lower()), 0)
        if not 1 <= size <= 12:
            return self.reject("party_size", "Please tell me how many people, from 1 to 12.", dispatcher, tracker)
        return self.accept(party_size=float(size))

    def validate_meal_choice(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        answer = str(value or "")
        if ANOTHER_TIME.search(answer.lower()):
            return self.accept(meal_choice=None, meal_time=None)
        if answer.startswith(EARLIER):
            try:
                earliest = datetime.fromisoformat(answer[len(EARLIER):])
            except ValueError:
                earliest = None
            if earliest is not None and earliest.tzinfo is not None and earliest > now_utc():
                # The time offered because the one asked for could not be: ask for the choice again then.
                local = earliest.astimezone(user_timezone(profile_of(tracker)))
                return self.accept(meal_choice=None, meal_time=local.isoformat(),
                                   meal_type=tracker.get_slot("meal_type") or meal_type_at(local))
        profile = profile_of(tracker)
        if profile is None:
            return self.reject("meal_choice", "I need your details first. Say “register” to start.", dispatcher, tracker)
        option = match_option(answer, options_for(profile, tracker))
        if option is None:
            return self.reject("meal_choice", "I couldn't match that to one of the choices. Please press one of the buttons.", dispatcher, tracker)
        return self.accept(meal_choice=option_key(option))


def _round_up(moment: datetime, minutes: int = 5) -> datetime:
    """The moment rounded up to the next multiple of ``minutes``."""
    moment = moment.replace(second=0, microsecond=0)
    return moment + timedelta(minutes=(-moment.minute) % minutes)


def when_text(tracker: Tracker, profile: Optional[ProfileView]) -> str:
    """The chosen time (and days, for a plan) in words."""
    when = chosen_time(tracker)
    if when is None:
        return ""
    tz = user_timezone(profile)
    plan = plan_of(tracker)
    if tracker.get_slot("meal_mode") == "meal_plan" and plan:
        local = when.astimezone(tz)
        return f"{plan['description']} at {local:%H:%M}, starting {say_when(when, tz, with_time=False)}"
    return say_when(when, tz)


def say_when(moment: datetime, tz: Any, with_time: bool = True) -> str:
    """'today at 12:00', 'tomorrow at 18:00', 'Monday 30 November at 08:00'."""
    local = moment.astimezone(tz)
    today = now_utc().astimezone(tz).date()
    if local.date() == today:
        day = "today"
    elif local.date() == today + timedelta(days=1):
        day = "tomorrow"
    else:
        day = f"{local:%A} {local.day} {local:%B}"
    return f"{day} at {local:%H:%M}" if with_time else day


class ActionAskMealChoice(RegisteredUserAction):
    """Offers matching dishes (or chefs/restaurants) as buttons, or says honestly that none fit."""

    def name(self) -> str:
        return "action_ask_meal_choice"

    async def run_for(
        self, profile: ProfileView, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        options = options_for(profile, tracker)
        when = when_text(tracker, profile)
        asked = chosen_time(tracker)
        if not options and asked is not None:
            mode = tracker.get_slot("meal_mode") or "delivery"
            found = care().meals.earliest_options(tracker.sender_id, mode, asked, tracker.get_slot("meal_type"))
            if found is not None:
                earliest = say_when(found.at, user_timezone(profile))
                button = {"title": f"Yes, {earliest}", "payload": "/inform" + json.dumps({"choice": EARLIER + found.at.isoformat()})}
                another = {"title": "Another time", "payload": "another time"}
                dispatcher.utter_message(
                    response="utter_meal_earliest", reason=found.reason, earliest=earliest, buttons=[button, another]
                )
                return []
        if not options:
            dispatcher.utter_message(response="utter_no_meal_options", district=profile.district, when=when)
            return []
        buttons = [
            {"title": option_title(o), "payload": "/inform" + json.dumps({"choice": option_key(o)})}
            for o in options
        ]
        dispatcher.utter_message(response="utter_meal_options", when=when, buttons=buttons)
        return []


def find_choice(profile: ProfileView, tracker: Tracker) -> Optional[Choice]:
    """The option the user picked, looked up again in the registry."""
    key = tracker.get_slot("meal_choice") or ""
    return next((o for o in options_for(profile, tracker) if option_key(o) == key), None)


def chosen_order(tracker: Tracker) -> Optional[tuple[ProfileView, Choice, datetime]]:
    """The user's profile, the still-available choice and the time, or None if any is missing."""
    profile = profile_of(tracker)
    choice = find_choice(profile, tracker) if profile else None
    when = chosen_time(tracker)
    if profile is None or choice is None or when is None:
        return None
    return profile, choice, when


class ActionAskMealConfirm(Action):
    """Shows the full price, fees included, and asks for a yes before anything is ordered."""

    def name(self) -> str:
        return "action_ask_meal_confirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        order = chosen_order(tracker)
        if order is None:
            dispatcher.utter_message(response="utter_meal_order_failed", reason="I lost track of your choice.")
            return [SlotSet("meal_choice", None)]
        profile, choice, when = order
        text = when_text(tracker, profile)
        if isinstance(choice, MealOption):
            try:
                quote = care().meals.quote_order(tracker.sender_id, choice.dish_id, 1, when)
            except CareError as error:
                dispatcher.utter_message(response="utter_meal_order_failed", reason=error.message)
                return [SlotSet("meal_choice", None), SlotSet("meal_time", None)]
            response = "utter_meal_plan_summary" if tracker.get_slot("meal_mode") == "meal_plan" else "utter_meal_summary"
            dispatcher.utter_message(
                response=response,
                item=choice.dish_name,
                provider=choice.provider_name,
                when=text,
                price=format_price(quote.price_cents),
                fee=format_price(quote.fees_cents),
                total=quote.total_text,
            )
            return []
        party = tracker.get_slot("party_size")
        extra = f" for {int(party)}" if party else ""
        dispatcher.utter_message(
            response="utter_catering_summary",
            item=choice.name + extra,
            provider=choice.provider_name,
            when=text,
            total=choice.price_text,
        )
        return []


class ActionPlaceMealOrder(Action):
    """Saves the order and only then confirms it with its reference."""

    def name(self) -> str:
        return "action_place_meal_order"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reset = [SlotSet(slot, None) for slot in MEAL_FORM_SLOTS] + [SlotSet("pending_request", None)]
        if not tracker.get_slot("meal_confirm"):
            dispatcher.utter_message(response="utter_meal_order_not_placed")
            return reset
        order = chosen_order(tracker)
        if order is None:
            dispatcher.utter_message(response="utter_meal_order_failed", reason="I lost track of your choice.")
            return reset
        profile, choice, when = order
        tz = user_timezone(profile)
        try:
            booking = self._save(tracker, choice, when, tz)
        except CareError as error:
            dispatcher.utter_message(response="utter_meal_order_failed", reason=error.message)
            return reset
        response = "utter_meal_plan_confirmed" if booking.kind == "meal_plan" else "utter_meal_order_confirmed"
        dispatcher.utter_message(
            response=response,
            item=booking.item_name,
            provider=booking.provider_name,
            when=when_text(tracker, profile) or say_when(booking.starts_at, tz),
            total=booking.total_text,
            reference=booking.reference,
        )
        return reset

    @staticmethod
    def _save(tracker: Tracker, choice: Choice, when: datetime, tz: ZoneInfo) -> BookingView:
        meals = care().meals
        sender = tracker.sender_id
        mode = tracker.get_slot("meal_mode") or "delivery"
        if isinstance(choice, MealOption):
            if mode == "meal_plan":
                plan = plan_of(tracker) or {"weekdays": list(range(5))}
                local = when.astimezone(tz)
                return meals.create_meal_plan(sender, choice.dish_id, plan["weekdays"], local.time(), local.date())
            return meals.place_order(sender, choice.dish_id, 1, when)
        if mode == "table_reservation":
            return meals.reserve_table(sender, choice.offering_id, when, int(tracker.get_slot("party_size") or 1))
        return meals.book_chef_visit(sender, choice.offering_id, when)


STATUS_WORDS = {
    "requested": "waiting for the kitchen",
    "confirmed": "confirmed",
    "assigned": "on its way soon",
    "in_progress": "on its way",
    "done": "delivered",
    "cancelled": "cancelled",
}


def booking_when(order: Any, tz: Any) -> str:
    """When a booking happens, in the user's words ('every weekday at 12:00' for plans)."""
    if order.kind == "meal_plan" and order.recurrence:
        return f"{order.recurrence}, from {say_when(order.starts_at, tz, with_time=False)}"
    return say_when(order.starts_at, tz)
