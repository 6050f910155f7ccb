"""Speed-ups for the Rasa 3.6 server process, applied by :mod:`assistant.rasa_server`.

Rasa 3.6 checks every action server answer in ``RemoteAction._validate_action_result`` with
``jsonschema.validate(result, action_response_format_spec())``. That call checks the large response
schema against its meta-schema and builds a new validator every time: 15-18 ms of CPU per answer,
about 79% of Rasa's CPU per ``trigger_intent`` (docs/benchmarks.md, issue 4).

:func:`apply` replaces that method with one that checks the answer with a validator compiled once per
schema: the same class ``jsonschema.validate`` picks (``validator_for(schema)``), whose schema has passed
the same ``check_schema``. A valid answer returns ``True`` at once. Anything else (an invalid answer, a
schema that cannot be compiled) is handed to Rasa's own method, so the ``jsonschema.ValidationError``
Rasa raises, with its message, is exactly the one it raised before.

The other ``jsonschema.validate`` calls in Rasa 3.6 are not on our hot paths and stay as they are:
training data (``rasa.shared.utils.validation``), the NLG endpoint's answers (we have none) and
``POST /conversations/{id}/tracker/events`` (``rasa.server``; we do not call it).

``ASSISTANT_RASA_SPEEDUPS=0`` (or ``false``, ``no``, ``off``) turns the speed-ups off, for A/B
benchmarks.
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Dict, Mapping, Optional, Text

from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

ENV_VAR = "ASSISTANT_RASA_SPEEDUPS"
_OFF = {"0", "false", "no", "off"}

_original_validate_action_result: Optional[Callable[[Any, Dict[Text, Any]], bool]] = None


def enabled(environ: Optional[Mapping[str, str]] = None) -> bool:
    """Whether the speed-ups should be applied: on unless ``ASSISTANT_RASA_SPEEDUPS`` says off."""
    value = (os.environ if environ is None else environ).get(ENV_VAR, "").strip().lower()
    return value not in _OFF


class ValidatorCache:
    """Validators compiled once per schema, as ``jsonschema.validate`` would build them."""

    def __init__(self, max_size: int = 64) -> None:
        self.max_size = max_size
        self._validators: Dict[str, Optional[Validator]] = {}
        self.compiled = 0  # validators built since the last clear()

    def get(self, schema: Dict[Text, Any]) -> Optional[Validator]:
        """The compiled validator for ``schema``, or ``None`` if it cannot be compiled or cached.

        ``None`` tells the caller to fall back to plain ``jsonschema.validate``, which then raises
        the error (a ``SchemaError`` for a broken schema) exactly as before.
        """
        try:
            key = json.dumps(schema, sort_keys=True)
        except (TypeError, ValueError):
            return None
        if key in self._validators:
            return self._validators[key]
        validator: Optional[Validator]
        cls = validator_for(schema)
        try:
            cls.check_schema(schema)
        except SchemaError:
            validator = None
        else:
            validator = cls(schema)
            self.compiled += 1
        if len(self._validators) >= self.max_size:
            self._validators.clear()
        self._validators[key] = validator
        return validator

    def clear(self) -> None:
        """Forget every compiled validator (and reset the count)."""
        self._validators.clear()
        self.compiled = 0


validators = ValidatorCache()


def _validate_action_result(self: Any, result: Dict[Text, Any]) -> bool:
    """``RemoteAction._validate_action_result`` with a validator compiled once per schema.

    Valid answers return ``True`` here; everything else goes through Rasa's own method, which
    raises its ``jsonschema.ValidationError`` (message extended with its docs hint).
    """
    validator = validators.get(self.action_response_format_spec())
    if validator is not None and validator.is_valid(result):
        return True
    assert _original_validate_action_result is not None, "speed-ups not applied"
    return _original_validate_action_result(self, result)


def apply() -> bool:
    """Patch Rasa in this process; returns ``False`` if it was patched already."""
    global _original_validate_action_result
    from rasa.core.actions.action import RemoteAction

    if RemoteAction._validate_action_result is _validate_action_result:
        return False
    _original_validate_action_result = RemoteAction._validate_action_result
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[assignment]
    return True


def remove() -> None:
    """Undo :func:`apply` (for tests)."""
    global _original_validate_action_result
    from rasa.core.actions.action import RemoteAction

    if _original_validate_action_result is not None:
        RemoteAction._validate_action_result = _original_validate_action_result  # type: ignore[assignment]
        _original_validate_action_result = None
    validators.clear()


def applied() -> bool:
    """Whether :func:`apply` is in effect in this process."""
    from rasa.core.actions.action import RemoteAction

    return RemoteAction._validate_action_result is _validate_action_result
