"""What a person is told and sent when they ask what we keep: words first, then the whole file."""

from __future__ import annotations

import json

from assistant.care import CareServices

from ..helpers import FakeClock, register
from .helpers import a_life


def test_a_senior_hears_her_profile_bookings_reminders_and_family_in_words(services: CareServices, clock: FakeClock) -> None:
    a_life(services, clock, "conv-edith", "Edith Smith", "conv-mary")
    a_life(services, clock, "conv-walter", "Walter Jones", "conv-bob")
    export = services.privacy.data_export("conv-edith", [{"event": "user", "text": "hello"}])
    lines = export.summary.splitlines()
    assert "Your name: Edith Smith." in lines
    assert "Orders and bookings: 2 in all, 1 still to come." in lines
    assert "Reminders: blood pressure pills." in lines
    assert any(line.startswith("Linked family") and "Mary (meals and help at home, reminders and pills)" in line
               for line in lines)
    assert "Walter" not in export.summary

    document = json.loads(export.document)
    assert document["conversation_history"] == [{"event": "user", "text": "hello"}]
    assert {row["full_name"] for row in document["held_about_you"]["senior_profiles"]} == {"Edith Smith"}
    assert "Walter Jones" not in export.document
    assert export.rows == sum(len(rows) for rows in document["held_about_you"].values()) + 1


def test_a_relative_hears_whom_she_helps_but_not_their_details(services: CareServices, clock: FakeClock) -> None:
    a_life(services, clock, "conv-edith", "Edith Smith", "conv-mary")
    export = services.privacy.data_export("conv-mary", [])
    assert "Your name: Mary." in export.summary.splitlines()
    assert "You help: Edith Smith." in export.summary
    assert "12 Mill Road" not in export.document and "senior_profiles" not in json.loads(export.document)["held_about_you"]


def test_someone_unknown_is_told_only_the_conversation_is_kept(services: CareServices) -> None:
    register(services, "conv-other")
    export = services.privacy.data_export("conv-nobody", [])
    assert export.summary == "I keep no profile about you: only our conversation here."
    assert json.loads(export.document)["held_about_you"] == {} and export.rows == 0
