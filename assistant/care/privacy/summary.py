"""What we hold about a person, said in plain words: the first answer to "what do you keep about me"."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Final, Iterable, Mapping

from assistant.care.core.vocabulary import FINAL_BOOKING_STATUSES
from assistant.care.privacy.records import PersonRecords

TABLE_WORDS: Final = {
    "persons": "your name for this chat",
    "senior_profiles": "your profile",
    "bookings": "orders and bookings",
    "booking_slots": "booked visit times",
    "reviews": "reviews",
    "complaints": "complaints",
    "reminders": "reminders",
    "reminder_deliveries": "reminders sent and answered",
    "relative_links": "family links",
    "family_invites": "family codes",
    "escalations": "requests for help to care coordinators",
    "escalation_notes": "coordinators' notes",
    "danger_checks": "questions about possible emergencies",
    "unclear_messages": "messages I did not understand, kept for review",
    "notifications": "messages waiting to be sent",
    "audit_log": "entries in the record of changes",
    "chat_settings": "this chat's settings",
}
"""How each table is named to a person."""


def _join(words: Iterable[str]) -> str:
    items = list(words)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def profile_lines(records: PersonRecords) -> list[str]:
    """The profile: name, address, area, phone, diet and the consents given."""
    lines: list[str] = []
    for profile in records.tables.get("senior_profiles", ()):
        lines.append(f"Your name: {profile['full_name']}.")
        lines.append(f"Your address: {profile['address']}, in {profile['district']}.")
        if profile.get("phone"):
            lines.append(f"Your phone: {profile['phone']}.")
        diet = json.loads(profile.get("dietary_needs") or "[]")
        lines.append(f"Your diet: {_join(diet)}." if diet else "Your diet: nothing special.")
        consents = ["your care details" if profile.get("consent_care_data") else "",
                    "your health details" if profile.get("consent_health_data") else ""]
        given = [consent for consent in consents if consent]
        lines.append(f"You agreed that I keep {_join(given)}." if given else "You have not agreed that I keep your details.")
    if not lines:
        lines += [f"Your name: {person['display_name']}." for person in records.tables.get("persons", ())
                  if person["id"] == records.person_id and person.get("display_name")]
    return lines


def upcoming_bookings(records: PersonRecords) -> list[dict[str, Any]]:
    """The person's own bookings still to come (not done, not cancelled)."""
    return [row for row in records.tables.get("bookings", ())
            if row["senior_id"] == records.person_id and row["status"] not in FINAL_BOOKING_STATUSES]


def active_reminders(records: PersonRecords) -> list[dict[str, Any]]:
    """The person's own reminders that are still on."""
    return [row for row in records.tables.get("reminders", ())
            if row["senior_id"] == records.person_id and row.get("active")]


def activity_lines(records: PersonRecords, family: Iterable[str], is_senior: bool = True) -> list[str]:
    """What is booked and reminded, who is linked, and how much else we hold."""
    lines: list[str] = []
    senior = records.person_id
    bookings = [row for row in records.tables.get("bookings", ()) if row["senior_id"] == senior]
    upcoming = len(upcoming_bookings(records))
    if bookings:
        lines.append(f"Orders and bookings: {len(bookings)} in all, {upcoming} still to come.")
    active = [row["title"] for row in active_reminders(records)]
    if active:
        lines.append(f"Reminders: {_join(active)}.")
    for chat in records.tables.get("chat_settings", ()):
        lines.append(f"Spoken replies in this chat: {'on' if chat['voice_replies'] else 'off'}.")
    names = list(family)
    if names and is_senior:
        lines.append(f"Linked family, with what each may see and arrange (emergencies reach all): {'; '.join(names)}.")
    elif names:
        lines.append(f"You help: {_join(names)}. What I keep about them is theirs to see.")
    counted = Counter({table: len(rows) for table, rows in records.tables.items()})
    others = [f"{word} ({counted[table]})" for table, word in TABLE_WORDS.items()
              if counted[table] and table not in ("persons", "senior_profiles", "bookings", "reminders", "relative_links",
                                                  "chat_settings")]
    if others:
        lines.append(f"Also kept: {_join(others)}.")
    return lines


def summarise(records: PersonRecords, family: Iterable[str] = (), is_senior: bool = True) -> str:
    """Everything we hold about a person, in short plain sentences, one per line.

    ``family`` names the relatives linked to a senior, or the seniors a relative helps.
    """
    lines = profile_lines(records) + activity_lines(records, family, is_senior)
    if not lines:
        lines = ["I keep only your name for this chat and our conversation."]
    return "\n".join(lines)


def describe_counts(counts: Mapping[str, int]) -> str:
    """Rows by table, in words: "your profile, orders and bookings (3) and reminders (1)"."""
    words = [word if table in ("persons", "senior_profiles", "chat_settings") else f"{word} ({counts[table]})"
             for table, word in TABLE_WORDS.items() if counts.get(table)]
    return _join(words) if words else "nothing"
