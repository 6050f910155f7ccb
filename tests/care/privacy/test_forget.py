"""Deleting a senior: no row that names her is left, no row of anyone else is touched, in any table.

Like test_records, the check reads every row of every table in the schema and decides for itself
which rows name a person, so a table added later is covered without a change here.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from assistant.care import CareServices
from assistant.care.core.errors import NotAllowed
from assistant.care.core.models import AuditLog, Booking, Notification, Person, metadata
from assistant.care.people.invites import UNLINKED_INTENT
from assistant.care.privacy.records import PERSONS, primary_key, records_about

from ..helpers import FakeClock
from .helpers import a_life, every_row, names_person, row_key


def _personal_tables() -> set[str]:
    """Tables whose rows can be about a person: a reference to one, a conversation, or to such a row."""
    personal = {PERSONS, AuditLog.__table__.name}
    for table in metadata.sorted_tables:
        if "conversation_id" in table.c or any(
            key.column.table.name in personal for column in table.c for key in column.foreign_keys
        ):
            personal.add(table.name)
    return personal


_PERSONAL = _personal_tables()


def _records(care: CareServices, person_id: int) -> dict[str, list[dict[str, Any]]]:
    with care.db.reading() as session:
        return records_about(session, person_id).tables


def test_forgetting_a_senior_leaves_no_row_that_names_her_and_touches_no_one_elses(
    services: CareServices, clock: FakeClock,
) -> None:
    care = services
    edith = a_life(care, clock, "conv-edith", "Edith Smith", "conv-mary")
    walter = a_life(care, clock, "conv-walter", "Walter Jones", "conv-bob")
    with care.db.reading() as session:
        first = session.scalars(select(Booking).where(Booking.senior_id == edith, Booking.status != "cancelled")).first()
        reference = first.reference
    for status in ("assigned", "in_progress", "done"):
        care.bookings.set_status(reference, status, "coordinator:sam")

    edith_words = ("conv-edith", f"person:{edith}", "Edith Smith")
    with care.db.reading() as session:
        before = every_row(session)
    walter_records = _records(care, walter)
    hers = {(table, row_key(row)) for table, rows in _records(care, edith).items() for row in rows}

    report = care.privacy.forget("conv-edith")

    with care.db.reading() as session:
        after = every_row(session)
    left = [(table, row) for table, rows in after.items() for row in rows if names_person(table, row, edith, edith_words)]
    assert left == []
    after_keys = {(table, row_key(row)) for table, rows in after.items() for row in rows}
    others = [(row["id"], (row["conversation_id"] or f"#{row['id']}", f"person:{row['id']}"))
              for row in before[PERSONS] if row["id"] != edith]
    untouched = {(table, row_key(row)) for table, rows in before.items() for row in rows
                 if not names_person(table, row, edith, edith_words)
                 and (table not in _PERSONAL or any(names_person(table, row, other, words) for other, words in others))}
    # a row that names someone else goes only when it is about her too (her daughter's claim of her code)
    assert untouched - hers - after_keys == set(), "rows of others, or of nobody's, were changed or deleted"
    assert walter_records == _records(care, walter), "Walter's records changed"

    # the visit carried out stays for the provider's accounts, with nobody's name on it
    [kept] = [row for row in after["bookings"] if row["reference"] == reference]
    [anonymous] = [row for row in after[PERSONS] if row["id"] == kept["senior_id"]]
    assert anonymous["display_name"] == "" and anonymous["conversation_id"] is None and kept["details"] == ""
    assert report.kept["bookings"] == 1 and report.deleted["senior_profiles"] == 1
    # her daughter is told, in one line that does not name her
    assert report.relatives_told == 1
    with care.db.reading() as session:
        told = session.scalars(select(Notification).where(Notification.intent == UNLINKED_INTENT)).all()
    assert [note.text for note in told] == ["Your relative has ended the family link."]
    assert care.people.find_by_conversation("conv-edith") is None
    assert care.privacy.export("conv-edith") is None


def test_a_relative_deletes_herself_and_what_she_arranged_stays_the_seniors_without_her_name(
    services: CareServices, clock: FakeClock,
) -> None:
    care = services
    edith = a_life(care, clock, "conv-edith", "Edith Smith", "conv-mary")
    a_life(care, clock, "conv-walter", "Walter Jones", "conv-bob")
    made_by_mary = care.reminders.create("conv-mary", "appointment", "optician", "on 2026-11-20 at 10:00")
    mary = care.privacy.export("conv-mary").person_id  # type: ignore[union-attr]
    mary_words = ("conv-mary", f"person:{mary}")  # "Mary" is Walter's daughter's name too
    with care.db.reading() as session:
        before = every_row(session)
    edith_before = _records(care, edith)

    report = care.privacy.forget("conv-mary")

    with care.db.reading() as session:
        after = every_row(session)
    left = [(table, row) for table, rows in after.items() for row in rows if names_person(table, row, mary, mary_words)]
    assert left == []
    assert "Mary" not in json.dumps(_records(care, edith), default=str), "a kept text of Edith's still names Mary"
    assert care.people.find_by_conversation("conv-edith") is not None and care.family.family("conv-edith").members == []
    [optician] = [row for row in after["reminders"] if row["id"] == made_by_mary.reminder_id]
    assert optician["senior_id"] == edith and optician["created_by_id"] != mary
    # everything of Edith's but the family link (and the code Mary used) is still there
    def keys(table: str, rows: list[dict[str, Any]]) -> set[Any]:
        return {primary_key(metadata.tables[table], row) for row in rows}

    gone = {table for table, rows in edith_before.items() if keys(table, rows) - keys(table, after.get(table, []))}
    assert gone <= {"relative_links", "family_invites", "audit_log", "notifications"}
    sent_to = {r["person_id"] for r in edith_before["notifications"] if (r["id"],) not in keys("notifications", after["notifications"])}
    assert sent_to <= {mary}  # only messages addressed to Mary (her alert about Edith's fall) went
    assert report.kept.get("reminders") == 1 and report.deleted["persons"] == 1
    earlier = keys("notifications", before["notifications"])
    [told] = [row for row in after["notifications"] if (row["id"],) not in earlier]
    assert told["person_id"] == edith and "asked me to delete their details" in told["text"]


def test_a_coordinators_chat_cannot_delete_and_nobody_is_a_no_op(care: CareServices, clock: FakeClock) -> None:
    a_life(care, clock, "conv-edith", "Edith Smith", "conv-mary")
    with care.db.session() as session:
        session.add(Person(role="coordinator", display_name="Sam", conversation_id="conv-sam", channel="telegram"))
    before = every_row_keys(care)
    with pytest.raises(NotAllowed):
        care.privacy.forget("conv-sam")
    assert care.privacy.forget("conv-stranger").deleted == {}
    assert every_row_keys(care) == before


def test_someone_we_have_no_person_for_is_forgotten_by_conversation(services: CareServices, clock: FakeClock) -> None:
    care = services
    a_life(care, clock, "conv-edith", "Edith Smith", "conv-mary")
    care.chats.set_voice_replies("conv-stranger", True)
    care.review_list.record("conv-stranger", "the wotsit for my flat at 4 Hay Lane", [("order_meal", 0.3)], message_id="u-stranger")
    before = every_row_keys(care)
    exported = care.privacy.export("conv-stranger")
    assert exported is not None and set(exported.tables) == {"chat_settings", "unclear_messages"}

    report = care.privacy.forget("conv-stranger")
    assert report.deleted == {"chat_settings": 1, "unclear_messages": 1} and report.relatives_told == 0
    after = every_row_keys(care)
    recorded = {key for key in after if '"person.forgotten"' in key}  # one audit line that names nobody
    assert len(recorded) == 1 and after - recorded < before
    assert not any("conv-stranger" in key or "Hay Lane" in key for key in after)
    assert care.privacy.export("conv-stranger") is None


def every_row_keys(care: CareServices) -> set[str]:
    """Every row of every table, each as one comparable text."""
    with care.db.reading() as session:
        return {f"{table}:{row_key(row)}" for table, rows in every_row(session).items() for row in rows}
