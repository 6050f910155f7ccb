"""Everything we hold about a person is found, and nothing of anyone else's, in every table.

The check does not use the rules of :mod:`assistant.care.privacy.records`: it reads every row of
every table in the schema and decides for itself which rows name a person (a column that refers to
them, their conversation id, ``person:<id>``, their name anywhere in a text). A table added later is
read the same way without a change here.
"""

from __future__ import annotations

import json
from pathlib import Path

from assistant.care import CareServices
from assistant.care.core.models import metadata
from assistant.care.privacy.records import PERSONS, records_about

from ..helpers import FakeClock, register
from .helpers import a_life, every_row, names_person, row_key


def test_every_row_about_a_senior_is_found_and_no_one_elses(services: CareServices, clock: FakeClock) -> None:
    care = services
    edith = a_life(care, clock, "conv-edith", "Edith Smith", "conv-mary")
    a_life(care, clock, "conv-walter", "Walter Jones", "conv-bob")

    with care.db.reading() as session:
        found = records_about(session, edith)
        everything = every_row(session)
    edith_words = ("conv-edith", f"person:{edith}", "Edith Smith")
    found_keys = {(table, row_key(row)) for table, rows in found.tables.items() for row in rows}

    naming_edith = {(table, row_key(row)) for table, rows in everything.items() for row in rows
                    if names_person(table, row, edith, edith_words)}
    assert naming_edith - found_keys == set(), "rows that name Edith were not found"

    walter_id = next(row["id"] for row in everything[PERSONS] if row["conversation_id"] == "conv-walter")
    walter_words = ("conv-walter", f"person:{walter_id}", "Walter Jones")
    only_walter = {(table, row_key(row)) for table, rows in everything.items() for row in rows
                   if names_person(table, row, walter_id, walter_words) and not names_person(table, row, edith, edith_words)}
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
    edith = a_life(care, clock, "conv-edith", "Edith Smith", "conv-mary")
    document = json.loads(care.privacy.export("conv-edith").as_json())
    assert document["person_id"] == edith
    [profile] = document["tables"]["senior_profiles"]
    assert profile["full_name"] == "Edith Smith" and profile["address"] == "12 Mill Road"
    assert {row["title"] for row in document["tables"]["reminders"]} == {"blood pressure pills"}
    assert all("T" in row["created_at"] for row in document["tables"]["bookings"])  # ISO 8601 times


def test_docs_privacy_lists_every_table_of_the_schema() -> None:
    text = (Path(__file__).resolve().parents[3] / "docs" / "privacy.md").read_text()
    missing = [table.name for table in metadata.sorted_tables if f"`{table.name}`" not in text]
    assert missing == []


def test_a_senior_with_a_long_history_is_found_whole(care: CareServices) -> None:
    """Hundreds of references quoted in texts: more conditions than one SQLite query may hold."""
    profile = register(care, "conv-edith")
    opened = [care.escalations.open("talk_to_human", "conv-edith", f"question {n}") for n in range(150)]
    with care.db.reading() as session:
        found = records_about(session, profile.person_id)
    assert {row["reference"] for row in found.tables["escalations"]} == {e.reference for e in opened}
