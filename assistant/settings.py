"""Every setting of the assistant, read from the environment in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = PROJECT_ROOT / ".state"


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
    console_port: int = field(default_factory=lambda: _env_int("ASSISTANT_CONSOLE_PORT", 5080))
    console_secret: str = field(default_factory=lambda: _env("ASSISTANT_CONSOLE_SECRET", ""))

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"ASSISTANT_TIMEZONE is not a known timezone: {self.timezone!r}") from exc

    @property
    def tz(self) -> ZoneInfo:
        """The deployment's default timezone."""
        return ZoneInfo(self.timezone)

    @property
    def rasa_base_url(self) -> str:
        """Where our own processes (the care service) reach Rasa's HTTP API."""
        return self.rasa_url or f"http://127.0.0.1:{self.rasa_port}"


def load_settings() -> Settings:
    """Read the settings from the environment now."""
    return Settings()
