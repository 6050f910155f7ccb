"""Whole conversations as users write them, through REST against the running stack.

Each file in ``tests/conversations/`` holds conversations in a small format::

    - name: what the user is trying to do
      registered: true            # optional: register as Mary Jones (Riverside, diabetic) first
      steps:
        - user: what the user types
          expect: [words that must appear in the replies]
          not: [words that must not appear]
          buttons: [words each of which some offered button's title must contain]
        - press: part of a button's title   # presses the button the last replies offered

Every reply must leave the user something to press or say: a conversation fails if a reply
has no text at all. Written in everyday language, never copied from the training data.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import RunningStack, log_tail, texts
from .test_rest_conversation import register

pytestmark = pytest.mark.stack

FOLDER = Path(__file__).resolve().parents[1] / "conversations"


def conversations() -> list[Any]:
    """Every conversation of every file, as pytest parameters named by file and name."""
    found = []
    for path in sorted(FOLDER.glob("*.yml")):
        for conversation in yaml.safe_load(path.read_text(encoding="utf-8")):
            found.append(pytest.param(conversation, id=f"{path.stem}: {conversation['name']}"))
    return found


def test_the_conversations_are_enough() -> None:
    assert len(conversations()) >= 30


def buttons_of(replies: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [b for m in replies for b in m.get("buttons") or []]


@pytest.mark.parametrize("conversation", conversations())
def test_conversation(running_stack: RunningStack, conversation: dict[str, Any]) -> None:
    sender = "talk-" + uuid.uuid4().hex[:12]
    if conversation.get("registered"):
        register(running_stack, sender)
    replies: list[dict[str, Any]] = []
    for number, step in enumerate(conversation["steps"], 1):
        if "press" in step:
            matching = [b for b in buttons_of(replies) if step["press"].lower() in b["title"].lower()]
            assert matching, f"step {number}: no button with {step['press']!r} in {[b['title'] for b in buttons_of(replies)]}"
            said = matching[0]["payload"]
        else:
            said = step["user"]
        replies = running_stack.say(sender, said)
        shown = texts(replies)
        where = f"step {number} ({said!r}) got:\n{shown}\nbuttons: {[b['title'] for b in buttons_of(replies)]}"
        assert shown.strip(), f"{where}\n(no reply at all: a dead end)" + log_tail(running_stack, "actions")
        for needle in step.get("expect", []):
            assert needle.lower() in shown.lower(), f"{where}\nmissing: {needle!r}"
        for needle in step.get("not", []):
            assert needle.lower() not in shown.lower(), f"{where}\nshould not say: {needle!r}"
        titles = " | ".join(b["title"] for b in buttons_of(replies)).lower()
        for needle in step.get("buttons", []):
            assert needle.lower() in titles, f"{where}\nno button with: {needle!r}"
