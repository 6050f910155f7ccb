"""Rasa keeps the conversation going while the action server is down (applied by :mod:`assistant.rasa_server`).

Our ``action_session_start`` is a custom action. When the action server cannot be reached, Rasa logs
the failed session start and no ``action_listen`` follows it, so the next message matches no rule:
a senior writing "I've fallen" as her first message of the day would get "I didn't understand"
instead of the emergency number. With this patch a session start that cannot reach the action
server falls back to Rasa's own (a new session, slots carried over, then listen): the emergency
rule matches and ``utter_emergency_call`` gives the number without the action server.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, List, Optional

log = logging.getLogger("assistant.rasa_resilience")

_original_run: Optional[Callable[..., Any]] = None


def apply() -> bool:
    """Patch Rasa's ``RemoteAction.run`` in this process; False when it was patched already."""
    global _original_run
    from rasa.core.actions.action import ActionExecutionRejection, ActionSessionStart, RemoteAction
    from rasa.shared.core.constants import ACTION_SESSION_START_NAME
    from rasa.shared.exceptions import RasaException

    if _original_run is not None:
        return False
    original = _original_run = RemoteAction.run

    async def run(self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Any]:
        try:
            return await original(self, output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise
        except RasaException:
            if self.name() != ACTION_SESSION_START_NAME:
                raise
            log.warning("the action server did not answer: starting the session with Rasa's default")
            return await ActionSessionStart().run(output_channel, nlg, tracker, domain)

    RemoteAction.run = run  # type: ignore[method-assign]
    return True


def remove() -> None:
    """Undo :func:`apply` (tests)."""
    global _original_run
    from rasa.core.actions.action import RemoteAction

    if _original_run is not None:
        RemoteAction.run = _original_run  # type: ignore[method-assign]
        _original_run = None
