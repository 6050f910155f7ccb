"""Tests for assistant.care.people.diets."""

from __future__ import annotations

import pytest

from assistant.care.people.diets import normalise_dietary_needs
from assistant.care.core.errors import InvalidInput


def test_people_can_say_their_needs_their_own_way() -> None:
    assert normalise_dietary_needs(["Diabetic", "low salt", "HALAL", "none", "diabetic-friendly"]) == (
        "diabetic-friendly", "halal", "low-salt",
    )
    assert normalise_dietary_needs("soft food") == ("soft",)
    assert normalise_dietary_needs([]) == ()


def test_unknown_needs_are_explained() -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_dietary_needs(["gluten-free"])
    assert caught.value.field == "dietary_needs"
