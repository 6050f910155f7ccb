"""The escalation actions: claim, note, resolve, answer, and the handoff (join, reply, hand back).

:data:`ACTIONS` and :func:`escalation_calls` serve both the escalation page's forms
(``POST /escalations/<reference>/<action>``, in :mod:`assistant.console.app`) and the JSON API
registered here. An API call takes a JSON body (``{}`` or ``{"text": ...}`` / ``{"outcome": ...}``),
needs the session and the ``X-CSRF-Token`` header like every change, and returns the escalation
after the action.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from assistant.care.core.errors import InvalidInput, NotAllowed
from assistant.care.escalations.escalations import EscalationService
from assistant.care.coordinators.handoffs import HandoffService
from assistant.console.kit import Kit, actor_name, api_json, json_body, only_fields

ACTIONS: dict[str, Optional[str]] = {
    "claim": None, "note": "text", "resolve": "outcome", "answer": "text",
    "join": None, "reply": "text", "handback": None,
}
"""Each action and the one text field its form or JSON body carries (None: none)."""


def escalation_calls(
    escalations: EscalationService, add_note: Callable[..., Any], handoffs: Optional[HandoffService]
) -> dict[str, Callable[..., Any]]:
    """The domain call behind each action, called as ``(reference, coordinator, *text)``.

    Without ``handoffs`` the handoff actions are refused kindly.
    """

    def unavailable(*_: Any) -> None:
        raise NotAllowed("Talking in the user's chat is not available here.")

    return {
        "claim": escalations.claim, "note": add_note, "resolve": escalations.resolve,
        "answer": escalations.answer,
        "join": handoffs.join if handoffs else unavailable,
        "reply": handoffs.reply if handoffs else unavailable,
        "handback": handoffs.hand_back if handoffs else unavailable,
    }


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
    calls = escalation_calls(care.escalations, notes_add, care.handoffs)

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
