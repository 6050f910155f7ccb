"""What every action shares: the care services, the clock and the user's profile."""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Callable, Mapping, Optional
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from assistant.care import CareServices
from assistant.care.core.views import ProfileView
from assistant.settings import load_settings

logger = logging.getLogger(__name__)

INTERRUPTING_INTENTS = frozenset(
    {"emergency", "stop", "talk_to_human", "repeat", "ask_capabilities", "greet"}
)
"""Intents that must never be taken as the answer to a form's question."""


@lru_cache(maxsize=1)
def _services_for(url: str, timezone: str) -> CareServices:
    return CareServices.from_url(url, clock=lambda: now_utc(), timezone=timezone)


def care() -> CareServices:
    """The care services for the configured database (built once per process, lazily)."""
    settings = load_settings()
    return _services_for(settings.database_url, settings.timezone)


_clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)  # noqa: E731


def now_utc() -> datetime:
    """The current time (tests replace the clock with :func:`set_clock`)."""
    return _clock()


def set_clock(clock: Callable[[], datetime]) -> None:
    """Replace the clock; used by tests to pin "now"."""
    global _clock
    _clock = clock


def profile_of(tracker: Tracker) -> Optional[ProfileView]:
    """The profile of the senior this conversation acts for: their own, or a linked relative's senior."""
    acting = care().family.acting(tracker.sender_id)
    return acting.profile if acting is not None else None


def user_timezone(profile: Optional[ProfileView]) -> ZoneInfo:
    """The user's timezone, falling back to the deployment's."""
    if profile is not None and profile.timezone:
        return ZoneInfo(profile.timezone)
    return load_settings().tz


def latest_intent(tracker: Tracker) -> str:
    """Name of the intent of the latest user message ('' when none)."""
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def latest_text(tracker: Tracker) -> str:
    """Text of the latest user message, stripped."""
    return (tracker.latest_message.get("text") or "").strip()


def intent_payload(intent: str, entities: Mapping[str, Any]) -> str:
    """A button payload that triggers ``intent`` with ``entities`` (``/intent{"entity": "value"}``)."""
    return f"/{intent}{json.dumps(dict(entities))}" if entities else f"/{intent}"


def entity_values(tracker: Tracker, entity: str) -> list[str]:
    """All values of one entity in the latest message, de-duplicated in order."""
    seen: list[str] = []
    for item in tracker.latest_message.get("entities") or []:
        if item.get("entity") == entity and item.get("value") is not None:
            value = str(item["value"]).strip()
            if value and value not in seen:
                seen.append(value)
    return seen


def first_entity(tracker: Tracker, entity: str, default: str = "") -> str:
    """The first value of one entity in the latest message, or ``default``."""
    return next(iter(entity_values(tracker, entity)), default)


def channel_of(tracker: Tracker) -> str:
    """The input channel of the latest message (e.g. 'webchat', 'rest')."""
    return tracker.get_latest_input_channel() or "rest"


class RegisteredUserAction(Action, ABC):
    """An action that needs a registered user; anyone else is told how to register."""

    @abstractmethod
    def name(self) -> str:
        """The action's name in the domain."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        profile = profile_of(tracker)
        if profile is None:
            dispatcher.utter_message(response="utter_need_registration")
            return []
        return await self.run_for(profile, dispatcher, tracker, domain)

    @abstractmethod
    async def run_for(
        self, profile: ProfileView, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Run for the registered user whose profile is given."""
