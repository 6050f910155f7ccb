"""The JSON API's escalation actions: claim, note, resolve, answer, and the handoff (join, reply, hand back).

Each takes a JSON body (``{}`` or ``{"text": ...}`` / ``{"outcome": ...}``), needs the session and
the ``X-CSRF-Token`` header like every change, and returns the escalation after the action.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from assistant.care.errors import InvalidInput
from assistant.console.kit import Kit, actor_name, api_json, json_body, only_fields

ACTIONS: dict[str, Optional[str]] = {
    "claim": None, "note": "text", "resolve": "outcome", "answer": "text",
    "join": None, "reply": "text", "handback": None,
}
"""Each action and the one text field its body carries (None: an empty object)."""


def _text(body: dict[str, Any], field: Optional[str]) -> list[str]:
    """The action's text argument (a list: empty when the action takes none); refuses unknown fields."""
    only_fields(body, (field,) if field else (), "this action")
    if field is None:
        return []
    value = body.get(field)
    if not isinstance(value, str):
        raise InvalidInput(f"Please send {field} as text.", field=field)
    return [value]


def register(app: Sanic, kit: Kit, notes_add: Callable[..., Any]) -> None:
    """Add ``POST /api/escalations/<reference>/<action>`` for every action in :data:`ACTIONS`."""
    care = kit.care
    calls: dict[str, Callable[..., Any]] = {
        "claim": care.escalations.claim, "note": notes_add, "resolve": care.escalations.resolve,
        "answer": care.escalations.answer, "join": care.handoffs.join, "reply": care.handoffs.reply,
        "handback": care.handoffs.hand_back,
    }

    def route(action: str) -> None:
        field = ACTIONS[action]

        async def handler(request: Request, reference: str) -> HTTPResponse:
            await kit.call(care.escalations.get, reference)  # 404 before looking at the body
            args = _text(json_body(request), field)
            await kit.call(calls[action], reference, actor_name(request), *args)
            return api_json(await kit.call(care.escalations.get, reference))

        handler.__name__ = f"api_escalation_{action}"
        app.post(f"/api/escalations/<reference:str>/{action}", name=handler.__name__)(kit.authenticated(handler))

    for action in ACTIONS:
        route(action)
