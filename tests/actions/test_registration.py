"""The action server registers exactly the actions the domain declares."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import ActionExecutor


def test_every_domain_action_is_served_and_nothing_else(domain: dict[str, Any]) -> None:
    executor = ActionExecutor()
    executor.register_package("assistant.actions")
    served = set(executor.actions)
    declared = {a for a in domain["actions"] if not a.startswith("utter_")}
    assert declared <= served, f"declared but not served: {sorted(declared - served)}"
    assert served - declared <= {"action_session_start"}, f"served but not declared: {sorted(served - declared)}"
