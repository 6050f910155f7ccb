"""Tests for assistant.care.core.views."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import pytest

from assistant.care.core.views import EscalationView, format_price


@pytest.mark.parametrize("cents, text", [(850, "€8.50"), (0, "€0.00"), (5, "€0.05"), (123456, "€1,234.56"), (-150, "-€1.50")])
def test_format_price(cents: int, text: str) -> None:
    assert format_price(cents) == text


def test_views_are_frozen() -> None:
    view = EscalationView("E-ABCDE", "complaint", 2, "open", "cold soup", datetime(2025, 12, 1, tzinfo=timezone.utc))
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.status = "resolved"  # type: ignore[misc]
