"""The fixed words of the domain: roles, kinds, statuses, tags and weekdays."""

from __future__ import annotations

from typing import Final

ROLES: Final = ("senior", "relative", "coordinator")

MEAL_PROVIDER_KIND: Final = "meal"
HOME_SERVICE_KINDS: Final = ("cleaning", "laundry", "repair", "hairdressing", "beauty")
PROVIDER_KINDS: Final = (MEAL_PROVIDER_KIND, *HOME_SERVICE_KINDS)

MEAL_MODES: Final = ("delivery", "meal_plan", "chef_visit", "table_reservation")
"""Offering modes of meal providers. Home-service offerings use the service name."""

MEAL_BOOKING_KINDS: Final = ("meal_delivery", "meal_plan", "chef_visit", "table_reservation")
BOOKING_KINDS: Final = (*MEAL_BOOKING_KINDS, *HOME_SERVICE_KINDS)

BOOKING_STATUSES: Final = ("requested", "confirmed", "assigned", "in_progress", "done", "cancelled")
FINAL_BOOKING_STATUSES: Final = ("done", "cancelled")

MEAL_TYPES: Final = ("breakfast", "lunch", "dinner")
DIETARY_TAGS: Final = ("diabetic-friendly", "low-salt", "soft", "vegetarian", "halal")

ESCALATION_KINDS: Final = (
    "emergency",
    "talk_to_human",
    "complaint",
    "consultation",
    "missed_medication",
    "unmatched_booking",
    "service_request",
    "provider_review",
    "wellbeing",
    "failed_delivery",
)
ESCALATION_STATUSES: Final = ("open", "claimed", "resolved")
DEFAULT_ESCALATION_PRIORITY: Final = {
    "emergency": 1,
    "missed_medication": 2,
    "complaint": 2,
    "talk_to_human": 3,
    "consultation": 3,
    "unmatched_booking": 3,
    "service_request": 4,
    "provider_review": 3,
    "wellbeing": 2,
    "failed_delivery": 2,
}

REMINDER_KINDS: Final = ("medication", "appointment", "other", "checkin")
"""``checkin`` is the daily wellbeing question; the others are reminders a person asked for."""

DELIVERY_STATUSES: Final = ("pending", "sent", "acknowledged", "snoozed", "missed", "failed", "escalated")
"""Life of one due time of a reminder; ``(reminder, due_at)`` is delivered at most once."""

NOTIFICATION_STATUSES: Final = ("pending", "delivered", "failed")

FAMILY_SHARES: Final = ("bookings", "reminders")
"""What a senior may share with each linked relative: arranging and hearing about meals and help at
home (``bookings``), and setting reminders and hearing when one is missed (``reminders``).
Emergencies and check-in alarms always reach every linked relative."""
SHARE_WORDS: Final = {"bookings": "meals and help at home", "reminders": "reminders and pills"}

INVITE_STATUSES: Final = ("open", "pending", "accepted", "declined", "expired", "revoked")
"""Life of a family invite: made by the senior, used by a relative, then confirmed or declined."""

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday keys in ``datetime.weekday()`` order (0 = Monday)."""
