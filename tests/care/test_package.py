"""Tests for the assistant.care package as a whole."""

from __future__ import annotations

from pathlib import Path

from assistant.care import CareServices
from assistant.care.core.errors import (
    CareError,
    InvalidInput,
    InvalidTransition,
    NotAllowed,
    NotFound,
    Unavailable,
)

def test_services_from_url(tmp_path: Path) -> None:
    services = CareServices.from_url(f"sqlite:///{tmp_path / 'care.db'}")
    services.db.upgrade()
    assert services.people.known_districts() == []
    assert services.escalations.list_open() == []
    services.db.dispose()


def test_every_error_has_a_kind_and_a_message() -> None:
    for error_type in (CareError, InvalidInput, InvalidTransition, NotAllowed, NotFound, Unavailable):
        error = error_type()
        assert error.kind and error.message and str(error) == error.message
        assert isinstance(error, CareError)
    assert InvalidInput("Too long.", field="name").field == "name"
