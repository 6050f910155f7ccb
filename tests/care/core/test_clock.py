"""Tests for assistant.care.core.clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from assistant.care.core.clock import require_aware, utcnow, zone
from assistant.care.core.errors import InvalidInput


def test_utcnow_is_aware() -> None:
    assert utcnow().utcoffset() == timedelta(0)


def test_require_aware_converts_to_utc_and_refuses_naive() -> None:
    plus_two = datetime(2025, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    assert require_aware(plus_two) == datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
    with pytest.raises(ValueError):
        require_aware(datetime(2025, 6, 1, 12, 0))


def test_zone() -> None:
    assert str(zone("Europe/London")) == "Europe/London"
    with pytest.raises(InvalidInput):
        zone("Not/AZone")
