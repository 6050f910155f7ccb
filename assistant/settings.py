"""Every setting of the assistant, read from the environment in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = Path(os.environ.get("ASSISTANT_STATE_DIR", "").strip() or PROJECT_ROOT / ".state").resolve()
"""Databases, secrets, logs and per-chat state (owner-only: 0700, files 0600)."""


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    """Deployment settings; see the README's table for each variable."""

    database_url: str = field(
        default_factory=lambda: _env(
            "ASSISTANT_DATABASE_URL", f"sqlite:///{STATE_DIR / 'assistant.db'}"
        )
    )
    timezone: str = field(default_factory=lambda: _env("ASSISTANT_TIMEZONE", "Europe/London"))
    emergency_number: str = field(default_factory=lambda: _env("ASSISTANT_EMERGENCY_NUMBER", "112"))
    rasa_port: int = field(default_factory=lambda: _env_int("ASSISTANT_RASA_PORT", 5005))
    action_port: int = field(default_factory=lambda: _env_int("ASSISTANT_ACTION_PORT", 5055))
    meal_lead_minutes: int = field(
        default_factory=lambda: _env_int("ASSISTANT_MEAL_LEAD_MINUTES", 45)
    )
    tracker_db: str = field(default_factory=lambda: _env("ASSISTANT_TRACKER_DB", str(STATE_DIR / "trackers.db")))
    """Rasa's conversation tracker store (SQLite file); the care service reads emergencies from it."""
    rasa_url: str = field(default_factory=lambda: _env("ASSISTANT_RASA_URL", ""))
    rasa_token: str = field(default_factory=lambda: _env("ASSISTANT_RASA_TOKEN", ""))
    care_tick_seconds: int = field(
        default_factory=lambda: _env_int("ASSISTANT_CARE_TICK_SECONDS", 15)
    )
    care_notify_seconds: int = field(
        default_factory=lambda: _env_int("ASSISTANT_CARE_NOTIFY_SECONDS", 1)
    )
    care_lock_stale_seconds: int = field(
        default_factory=lambda: _env_int("ASSISTANT_CARE_LOCK_STALE_SECONDS", 90)
    )
    care_delivery_workers: int = field(
        default_factory=lambda: _env_int("ASSISTANT_CARE_DELIVERY_WORKERS", 16)
    )
    history_days: int = field(default_factory=lambda: _env_int("ASSISTANT_HISTORY_DAYS", 180))
    """Days of conversation history kept in Rasa's tracker store; older events are deleted hourly."""
    escalation_days: int = field(default_factory=lambda: _env_int("ASSISTANT_ESCALATION_DAYS", 730))
    """Days a resolved escalation (and its notes) is kept."""
    console_port: int = field(default_factory=lambda: _env_int("ASSISTANT_CONSOLE_PORT", 5080))
    console_secret: str = field(default_factory=lambda: _env("ASSISTANT_CONSOLE_SECRET", ""))
    listen_address: str = field(default_factory=lambda: _env("ASSISTANT_LISTEN_ADDRESS", "127.0.0.1"))
    """Where Rasa and the action server listen; anything beyond loopback needs both tokens."""
    action_token: str = field(default_factory=lambda: _env("ASSISTANT_ACTION_TOKEN", ""))
    """The secret Rasa sends the action server (generated into the state directory when unset)."""
    speech_port: int = field(default_factory=lambda: _env_int("ASSISTANT_SPEECH_PORT", 5058))
    """Where the offline speech-to-text server listens (always loopback)."""
    speech_url: str = field(default_factory=lambda: _env("ASSISTANT_SPEECH_URL", ""))
    """The speech server's base URL, when it runs elsewhere; empty: ``http://127.0.0.1:<speech_port>``."""
    speech_python: str = field(
        default_factory=lambda: _env("ASSISTANT_SPEECH_PYTHON", str(PROJECT_ROOT / ".venv-speech" / "bin" / "python"))
    )
    """The Python of the speech virtualenv (faster-whisper); ``off`` runs no speech server."""

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"ASSISTANT_TIMEZONE is not a known timezone: {self.timezone!r}") from exc
        if self.history_days < 1 or self.escalation_days < 1:
            raise ValueError("ASSISTANT_HISTORY_DAYS and ASSISTANT_ESCALATION_DAYS must be at least 1 (days)")

    @property
    def tz(self) -> ZoneInfo:
        """The deployment's default timezone."""
        return ZoneInfo(self.timezone)

    @property
    def tracker_url(self) -> str:
        """SQLAlchemy URL of Rasa's tracker store, for reading and deleting conversation history."""
        return f"sqlite:///{self.tracker_db}"

    @property
    def speech_base_url(self) -> str:
        """Where the channels send voice messages to be transcribed."""
        return self.speech_url or f"http://127.0.0.1:{self.speech_port}"

    @property
    def rasa_base_url(self) -> str:
        """Where our own processes (the care service) reach Rasa's HTTP API."""
        return self.rasa_url or f"http://127.0.0.1:{self.rasa_port}"


def load_settings() -> Settings:
    """Read the settings from the environment now."""
    return Settings()
