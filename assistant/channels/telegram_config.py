"""Which credentials file Rasa gets: ours, plus the Telegram channel when a token is set.

Rasa expands ``${VARIABLE}`` in ``credentials.yml`` when it reads the file and refuses
to start when a variable is unset (``rasa/shared/utils/io.py``,
``replace_environment_variables``). So ``credentials.yml`` cannot list the Telegram
channel for everyone: on a laptop without a bot the whole server would fail to start.
Instead, the process that starts Rasa calls :func:`credentials_for_rasa` and passes the
file it returns to ``rasa run --credentials``. The generated file holds only
``${...}`` references, never a secret: Rasa reads the values from its environment.

Framework-free on purpose (no Rasa, no Telegram imports): the stack imports it cheaply.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Mapping, Optional

CHANNEL_KEY = "assistant.channels.telegram.TelegramInput"

ENV_BOT_TOKEN = "TELEGRAM_BOT_TOKEN"
ENV_WEBHOOK_URL = "TELEGRAM_WEBHOOK_URL"
ENV_SECRET_TOKEN = "TELEGRAM_SECRET_TOKEN"
ENV_API_BASE_URL = "TELEGRAM_API_BASE_URL"
ENV_VOICE_ENGINE = "TELEGRAM_VOICE_ENGINE"
ENV_STATE_DIR = "TELEGRAM_STATE_DIR"

# credentials key -> environment variable; only variables that are set are referenced.
OPTIONAL_KEYS = {
    "webhook_url": ENV_WEBHOOK_URL,
    "secret_token": ENV_SECRET_TOKEN,
    "base_url": ENV_API_BASE_URL,
    "voice_engine": ENV_VOICE_ENGINE,
    "state_dir": ENV_STATE_DIR,
}


def _is_set(environ: Mapping[str, str], name: str) -> bool:
    return bool((environ.get(name) or "").strip())


def telegram_enabled(environ: Optional[Mapping[str, str]] = None) -> bool:
    """Whether a bot token is set, so Telegram should be served."""
    return _is_set(os.environ if environ is None else environ, ENV_BOT_TOKEN)


def telegram_section(environ: Optional[Mapping[str, str]] = None) -> Optional[Dict[str, str]]:
    """The channel's credentials as ``${VARIABLE}`` references, or ``None`` without a token."""
    environ = os.environ if environ is None else environ
    if not _is_set(environ, ENV_BOT_TOKEN):
        return None
    section = {"bot_token": f"${{{ENV_BOT_TOKEN}}}"}
    for key, variable in OPTIONAL_KEYS.items():
        if _is_set(environ, variable):
            section[key] = f"${{{variable}}}"
    return section


def credentials_for_rasa(
    source: Path, target: Path, environ: Optional[Mapping[str, str]] = None
) -> Path:
    """The credentials file to give ``rasa run``.

    Without ``TELEGRAM_BOT_TOKEN`` (or when ``source`` already lists the channel) this
    is ``source`` itself. Otherwise ``target`` is (re)written as ``source`` plus the
    Telegram channel, and returned. Values must stay unquoted for Rasa to expand them.
    """
    section = telegram_section(environ)
    text = Path(source).read_text(encoding="utf-8")
    if section is None or any(
        line.split("#")[0].strip() == f"{CHANNEL_KEY}:" for line in text.splitlines()
    ):
        return Path(source)
    block = [
        "",
        f"# Added by assistant.channels.telegram_config because {ENV_BOT_TOKEN} is set.",
        f"{CHANNEL_KEY}:",
        *(f"  {key}: {value}" for key, value in section.items()),
        "",
    ]
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(target.suffix + ".tmp")
    temporary.write_text(text.rstrip("\n") + "\n" + "\n".join(block), encoding="utf-8")
    os.replace(temporary, target)
    return target
