"""The OpenAPI 3.0 description of the console's JSON API (served at ``/api/openapi.json``).

Written by hand; ``tests/console/test_console_api.py`` checks that every ``/api`` route the
app registers appears here with its method, so the document cannot fall behind the code.
"""

from __future__ import annotations

from typing import Any, Optional

from assistant.care.core.vocabulary import BOOKING_KINDS, BOOKING_STATUSES, PROVIDER_KINDS

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {JSON: {"schema": schema}}}


def _ok(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return dict(description=description, **_body(schema))


def _error(description: str) -> dict[str, Any]:
    return _ok(description, _ref("Error"))


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


def _path(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": {"type": "string"}}


def _page(item: str) -> dict[str, Any]:
    return {
        "type": "object", "required": ["total", "offset", "limit", "items"],
        "properties": {
            "total": {"type": "integer"}, "offset": {"type": "integer"}, "limit": {"type": "integer"},
            "items": {"type": "array", "items": _ref(item)},
        },
    }


WINDOW = [
    _query("offset", "How many rows to skip (default 0).", {"type": "integer", "minimum": 0}),
    _query("limit", "Page size (default 50, at most 500).", {"type": "integer", "minimum": 1, "maximum": 500}),
]
UNAUTHENTICATED = _error("No valid session cookie: log in at /login first.")
CSRF = _error("The X-CSRF-Token header is missing or wrong.")
BAD_INPUT = _error("Bad input; `field` names the offending field.")
NOT_FOUND = _error("No such id or reference.")


def _get(summary: str, ok: dict[str, Any], parameters: list[dict[str, Any]], *, not_found: bool = False,
         bad_input: bool = False) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": ok, "401": UNAUTHENTICATED}
    if bad_input:
        responses["400"] = BAD_INPUT
    if not_found:
        responses["404"] = NOT_FOUND
    return {"summary": summary, "parameters": parameters, "responses": responses}


def _change(summary: str, body: dict[str, Any], ok_status: str, ok: dict[str, Any],
            parameters: list[dict[str, Any]], *, not_found: bool, conflict: bool = False) -> dict[str, Any]:
    responses: dict[str, Any] = {ok_status: ok, "400": BAD_INPUT, "401": UNAUTHENTICATED, "403": CSRF}
    if not_found:
        responses["404"] = NOT_FOUND
    if conflict:
        responses["409"] = _error("The thing's current state does not allow this change.")
    return {
        "summary": summary, "parameters": parameters, "security": [{"session": [], "csrf": []}],
        "requestBody": dict(required=True, **_body(body)), "responses": responses,
    }


ESCALATION_ACTIONS: dict[str, tuple[Optional[str], str]] = {
    "claim": (None, "Take an open escalation"),
    "note": ("text", "Add a note"),
    "resolve": ("outcome", "Resolve with an outcome (a held chat is handed back)"),
    "answer": ("text", "Answer a consultation into the user's chat and resolve it"),
    "join": (None, "Join the escalation's conversation: the user is told who joined; the assistant goes silent"),
    "reply": ("text", "Say something in the user's chat as yourself (after joining)"),
    "handback": (None, "Hand the conversation back to the assistant; the user is told"),
}


def _action_body(field: Optional[str]) -> dict[str, Any]:
    properties = {field: {"type": "string", "maxLength": 2000}} if field else {}
    return {"type": "object", "properties": properties, "required": [field] if field else [],
            "additionalProperties": False}


def _schemas() -> dict[str, Any]:
    text, integer, number, boolean = {"type": "string"}, {"type": "integer"}, {"type": "number"}, {"type": "boolean"}
    when = {"type": "string", "format": "date-time"}
    maybe = {"type": "string", "nullable": True}
    texts = {"type": "array", "items": text}
    return {
        "Error": {
            "type": "object", "required": ["error", "message"],
            "properties": {"error": text, "message": text, "field": maybe},
        },
        "Session": {"type": "object", "properties": {
            "username": text, "display_name": text, "csrf_token": text, "csrf_header": text}},
        "Offering": {"type": "object", "properties": {
            "offering_id": integer, "mode": text, "name": text, "price_cents": integer,
            "duration_minutes": {"type": "integer", "nullable": True}, "active": boolean}},
        "Provider": {"type": "object", "properties": {
            "provider_id": integer, "name": text, "kind": {"type": "string", "enum": list(PROVIDER_KINDS)},
            "phone": maybe, "verified": boolean, "active": boolean, "districts": texts,
            "opening_hours": text, "score": number, "review_count": integer, "complaint_count": integer,
            "rating": number, "rating_count": integer, "flagged": boolean,
            "flagged_at": {"type": "string", "format": "date-time", "nullable": True}, "flag_reason": maybe,
            "created_at": when, "offerings": {"type": "array", "items": _ref("Offering")}}},
        "ProviderInput": {
            "type": "object", "additionalProperties": False,
            "description": "POST needs name, kind, districts and opening_hours; PATCH changes only what it sends.",
            "properties": {
                "name": text, "kind": {"type": "string", "enum": list(PROVIDER_KINDS)},
                "districts": {"oneOf": [texts, {"type": "string", "description": "separated by ; or ,"}]},
                "opening_hours": {"oneOf": [
                    {"type": "string", "example": "mon-fri 08:00-18:00; sat 09:00-13:00"},
                    {"type": "object", "additionalProperties": {"type": "array", "items": texts}},
                ]},
                "phone": maybe, "verified": boolean, "active": boolean,
                "offering_prices": {"type": "object", "description": "offering id to price in euros (PATCH only)",
                                    "additionalProperties": {"type": "string", "example": "12.50"}},
            },
        },
        "Booking": {"type": "object", "properties": {
            "reference": text, "kind": {"type": "string", "enum": list(BOOKING_KINDS)},
            "status": {"type": "string", "enum": list(BOOKING_STATUSES)}, "senior_id": integer,
            "senior_name": text, "provider_id": integer, "provider_name": text, "item_name": text,
            "quantity": integer, "party_size": {"type": "integer", "nullable": True}, "starts_at": when,
            "ends_at": when, "recurrence": maybe, "price_cents": integer, "fees_cents": integer,
            "total_cents": integer, "details": text, "created_at": when, "updated_at": when,
            "next_statuses": texts}},
        "StatusChange": {"type": "object", "required": ["status"], "additionalProperties": False,
                         "properties": {"status": {"type": "string", "enum": list(BOOKING_STATUSES)}}},
        "PersonSummary": {"type": "object", "properties": {
            "person_id": integer, "role": text, "name": text, "district": maybe, "phone": maybe,
            "channel": text, "created_at": when}},
        "PersonPage": {"type": "object", "properties": {
            "person": {"type": "object", "description": "profile, consents, relatives and seniors linked"},
            "bookings": {"type": "array", "items": _ref("Booking")}, "bookings_total": integer,
            "reminders": {"type": "array", "items": {"type": "object"}},
            "deliveries": {"type": "array", "items": {"type": "object"},
                           "description": "recent reminder deliveries, newest first, with status and acknowledged_at"},
            "escalations": {"type": "array", "items": _ref("Escalation")}}},
        "AuditEntry": {"type": "object", "properties": {
            "entry_id": integer, "at": when, "actor": text, "action": text, "entity_type": text,
            "entity_id": text, "detail": {"type": "object"}}},
        "Escalation": {"type": "object", "properties": {
            "reference": text, "kind": text, "priority": integer, "status": text, "summary": text,
            "created_at": when, "claimed_by": maybe, "outcome": maybe, "url": text}},
        "Transcript": {"type": "object", "properties": {
            "reference": text, "handoff_by": maybe, "available": {"type": "boolean"}, "message": text,
            "lines": {"type": "array", "items": {"type": "object", "properties": {
                "speaker": {"type": "string", "enum": ["user", "assistant", "coordinator"]},
                "text": text, "at": when, "time": text}}}}},
    }


def document() -> dict[str, Any]:
    """Return the OpenAPI 3.0 document of the JSON API."""
    provider_id = _path("provider_id", "The provider's number.")
    reference = _path("reference", "A booking reference such as CL-7K3QP.")
    escalation = _path("reference", "An escalation reference such as E-7K3QP.")
    days = [_query("from", "First day, YYYY-MM-DD (console timezone)."),
            _query("to", "Last day, YYYY-MM-DD (console timezone).")]
    paths: dict[str, Any] = {
        "/api/session": {"get": _get("Who is signed in, and the CSRF token for changes", _ok("The session", _ref("Session")), [])},
        "/api/openapi.json": {"get": _get("This document", _ok("OpenAPI 3.0", {"type": "object"}), [])},
        "/api/escalations": {"get": _get(
            "The open escalation queue, most urgent first", _ok("One page", _page("Escalation")), WINDOW)},
        "/api/escalations/{reference}": {"get": _get(
            "One escalation with its notes", _ok("The escalation", _ref("Escalation")), [escalation], not_found=True)},
        **{f"/api/escalations/{{reference}}/{action}": {"post": _change(
            summary, _action_body(field), "200", _ok("The escalation after the action", _ref("Escalation")),
            [escalation], not_found=True, conflict=True)} for action, (field, summary) in ESCALATION_ACTIONS.items()},
        "/api/escalations/{reference}/transcript": {"get": _get(
            "The newest lines of the escalation's conversation, read from the assistant (available is false "
            "when it cannot be reached)", _ok("The transcript", _ref("Transcript")), [escalation], not_found=True)},
        "/api/providers": {
            "get": _get("Search the registry by name, kind and district", _ok("One page", _page("Provider")),
                        [_query("q", "Part of the name."), _query("kind", "A provider kind."),
                         _query("district", "A district served."), *WINDOW], bad_input=True),
            "post": _change("Add a provider", _ref("ProviderInput"), "201", _ok("Added", _ref("Provider")), [],
                            not_found=False),
        },
        "/api/providers/{provider_id}": {
            "get": _get("One provider", _ok("The provider", _ref("Provider")), [provider_id], not_found=True),
            "patch": _change("Change some of a provider's fields (verified, active, hours...)", _ref("ProviderInput"),
                             "200", _ok("Changed", _ref("Provider")), [provider_id], not_found=True),
        },
        "/api/bookings": {"get": _get(
            "Bookings and meal orders, latest start first", _ok("One page", _page("Booking")),
            [_query("status", "A booking status."), _query("kind", "A booking kind, or meal for every meal kind."),
             *days, _query("senior", "A senior's person number."), *WINDOW], bad_input=True)},
        "/api/bookings/{reference}": {"get": _get(
            "One booking", _ok("The booking", _ref("Booking")), [reference], not_found=True)},
        "/api/bookings/{reference}/status": {"post": _change(
            "Move a booking on (done asks the senior for a rating)", _ref("StatusChange"), "200",
            _ok("The booking after the change", _ref("Booking")), [reference], not_found=True, conflict=True)},
        "/api/bookings/{reference}/provider": {"post": _change(
            "Give a home visit to another provider free at the same time (the senior keeps the agreed price "
            "and is told)", {"type": "object", "required": ["offering_id"], "additionalProperties": False,
                             "properties": {"offering_id": {"type": "integer"}}}, "200",
            _ok("The booking after the change", _ref("Booking")), [reference], not_found=True, conflict=True)},
        "/api/people": {"get": _get(
            "Search seniors and relatives by name", _ok("One page", _page("PersonSummary")),
            [_query("q", "Part of the name."), *WINDOW], bad_input=True)},
        "/api/people/{person_id}": {"get": _get(
            "A person's page: profile, consents, relatives, bookings, reminders, deliveries, open escalations",
            _ok("The person", _ref("PersonPage")), [_path("person_id", "The person's number.")], not_found=True)},
        "/api/audit": {"get": _get(
            "The audit log, newest first", _ok("One page", _page("AuditEntry")),
            [_query("actor", "Part of the actor, e.g. alice."), _query("action", "Start of the action, e.g. provider."),
             _query("entity", "An entity type, or type:id such as provider:12."), *days, *WINDOW], bad_input=True)},
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Care coordinators' console API",
            "version": "1",
            "description": (
                "JSON API of the coordinators' console on 127.0.0.1. Log in at /login: the session cookie "
                "authenticates every call (401 without it). Calls that change something (POST, PATCH) also send "
                "the session's CSRF token, from GET /api/session, in the X-CSRF-Token header (403 without it). "
                "Errors are {error, message, field}: 400 bad input, 404 unknown id, 409 a refused status change."
            ),
        },
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "care_console_session"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
            },
            "schemas": _schemas(),
        },
        "security": [{"session": []}],
        "paths": paths,
    }
