"""Slash commands a user can type in any of our chats, and the Rasa intents they stand for."""

from __future__ import annotations

import re
from typing import Final, Optional

COMMAND_PAYLOADS: Final = {
    "start": "/greet",
    "help": "/ask_capabilities",
    "repeat": "/repeat",
    "again": "/repeat",
    "stop": "/stop",
    "invite": "/invite_relative",
    "family": "/list_family",
    "mydata": "/my_data",
    "forget": "/forget_me",
}
"""Commands that become Rasa intents (Telegram also has ``/voice`` and ``/link``, handled by its channel)."""
_TYPED = re.compile(r"/([A-Za-z]+)")


def typed_command_payload(text: str) -> Optional[str]:
    """The intent payload a typed command such as "/mydata" stands for; None for anything else."""
    match = _TYPED.fullmatch(text.strip())
    return COMMAND_PAYLOADS.get(match.group(1).lower()) if match else None
