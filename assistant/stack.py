"""Starting, watching and stopping the local stack: action server, Rasa, and the care service (which
also serves the coordinators' console)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from assistant.channels.telegram_config import credentials_for_rasa
from assistant.settings import PROJECT_ROOT, STATE_DIR, Settings
from assistant.training import model_path


@dataclass
class Stack:
    """The processes of one running stack, with their ports and logs."""

    settings: Settings
    root: Path = PROJECT_ROOT
    log_dir: Path = STATE_DIR / "logs"
    tracker_db: Optional[Path] = None
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def rasa_url(self) -> str:
        """Base URL of the Rasa server."""
        return f"http://127.0.0.1:{self.settings.rasa_port}"

    @property
    def console_url(self) -> str:
        """The coordinators' console."""
        return f"http://127.0.0.1:{self.settings.console_port}"

    @property
    def chat_url(self) -> str:
        """The local chat page."""
        return f"{self.rasa_url}/webhooks/webchat/"

    def environment(self) -> dict[str, str]:
        """Environment for the child processes: our settings made explicit."""
        env = dict(os.environ)
        env.update(
            ASSISTANT_DATABASE_URL=self.settings.database_url,
            ASSISTANT_TIMEZONE=self.settings.timezone,
            ASSISTANT_EMERGENCY_NUMBER=self.settings.emergency_number,
            ASSISTANT_ACTION_PORT=str(self.settings.action_port),
            ASSISTANT_RASA_PORT=str(self.settings.rasa_port),
            ASSISTANT_TRACKER_DB=str(self.tracker_db or (self.log_dir.parent / "trackers.db")),
            ASSISTANT_MEAL_LEAD_MINUTES=str(self.settings.meal_lead_minutes),
            ASSISTANT_RASA_URL=self.rasa_url,
            ASSISTANT_CARE_TICK_SECONDS=str(self.settings.care_tick_seconds),
            ASSISTANT_CONSOLE_PORT=str(self.settings.console_port),
        )
        return env

    def _spawn(self, name: str, args: list[str], module: str = "rasa") -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=self.root,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start(self, timeout: float = 300.0) -> None:
        """Start the three processes and wait until the servers (and the console) answer.

        The care service (reminders, notifications, escalation timers) starts last; it keeps
        retrying deliveries, so it needs nothing to be ready first.
        """
        model = model_path(self.root)
        if not model.exists():
            raise FileNotFoundError(f"No trained model at {model}; run `assistant train` first.")
        self._spawn(
            "actions",
            ["run", "actions", "--actions", "assistant.actions", "--port", str(self.settings.action_port)],
        )
        credentials = credentials_for_rasa(
            self.root / "credentials.yml", self.log_dir.parent / "credentials.yml", self.environment()
        )
        self._spawn(
            "rasa",
            [
                "run", "--enable-api", "--interface", "127.0.0.1", "--port", str(self.settings.rasa_port),
                "--model", str(model), "--credentials", str(credentials), "--endpoints", "endpoints.yml",
                "--cors", f"http://127.0.0.1:{self.settings.rasa_port}",
            ],
            module="assistant.rasa_server",
        )
        self.wait_ready(timeout)
        self._spawn("care", [], module="assistant.careservice")
        deadline = time.monotonic() + 60
        while not _answers(f"{self.console_url}/login"):
            self.raise_if_dead()
            if time.monotonic() > deadline:
                raise TimeoutError(f"the console did not start in 60s; see {self.log_dir / 'care.log'}")
            time.sleep(0.3)

    def wait_ready(self, timeout: float) -> None:
        """Block until the action server and a loaded model answer, or raise."""
        deadline = time.monotonic() + timeout
        checks = {
            "actions": f"http://127.0.0.1:{self.settings.action_port}/health",
            "rasa": f"{self.rasa_url}/status",
        }
        pending = dict(checks)
        while pending:
            for name in list(pending):
                self.raise_if_dead()
                if _answers(pending[name], need="model_file" if name == "rasa" else ""):
                    del pending[name]
            if time.monotonic() > deadline:
                raise TimeoutError(f"{', '.join(pending)} did not start in {timeout:.0f}s; see {self.log_dir}")
            if pending:
                time.sleep(0.5)

    def raise_if_dead(self) -> None:
        """Raise if a process has exited."""
        for name, process in self.processes.items():
            code = process.poll()
            if code is not None:
                raise RuntimeError(f"the {name} process stopped (exit code {code}); see {self.log_dir / (name + '.log')}")

    def stop(self, grace: float = 15.0) -> None:
        """Stop every process: SIGINT first, then SIGKILL after a grace period."""
        for process in self.processes.values():
            if process.poll() is None:
                _signal_group(process, signal.SIGINT)
        deadline = time.monotonic() + grace
        for process in self.processes.values():
            remaining = max(0.1, deadline - time.monotonic())
            try:
                process.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(timeout=5)
        self.processes.clear()

    def pids(self) -> dict[str, int]:
        """Process ids by server name."""
        return {name: p.pid for name, p in self.processes.items()}


def seeded_settings(state: Path, **overrides: object) -> Settings:
    """Settings for a throwaway stack: a migrated SQLite file with the demo registry in ``state``,
    and free ports for every server (benchmarks and end-to-end tests)."""
    from dataclasses import replace

    from assistant.care.db import Database
    from assistant.care.seed import load_demo_data
    from assistant.settings import load_settings

    url = f"sqlite:///{state / 'care.db'}"
    database = Database(url)
    database.upgrade()
    load_demo_data(database)
    database.dispose()
    return replace(
        load_settings(), database_url=url, rasa_port=free_port(), action_port=free_port(),
        console_port=free_port(), **overrides,
    )


def free_port() -> int:
    """A TCP port on loopback that nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def _answers(url: str, need: str = "") -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            body = response.read().decode("utf-8", "replace")
            return response.status == 200 and (not need or need in body)
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False
