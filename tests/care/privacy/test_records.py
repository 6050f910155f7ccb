"""Everything we hold about a person is found, and nothing of anyone else's, in every table.

The check does not use the rules of :mod:`assistant.care.privacy.records`: it reads every row of
every table in the schema and decides for itself which rows name a person (a column that refers to
them, their conversation id, ``person:<id>``, their name anywhere in a text). A table added later is
read the same way without a change here.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import String, Text, select
from sqlalchemy.orm import Session

from assistant.care import CareServices
from assistant.care.core.models import metadata
from assistant.care.privacy.records import PERSONS, records_about

from ..helpers import FakeClock, add_meal_provider, at, register
from ..test_postgres import URL, postgres  # noqa: F401 - the PostgreSQL fixture


@pytest.fixture(params=["sqlite", "postgresql"])
def services(request: pytest.FixtureRequest, care: CareServices, clock: FakeClock) -> CareServices:
    """The care services on SQLite, then on PostgreSQL (skipped without CARE_TEST_POSTGRES_URL)."""
    if request.param == "sqlite":
        return care
    if not URL:
        pytest.skip("CARE_TEST_POSTGRES_URL is not set")
    return CareServices(request.getfixturevalue("postgres"), clock=clock)


def _names(table_name: str, row: dict[str, Any], person_id: int, words: tuple[str, ...]) -> bool:
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


def _every_row(session: Session) -> dict[str, list[dict[str, Any]]]:
    return {table.name: [dict(row._mapping) for row in session.execute(select(table))]
            for table in metadata.sorted_tables}


def _key(row: dict[str, Any]) -> str:
    return json.dumps(row, default=str, sort_keys=True)


def _life(care: CareServices, clock: FakeClock, conversation: str, name: str, daughter: str) -> int:
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


def test_every_row_about_a_senior_is_found_and_no_one_elses(services: CareServices, clock: FakeClock) -> None:
    care = services
    edith = _life(care, clock, "conv-edith", "Edith Smith", "conv-mary")
    _life(care, clock, "conv-walter", "Walter Jones", "conv-bob")

    with care.db.reading() as session:
        found = records_about(session, edith)
        everything = _every_row(session)
    edith_words = ("conv-edith", f"person:{edith}", "Edith Smith")
    found_keys = {(table, _key(row)) for table, rows in found.tables.items() for row in rows}

    naming_edith = {(table, _key(row)) for table, rows in everything.items() for row in rows
                    if _names(table, row, edith, edith_words)}
    assert naming_edith - found_keys == set(), "rows that name Edith were not found"

    walter_id = next(row["id"] for row in everything[PERSONS] if row["conversation_id"] == "conv-walter")
    walter_words = ("conv-walter", f"person:{walter_id}", "Walter Jones")
    only_walter = {(table, _key(row)) for table, rows in everything.items() for row in rows
                   if _names(table, row, walter_id, walter_words) and not _names(table, row, edith, edith_words)}
    assert found_keys & only_walter == set(), "rows about Walter alone were taken for Edith's"

    # what a person would look for is there: her orders, her reminder's delivery, her daughter's link
    assert {"bookings", "reminders", "reminder_deliveries", "relative_links", "escalations",
            "danger_checks", "unclear_messages", "audit_log"} <= set(found.tables)
    assert len(found.tables["bookings"]) == 2
    assert json.loads(found.as_json())["person_id"] == edith


def test_nobody_has_no_records(care: CareServices) -> None:
    with care.db.reading() as session:
        assert records_about(session, 12345).count() == 0
    assert care.privacy.export("conv-stranger") is None


def test_a_senior_exports_their_records_by_conversation(care: CareServices, clock: FakeClock) -> None:
    edith = _life(care, clock, "conv-edith", "Edith Smith", "conv-mary")
    document = json.loads(care.privacy.export("conv-edith").as_json())
    assert document["person_id"] == edith
    [profile] = document["tables"]["senior_profiles"]
    assert profile["full_name"] == "Edith Smith" and profile["address"] == "12 Mill Road"
    assert {row["title"] for row in document["tables"]["reminders"]} == {"blood pressure pills"}
    assert all("T" in row["created_at"] for row in document["tables"]["bookings"])  # ISO 8601 times
