"""Talking to the speech server from the assistant's side (channels and the ``assistant`` command)."""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path
from typing import Any, Optional

import aiohttp

from assistant.hearing.limits import EMPTY, MAX_BYTES, TOO_BIG
from assistant.hearing.verdict import Hearing, judge
from assistant.settings import PROJECT_ROOT

logger = logging.getLogger(__name__)

UNAVAILABLE = {"error": "unavailable"}


class SpeechClient:
    """Sends recordings to the speech server (``POST /transcribe``) and judges the answer.

    Args:
        base_url: The server, e.g. ``http://127.0.0.1:5058``.
        timeout: Seconds to wait for one transcription (a queue of a few minute-long clips fits).
    """

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    async def transcribe(self, data: bytes) -> dict[str, Any]:
        """The server's answer: a transcript, ``{"error": reason}``, or ``{"error": "unavailable"}``."""
        if not data:
            return {"error": EMPTY}
        if len(data) > MAX_BYTES:
            return {"error": TOO_BIG}
        try:
            timeout = aiohttp.ClientTimeout(total=self.timeout)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.post(
                    f"{self.base_url}/transcribe", data=data, headers={"Content-Type": "application/octet-stream"}
                ) as reply:
                    if reply.status >= 500:
                        logger.error("speech: the server failed (%s)", reply.status)
                        return dict(UNAVAILABLE)
                    body = await reply.json(content_type=None)
        except (aiohttp.ClientError, OSError, ValueError, TimeoutError) as error:
            logger.error("speech: the server at %s did not answer: %s", self.base_url, error)
            return dict(UNAVAILABLE)
        return body if isinstance(body, dict) else dict(UNAVAILABLE)

    async def hear(self, data: bytes) -> Hearing:
        """The verdict on one recording (see :func:`~assistant.hearing.verdict.judge`)."""
        return judge(await self.transcribe(data))


def listener(url: Optional[str]) -> Optional[SpeechClient]:
    """The client a channel hears through, or None when listening is off (no URL, or ``off``)."""
    return SpeechClient(url) if url and url != "off" else None


def speech_command(python: str, *args: str) -> list[str]:
    """The command that runs the speech server module in the speech virtualenv."""
    return [python, "-m", "assistant.hearing.server", *args]


def transcribe_file(path: Path, python: str, timeout: float = 300.0) -> dict[str, Any]:
    """One file's transcript from a one-off run of the speech engine (no server needed).

    Raises:
        FileNotFoundError: the speech virtualenv is missing (``make setup`` makes it).
    """
    if not Path(python).exists():
        raise FileNotFoundError(python)
    done = subprocess.run(
        speech_command(python, "--file", str(path)),
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout, check=False,
    )
    lines = done.stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1]) if lines else None
    except ValueError:
        result = None
    if not isinstance(result, dict):
        logger.error("speech: the engine gave no answer: %s", done.stderr[-2000:])
        return dict(UNAVAILABLE)
    return result
