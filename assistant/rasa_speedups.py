"""Speed-ups for the Rasa 3.6 server process, applied by :mod:`assistant.rasa_server`.

Two of them, each keeping Rasa's behaviour (docs/benchmarks.md, issue 4).

**The action-response validator.** Rasa 3.6 checks every action server answer in
``RemoteAction._validate_action_result`` with ``jsonschema.validate(result, action_response_format_spec())``. That call checks the large response
schema against its meta-schema and builds a new validator every time: 15-18 ms of CPU per answer,
about 79% of Rasa's CPU per ``trigger_intent`` (docs/benchmarks.md, issue 4).

:func:`apply` replaces that method with one that checks the answer with a validator compiled once per
schema: the same class ``jsonschema.validate`` picks (``validator_for(schema)``), whose schema has passed
the same ``check_schema``. A valid answer returns ``True`` at once. Anything else (an invalid answer, a
schema that cannot be compiled) is handed to Rasa's own method, so the ``jsonschema.ValidationError``
Rasa raises, with its message, is exactly the one it raised before.

Even compiled, the schema is slow on our answers: every event is checked against a ``oneOf`` of 23
event schemas, and the 22 that do not match each build a ``ValidationError``. Each of those schemas
pins ``event`` to a different constant, and ``event`` is a required string, so at most the one named
by the event's own ``event`` can match: ``oneOf`` holds exactly when that one does. The check
therefore validates the answer against the schema without the ``oneOf`` and each event against the
one schema its ``event`` names (:class:`EventDispatchCheck`). It is used only for a schema of exactly
that shape (checked when it is compiled); any other schema gets the plain compiled validator.

**The SQLite tracker store.** For a SQLite file, Rasa's ``SQLTrackerStore`` gets SQLAlchemy 1.4's
default for files, ``NullPool``: every save and every read opens the file anew, and with a
rollback journal every commit writes and syncs a separate journal file. :func:`apply` gives it the
configuration our own SQLite database has (``assistant/care/core/db.py``): a ``QueuePool`` of connections
(SQLAlchemy 2.0's default for files) and WAL mode. ``synchronous`` stays ``FULL``, SQLite's default,
so a commit is on disk when it returns, as before; the tracker store runs the same SQL. WAL mode adds
``-wal`` and ``-shm`` files beside the database (copy all three, or checkpoint first, for a backup),
and readers no longer block Rasa's writes. Other tracker stores (PostgreSQL, Redis, in memory) and
in-memory SQLite are left alone.

**Appended events.** The care service appends every reminder with ``POST
/conversations/{id}/tracker/events``, whose events Rasa checks with ``jsonschema.validate(events,
EVENTS_SCHEMA)``: the same cost again (about 30 ms of CPU per reminder, issue 27). With the
``validator`` part, ``rasa.server.validate_events_in_request_body`` uses the validator compiled once
(checking events by name with the ``events`` part, as above); invalid events go to Rasa's own function,
which answers 400 with its message as before.

The other ``jsonschema.validate`` calls in Rasa 3.6 are not on our hot paths and stay as they are:
training data (``rasa.shared.utils.validation``) and the NLG endpoint's answers (we have none).

``ASSISTANT_RASA_SPEEDUPS=0`` (or ``false``, ``no``, ``off``) turns the speed-ups off, for A/B
benchmarks. A comma-separated list of parts applies only those: ``validator`` (the validator compiled
once, checking every ``oneOf`` branch), ``events`` (with ``validator``: events checked by name),
``tracker_store`` (the SQLite tracker store); ``ASSISTANT_RASA_SPEEDUPS=validator`` is the first
version of 2026-11-26. A tracker database already switched to WAL mode stays in WAL mode (it is a
property of the file); plain Rasa works with it unchanged.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any, Callable, Dict, Iterable, Mapping, Optional, Text

from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

logger = logging.getLogger(__name__)

ENV_VAR = "ASSISTANT_RASA_SPEEDUPS"
_OFF = {"0", "false", "no", "off"}
_ON = {"", "1", "true", "yes", "on", "all"}
PARTS = ("validator", "events", "tracker_store")

_original_validate_action_result: Optional[Callable[[Any, Dict[Text, Any]], bool]] = None
_original_validate_events: Optional[Callable[[Any], None]] = None
_original_sql_tracker_store_init: Optional[Callable[..., None]] = None


def enabled(environ: Optional[Mapping[str, str]] = None) -> bool:
    """Whether the speed-ups should be applied: on unless ``ASSISTANT_RASA_SPEEDUPS`` says off."""
    return bool(enabled_parts(environ))


def enabled_parts(environ: Optional[Mapping[str, str]] = None) -> frozenset:
    """The parts ``ASSISTANT_RASA_SPEEDUPS`` asks for: all by default, none when off."""
    value = (os.environ if environ is None else environ).get(ENV_VAR, "").strip().lower()
    if value in _ON:
        return frozenset(PARTS)
    if value in _OFF:
        return frozenset()
    parts = frozenset(part.strip() for part in value.split(",") if part.strip())
    unknown = parts - set(PARTS)
    if unknown:
        raise ValueError(f"{ENV_VAR}: unknown part(s) {', '.join(sorted(unknown))}; known: {', '.join(PARTS)}")
    return parts


_EVENT_KEYWORDS = frozenset({"type", "properties", "required", "oneOf"})
_REFERENCES = ('"$ref"', '"$dynamicRef"', '"$recursiveRef"', '"$id"', '"$anchor"', '"$dynamicAnchor"')


class EventDispatchCheck:
    """``is_valid`` for Rasa's action-response schema, choosing each event's ``oneOf`` branch by name.

    Built by :meth:`build` only for a schema of this exact shape (Rasa 3.6's
    ``action_response_format_spec()``)::

        {"type": "object", "properties": {"events": {"type": "array", "items": EVENT}, ...}}
        EVENT = {"type": "object", "properties": {"event": {"type": "string"}, ...},
                 "required": [..., "event", ...], "oneOf": [BRANCH, ...]}
        BRANCH = {"properties": {"event": {"const": "<a name no other branch has>"}, ...}, ...}

    and without references (``$ref``, ``$id``, ...), so every part means the same on its own as
    inside the whole. Then an answer is valid exactly when it is valid against the schema without
    ``EVENT``'s ``oneOf`` and each of its events is valid against the branch its ``event`` names:
    every other branch fails on its ``const``, so that branch is the only one that can match.
    """

    def __init__(self, base: Validator, branches: Dict[str, Validator], array: bool = False) -> None:
        self.base = base
        self.branches = branches
        self.array = array

    @classmethod
    def build(cls, schema: Dict[Text, Any], validator_class: Any) -> Optional["EventDispatchCheck"]:
        """The check for ``schema`` (already checked against its meta-schema), or ``None``.

        Two shapes qualify: the action-response schema (an object whose ``events`` is an array of
        ``EVENT``) and Rasa's ``EVENTS_SCHEMA`` for appended events (``{"type": "array", "items": EVENT}``).
        """
        try:
            text = json.dumps(schema, sort_keys=True)
        except (TypeError, ValueError):
            return None
        if any(reference in text for reference in _REFERENCES):
            return None
        if set(schema) == {"type", "items"} and schema.get("type") == "array":
            split = _split_event_schema(schema["items"], validator_class)
            if split is None:
                return None
            return cls(validator_class({**schema, "items": split[0]}), split[1], array=True)
        if set(schema) != {"type", "properties"} or schema.get("type") != "object":
            return None
        properties = schema["properties"]
        events = properties.get("events") if isinstance(properties, dict) else None
        if not isinstance(events, dict) or set(events) != {"type", "items"} or events["type"] != "array":
            return None
        split = _split_event_schema(events["items"], validator_class)
        if split is None:
            return None
        base_schema = {**schema, "properties": {**properties, "events": {**events, "items": split[0]}}}
        return cls(validator_class(base_schema), split[1])

    def is_valid(self, instance: Any) -> bool:
        """Whether ``instance`` is valid against the whole schema."""
        if not self.base.is_valid(instance):
            return False
        for event in instance if self.array else instance.get("events", ()):
            branch = self.branches.get(event["event"])
            if branch is None or not branch.is_valid(event):
                return False
        return True


def _split_event_schema(event: Any, validator_class: Any) -> Optional[tuple[Dict[Text, Any], Dict[str, Validator]]]:
    """``EVENT`` without its ``oneOf``, and a validator per branch by the event name it pins (or ``None``)."""
    if not isinstance(event, dict) or not set(event) <= _EVENT_KEYWORDS or event.get("type") != "object":
        return None
    event_properties = event.get("properties")
    required = event.get("required")
    if (not isinstance(event_properties, dict) or event_properties.get("event") != {"type": "string"}
            or not isinstance(required, list) or "event" not in required):
        return None
    branches: Dict[str, Validator] = {}
    for branch in event.get("oneOf") or ():
        name = _pinned_event_name(branch)
        if name is None or name in branches:
            return None
        branches[name] = validator_class(branch)
    if not branches:
        return None
    return {key: value for key, value in event.items() if key != "oneOf"}, branches


def _pinned_event_name(branch: Any) -> Optional[str]:
    """The string a ``oneOf`` branch requires ``event`` to equal, if it pins one."""
    if not isinstance(branch, dict):
        return None
    properties = branch.get("properties")
    if not isinstance(properties, dict):
        return None
    pinned = properties.get("event")
    if not isinstance(pinned, dict) or set(pinned) != {"const"} or not isinstance(pinned["const"], str):
        return None
    return pinned["const"]


class _Compiled:
    """A schema's compiled validator and the fastest exact ``is_valid`` for it."""

    def __init__(self, validator: Validator, check: Callable[[Any], bool]) -> None:
        self.validator = validator
        self.check = check


class ValidatorCache:
    """Validators compiled once per schema, as ``jsonschema.validate`` would build them."""

    def __init__(self, max_size: int = 64, dispatch_events: bool = True) -> None:
        self.max_size = max_size
        self.dispatch_events = dispatch_events
        self._compiled: Dict[str, Optional[_Compiled]] = {}
        self.compiled = 0  # validators built since the last clear()
        self.dispatching = 0  # of which with an EventDispatchCheck

    def get(self, schema: Dict[Text, Any]) -> Optional[Validator]:
        """The compiled validator for ``schema``, or ``None`` if it cannot be compiled or cached.

        ``None`` tells the caller to fall back to plain ``jsonschema.validate``, which then raises
        the error (a ``SchemaError`` for a broken schema) exactly as before.
        """
        compiled = self._lookup(schema)
        return None if compiled is None else compiled.validator

    def check(self, schema: Dict[Text, Any]) -> Optional[Callable[[Any], bool]]:
        """An exact ``is_valid`` for ``schema``: :class:`EventDispatchCheck` where it applies."""
        compiled = self._lookup(schema)
        return None if compiled is None else compiled.check

    def _lookup(self, schema: Dict[Text, Any]) -> Optional[_Compiled]:
        try:
            key = json.dumps(schema, sort_keys=True)
        except (TypeError, ValueError):
            return None
        if key in self._compiled:
            return self._compiled[key]
        compiled: Optional[_Compiled]
        cls = validator_for(schema)
        try:
            cls.check_schema(schema)
        except SchemaError:
            compiled = None
        else:
            validator = cls(schema)
            dispatch = EventDispatchCheck.build(schema, cls) if self.dispatch_events else None
            compiled = _Compiled(validator, validator.is_valid if dispatch is None else dispatch.is_valid)
            self.compiled += 1
            self.dispatching += dispatch is not None
        if len(self._compiled) >= self.max_size:
            self._compiled.clear()
        self._compiled[key] = compiled
        return compiled

    def clear(self) -> None:
        """Forget every compiled validator (and reset the counts)."""
        self._compiled.clear()
        self.compiled = 0
        self.dispatching = 0


validators = ValidatorCache()


def _validate_action_result(self: Any, result: Dict[Text, Any]) -> bool:
    """``RemoteAction._validate_action_result`` with a validator compiled once per schema.

    Valid answers return ``True`` here; everything else goes through Rasa's own method, which
    raises its ``jsonschema.ValidationError`` (message extended with its docs hint).
    """
    check = validators.check(self.action_response_format_spec())
    if check is not None and check(result):
        return True
    assert _original_validate_action_result is not None, "speed-ups not applied"
    return _original_validate_action_result(self, result)


def _validate_events_in_request_body(request: Any) -> None:
    """``rasa.server.validate_events_in_request_body`` with the validator compiled once.

    Valid events return at once; anything else goes through Rasa's own function, which answers
    with its ``ErrorResponse`` (400) and message exactly as before.
    """
    from rasa.shared.utils.schemas.events import EVENTS_SCHEMA

    body = request.json
    check = validators.check(EVENTS_SCHEMA)
    if check is not None and check(body if isinstance(body, list) else [body]):
        return
    assert _original_validate_events is not None, "speed-ups not applied"
    _original_validate_events(request)


def pool_sqlite_tracker_store(store: Any) -> bool:
    """Give a ``SQLTrackerStore`` on a SQLite file a connection pool and WAL mode (see above).

    Returns ``False`` and changes nothing for any other database. The new engine has the same
    URL; the sessions come from a ``sessionmaker`` bound to it, as Rasa builds them.
    """
    from sqlalchemy import create_engine, event
    from sqlalchemy.orm import sessionmaker
    from sqlalchemy.pool import QueuePool

    old = store.engine
    url = old.url
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return False
    engine = create_engine(url, poolclass=QueuePool, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _wal_on_connect)
    store.engine = engine
    store.sessionmaker = sessionmaker(bind=engine)
    old.dispose()
    return True


def _wal_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """Switch the file to WAL mode (a no-op once it is); leave it as it is if that fails."""
    import sqlite3

    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error as error:  # e.g. another process holds the file while it would switch
        logger.warning("tracker store: could not switch SQLite to WAL mode (%s); continuing without", error)
    finally:
        cursor.close()


def _sql_tracker_store_init(self: Any, *args: Any, **kwargs: Any) -> None:
    """``SQLTrackerStore.__init__``, then :func:`pool_sqlite_tracker_store`."""
    assert _original_sql_tracker_store_init is not None, "speed-ups not applied"
    _original_sql_tracker_store_init(self, *args, **kwargs)
    pool_sqlite_tracker_store(self)


def apply(parts: Iterable[str] = PARTS) -> bool:
    """Patch Rasa in this process (``parts``: see :data:`PARTS`); ``False`` if nothing was left to patch."""
    global _original_validate_action_result, _original_sql_tracker_store_init, _original_validate_events
    import rasa.server
    from rasa.core.actions.action import RemoteAction
    from rasa.core.tracker_store import SQLTrackerStore

    parts = frozenset(parts)
    unknown = parts - set(PARTS)
    if unknown:
        raise ValueError(f"unknown speed-up part(s): {', '.join(sorted(unknown))}")
    if "events" in parts and "validator" not in parts:
        raise ValueError("the 'events' part needs the 'validator' part")
    patched = False
    if "validator" in parts and RemoteAction._validate_action_result is not _validate_action_result:
        validators.clear()
        validators.dispatch_events = "events" in parts
        _original_validate_action_result = RemoteAction._validate_action_result
        RemoteAction._validate_action_result = _validate_action_result  # type: ignore[assignment]
        _original_validate_events = rasa.server.validate_events_in_request_body
        rasa.server.validate_events_in_request_body = _validate_events_in_request_body
        patched = True
    if "tracker_store" in parts and SQLTrackerStore.__init__ is not _sql_tracker_store_init:
        _original_sql_tracker_store_init = SQLTrackerStore.__init__
        SQLTrackerStore.__init__ = _sql_tracker_store_init  # type: ignore[assignment]
        patched = True
    return patched


def remove() -> None:
    """Undo :func:`apply` (for tests)."""
    global _original_validate_action_result, _original_sql_tracker_store_init, _original_validate_events
    import rasa.server
    from rasa.core.actions.action import RemoteAction
    from rasa.core.tracker_store import SQLTrackerStore

    if _original_validate_action_result is not None:
        RemoteAction._validate_action_result = _original_validate_action_result  # type: ignore[assignment]
        _original_validate_action_result = None
    if _original_validate_events is not None:
        rasa.server.validate_events_in_request_body = _original_validate_events
        _original_validate_events = None
    if _original_sql_tracker_store_init is not None:
        SQLTrackerStore.__init__ = _original_sql_tracker_store_init  # type: ignore[assignment]
        _original_sql_tracker_store_init = None
    validators.clear()
    validators.dispatch_events = True


def applied_parts() -> frozenset:
    """The parts in effect in this process."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.tracker_store import SQLTrackerStore

    parts = set()
    if RemoteAction._validate_action_result is _validate_action_result:
        parts.add("validator")
        if validators.dispatch_events:
            parts.add("events")
    if SQLTrackerStore.__init__ is _sql_tracker_store_init:
        parts.add("tracker_store")
    return frozenset(parts)


def applied() -> bool:
    """Whether every part of :func:`apply` is in effect in this process."""
    return applied_parts() == frozenset(PARTS)


def describe(parts: Iterable[str]) -> str:
    """The parts in words, for the Rasa log."""
    parts = frozenset(parts)
    words = []
    if "validator" in parts:
        words.append("cached action-response validator"
                     + (" (events checked by name)" if "events" in parts else ""))
    if "tracker_store" in parts:
        words.append("SQLite tracker store pooled in WAL mode")
    return ", ".join(words) or "none"
