"""Input checks shared by the services; failures raise :class:`InvalidInput`."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Final, Optional

from assistant.care.core.errors import InvalidInput

MAX_NAME: Final = 120
MAX_ADDRESS: Final = 300
MAX_TEXT: Final = 2000
MAX_PHONE: Final = 40

_PHONE = re.compile(r"^\+?[0-9 ()./-]{5,40}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(
    value: Optional[str],
    label: str,
    max_length: int,
    *,
    field: str,
    required: bool = True,
) -> str:
    """Return ``value`` with outer whitespace removed, checked for length.

    The text is otherwise kept exactly as written (HTML or SQL included): it is
    stored through bound parameters and escaped by whoever displays it.

    Args:
        value: The text to check.
        label: Plain-language name of the field for messages, e.g. "name".
        max_length: Maximum number of characters.
        field: Field name reported on the error.
        required: Whether an empty value is refused.

    Raises:
        InvalidInput: If the text is missing, too long or has control characters.
    """
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise InvalidInput(f"Please tell me your {label}.", field=field)
    if len(text) > max_length:
        raise InvalidInput(
            f"That {label} is too long. Please keep it under {max_length} characters.",
            field=field,
        )
    if _CONTROL.search(text):
        raise InvalidInput(
            f"Sorry, I could not read that {label}. Could you type it again?", field=field
        )
    return text


def clean_phone(value: Optional[str]) -> Optional[str]:
    """Return a phone number stripped of outer spaces, or None when empty.

    Raises:
        InvalidInput: If it does not look like a phone number.
    """
    if value is None or not str(value).strip():
        return None
    phone = str(value).strip()
    if not _PHONE.match(phone) or sum(c.isdigit() for c in phone) < 5:
        raise InvalidInput(
            "That does not look like a phone number. Please use digits, for example +44 20 7946 0000.",
            field="phone",
        )
    return phone


def clean_int(value: object, label: str, low: int, high: int, *, field: str) -> int:
    """Return ``value`` as an int between ``low`` and ``high`` inclusive.

    Raises:
        InvalidInput: If it is not a whole number in range.
    """
    try:
        if isinstance(value, bool):
            raise ValueError
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        raise InvalidInput(f"Please give the {label} as a number.", field=field) from None
    if not low <= number <= high:
        raise InvalidInput(
            f"The {label} should be between {low} and {high}.", field=field
        )
    return number


def parse_price(value: object, *, field: str = "price") -> int:
    """Parse a price such as ``12.50``, ``"12,50"`` or ``"€12.50"`` into cents.

    Raises:
        InvalidInput: If it is not a non-negative amount with at most two decimals.
    """
    text = str(value).strip().lstrip("€£$").strip().replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(f"The price {value!r} is not a number.", field=field) from None
    if not amount.is_finite() or amount < 0:
        raise InvalidInput("A price cannot be negative.", field=field)
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise InvalidInput("A price can have at most two decimals.", field=field)
    return int(cents)
