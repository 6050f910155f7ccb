"""What the privacy tests share: a senior's life in the database, and reading every row of every table."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import String, Text, select
from sqlalchemy.orm import Session

from assistant.care import CareServices
from assistant.care.core.models import metadata
from assistant.care.privacy.records import PERSONS

from ..helpers import FakeClock, add_meal_provider, at, register


def names_person(table_name: str, row: dict[str, Any], person_id: int, words: tuple[str, ...]) -> bool:
    """True when a row names the person: a reference to their row, or one of their words in a text."""
    table = metadata.tables[table_name]
    if table_name == PERSONS and row["id"] == person_id:
        return True
    for column in table.c:
        value = row[column.name]
        if any(key.column.table.name == PERSONS for key in column.foreign_keys) and value == person_id:
            return True
        if isinstance(column.type, (String, Text)) and isinstance(value, str):
            if any(word in value for word in words):
                return True
    return False


def every_row(session: Session) -> dict[str, list[dict[str, Any]]]:
    return {table.name: [dict(row._mapping) for row in session.execute(select(table))]
            for table in metadata.sorted_tables}


def row_key(row: dict[str, Any]) -> str:
    return json.dumps(row, default=str, sort_keys=True)


def a_life(care: CareServices, clock: FakeClock, conversation: str, name: str, daughter: str) -> int:
    """A senior with a bit of everything: orders, a reminder answered, a daughter, an emergency..."""
    ids = add_meal_provider(care, f"Kitchen {conversation[5:].upper()}", ["Riverside"], dishes=[("Soup", "lunch", 500, [])])
    profile = register(care, conversation, name=name)
    care.meals.place_order(conversation, ids["Soup"], 1, at(2, 12))
    cancelled = care.meals.place_order(conversation, ids["Soup"], 2, at(3, 12))
    care.meals.cancel(conversation, cancelled.reference)
    care.reminders.create(conversation, "medication", "blood pressure pills", "every day at 08:00")
    clock.now = at(2, 8, 1)
    for delivery in care.reminders.due_deliveries(clock.now):
        if delivery.conversation_id == conversation:
            care.reminders.acknowledge(conversation, delivery.delivery_id)
    invite = care.invites.create(conversation, "daughter")
    request = care.invites.claim(daughter, invite.code, "Mary")
    care.invites.decide(conversation, request.request_id, True)
    care.escalations.open("talk_to_human", conversation, "I would like to speak to someone")
    care.emergencies.raise_alert(conversation, "I have fallen and cannot get up", "fall", message_id=f"m-{conversation}")
    care.danger_checks.ask(conversation, "my chest feels odd", "chest pain", message_id=f"d-{conversation}")
    care.review_list.record(conversation, "the thingy for the whatsit", [("order_meal", 0.3)], message_id=f"u-{conversation}")
    return profile.person_id
