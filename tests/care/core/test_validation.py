"""Tests for assistant.care.core.validation."""

from __future__ import annotations

import pytest

from assistant.care.core.errors import InvalidInput
from assistant.care.core.validation import clean_int, clean_phone, clean_text, parse_price


def test_clean_text_keeps_the_text_and_checks_length() -> None:
    assert clean_text("  <b>Ann</b> ", "name", 120, field="name") == "<b>Ann</b>"
    assert clean_text(None, "note", 10, field="note", required=False) == ""
    with pytest.raises(InvalidInput) as caught:
        clean_text("x" * 2001, "note", 2000, field="note")
    assert caught.value.message == "That note is too long. Please keep it under 2000 characters."
    with pytest.raises(InvalidInput):
        clean_text("bad\x00byte", "name", 120, field="name")


def test_clean_phone() -> None:
    assert clean_phone(" +44 (0)20 7946-0000 ") == "+44 (0)20 7946-0000"
    assert clean_phone("") is None
    with pytest.raises(InvalidInput):
        clean_phone("12")


def test_clean_int() -> None:
    assert clean_int("3", "number", 1, 5, field="n") == 3
    for bad in (0, 6, "three", True, None):
        with pytest.raises(InvalidInput):
            clean_int(bad, "number", 1, 5, field="n")


@pytest.mark.parametrize("text, cents", [("12.50", 1250), ("12", 1200), ("€8,5", 850), (0, 0), (7.2, 720)])
def test_parse_price(text: object, cents: int) -> None:
    assert parse_price(text) == cents


@pytest.mark.parametrize("text", ["-1", "1.234", "free", "nan", "inf"])
def test_parse_price_refuses(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_price(text)
