"""Fixtures for action tests: the real domain, a fresh seeded SQLite and a pinned clock."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest
from rasa.shared.core.domain import Domain
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from assistant.actions import base
from assistant.care import CareServices
from assistant.care.core.db import Database
from assistant.care.registry.seed import load_demo_data
from assistant.settings import PROJECT_ROOT

NOW = datetime(2026, 11, 26, 10, 15, tzinfo=timezone.utc)
"""Thursday 26 November 2026, 10:15 in London (GMT, so the same as UTC)."""

_DOMAIN: dict[str, Any] = Domain.load(str(PROJECT_ROOT / "domain")).as_dict()


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """The real domain (domain/*.yml) as actions receive it."""
    return _DOMAIN


@pytest.fixture
def care(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CareServices]:
    """Actions wired to a fresh, migrated and seeded SQLite database, with the clock at NOW."""
    url = f"sqlite:///{tmp_path / 'care.db'}"
    monkeypatch.setenv("ASSISTANT_DATABASE_URL", url)
    monkeypatch.setenv("ASSISTANT_TIMEZONE", "Europe/London")
    monkeypatch.setenv("ASSISTANT_EMERGENCY_NUMBER", "112")
    base._services_for.cache_clear()
    previous = base._clock
    base.set_clock(lambda: NOW)
    database = Database(url)
    database.upgrade()
    load_demo_data(database)
    yield base.care()
    base._services_for.cache_clear()
    base.set_clock(previous)


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    """Collects what the action says."""
    return CollectingDispatcher()


def make_tracker(
    text: str = "",
    intent: str = "inform",
    *,
    sender: str = "mary-0001",
    entities: Optional[list[dict[str, Any]]] = None,
    slots: Optional[dict[str, Any]] = None,
    requested_slot: Optional[str] = None,
    active_loop: Optional[str] = None,
    events: Optional[list[dict[str, Any]]] = None,
    channel: str = "webchat",
    extracted: Optional[dict[str, Any]] = None,
    metadata: Optional[dict[str, Any]] = None,
) -> Tracker:
    """A real Tracker as Rasa sends it to the action server.

    ``extracted`` are slots Rasa's own slot mapping filled from this message (set after it).
    """
    all_slots: dict[str, Any] = {
        name: spec.get("initial_value") for name, spec in _DOMAIN["slots"].items()
    }
    all_slots.update(slots or {})
    all_slots.update(extracted or {})
    all_slots["requested_slot"] = requested_slot
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.99},
        "entities": [
            {"entity": e[0], "value": e[1]} if isinstance(e, tuple) else e for e in (entities or [])
        ],
        "metadata": metadata or {},
    }
    history = list(events or []) + [
        {"event": "user", "text": text, "parse_data": latest, "input_channel": channel}
    ] + [{"event": "slot", "name": k, "value": v} for k, v in (extracted or {}).items()]
    return Tracker(
        sender,
        all_slots,
        latest,
        history,
        False,
        None,
        {"name": active_loop} if active_loop else {},
        "action_listen",
    )


def responses(dispatcher: CollectingDispatcher) -> list[Optional[str]]:
    """The response names the action uttered, in order."""
    return [m.get("response") for m in dispatcher.messages]


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The slots the events set (last value wins)."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def register(care: CareServices, sender: str = "mary-0001", **overrides: Any) -> None:
    """A registered senior in Riverside with a diabetic-friendly diet."""
    fields: dict[str, Any] = dict(
        conversation_id=sender,
        channel="webchat",
        full_name="Mary Jones",
        address="12 Mill Lane",
        district="Riverside",
        dietary_needs=["diabetic-friendly"],
        consent_care_data=True,
        timezone="Europe/London",
    )
    fields.update(overrides)
    care.people.register_senior(**fields)
