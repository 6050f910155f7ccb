"""Errors raised by the care domain.

Every error carries a ``kind`` (stable, for code and logs) and a plain-language
``message`` that the chat can show to a senior as it is.
"""

from __future__ import annotations


class CareError(Exception):
    """Base class for every expected failure of the care domain.

    Attributes:
        kind: Short machine-readable category, e.g. ``"not_found"``.
        message: A short, kind sentence that can be shown to a senior.
        field: The input field the problem is about, when there is one.
    """

    kind: str = "care_error"
    default_message: str = "Sorry, something went wrong. A person from our team can help you."

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        self.message: str = message or self.default_message
        self.field: str | None = field
        super().__init__(self.message)


class NotFound(CareError):
    """Something the user asked about does not exist (or is not theirs)."""

    kind = "not_found"
    default_message = "Sorry, I could not find that."


class InvalidInput(CareError):
    """The user gave a value we cannot accept (too long, wrong format, ...)."""

    kind = "invalid_input"
    default_message = "Sorry, I could not use that answer. Could you say it another way?"


class InvalidTransition(CareError):
    """A booking or escalation cannot move to the requested status."""

    kind = "invalid_transition"
    default_message = "Sorry, that cannot be changed any more. A person from our team can help you."


class NotAllowed(CareError):
    """The user may not do this (no consent, not their booking, ...)."""

    kind = "not_allowed"
    default_message = "Sorry, I am not able to do that for you. A person from our team can help you."


class Unavailable(CareError):
    """The provider cannot serve the request (closed, not in the area, too soon)."""

    kind = "unavailable"
    default_message = "Sorry, that is not available at that time."


class NotRegistered(NotFound):
    """The conversation has no senior profile (or consent was withdrawn)."""

    kind = "not_registered"
    default_message = (
        "I do not have your details yet. I need your name and address before I can book anything."
    )
