"""What a due reminder says, and the buttons under it.

The care service composes a reminder itself and appends it to the person's conversation (no
dialogue turn); the conversation's action for a reminder sent the old way says the same words.
The buttons' payloads are the conversation's own intents: "Done" acknowledges, "Remind me in 10
minutes" snoozes, the check-in buttons answer it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Optional
from zoneinfo import ZoneInfo

from assistant.care.reminders.reminder_views import DeliveryView

Button = dict[str, str]

DONE_BUTTON: Final[Button] = {"title": "Done", "payload": "/reminder_done"}
CHECKIN_BUTTONS: Final[tuple[Button, ...]] = (
    {"title": "I'm fine", "payload": "/inform" + json.dumps({"checkin": "fine"})},
    {"title": "Not so good", "payload": "/inform" + json.dumps({"checkin": "not_good"})},
    {"title": "Please call me", "payload": "/inform" + json.dumps({"checkin": "call_me"})},
)
KIND_ORDER: Final = ("medication", "checkin", "appointment", "other")
"""Which reminders go first when many fall due at once: medicines before anything else."""


def snooze_button(minutes: int = 10) -> Button:
    """'Remind me in 10 minutes'."""
    return {"title": f"Remind me in {minutes} minutes",
            "payload": "/snooze_reminder" + json.dumps({"minutes": str(minutes)})}


@dataclass(frozen=True)
class ReminderMessage:
    """The words and buttons of one reminder."""

    text: str
    buttons: tuple[Button, ...]


def part_of_day(hour: int) -> str:
    """morning / afternoon / evening for a local hour."""
    return "morning" if hour < 12 else "afternoon" if hour < 18 else "evening"


def compose(
    kind: str, title: str, *, due_time: str, dose: Optional[str] = None, location: Optional[str] = None,
    note: str = "", local_hour: int = 9,
) -> ReminderMessage:
    """The message of a reminder of ``kind`` due at ``due_time`` (local "HH:MM").

    ``note`` is said in brackets ("this was due at 08:00"); ``local_hour`` is the person's hour
    now, for the check-in's greeting.
    """
    note = f" ({note})" if note else ""
    if kind == "checkin":
        return ReminderMessage(
            f"Good {part_of_day(local_hour)}! It's time for our daily check-in. How are you today?{note}",
            CHECKIN_BUTTONS,
        )
    what = (title or "your reminder") + (f" ({dose})" if dose else "") + (f" at {location}" if location else "")
    if kind == "appointment":
        return ReminderMessage(f"A reminder for {due_time}: {what}.{note}", (DONE_BUTTON, snooze_button()))
    return ReminderMessage(
        f"It's {due_time}. Reminder: {what}.{note} Please press “Done” when you have.",
        (DONE_BUTTON, snooze_button()),
    )


def message_for(delivery: DeliveryView, now: datetime) -> ReminderMessage:
    """The message of one delivery, as the person should see it at ``now``."""
    hour = now.astimezone(ZoneInfo(delivery.timezone)).hour
    return compose(delivery.kind, delivery.title, due_time=delivery.due_time, dose=delivery.dose,
                   location=delivery.location, note=delivery.note, local_hour=hour)


def send_order(delivery: DeliveryView) -> tuple[int, datetime, int]:
    """Sort key for a wave of due reminders: medication first, then the oldest due time."""
    rank = KIND_ORDER.index(delivery.kind) if delivery.kind in KIND_ORDER else len(KIND_ORDER)
    return (rank, delivery.due_at, delivery.delivery_id)
