"""Starting, watching and stopping the local stack: action server, Rasa, the care service (which
also serves the coordinators' console), and the offline speech server (in its own virtualenv, when
``make setup`` made it: voice messages are heard on this machine).

Each process runs in a session (process group) of its own: :meth:`Stack.stop` ends it with its
children. :meth:`Stack.watch` restarts a crashed one (see :mod:`assistant.supervisor`) while the
others keep running. Rasa and the action server listen on ``ASSISTANT_LISTEN_ADDRESS`` (loopback
unless set); Rasa calls the action server with a secret header (``endpoints.stack.yml``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from assistant.channels.telegram_config import credentials_for_rasa
from assistant.rasa_server import exposure_refusal
from assistant.security import PRIVATE_FILE_MODE, load_or_create_secret, make_private_dir
from assistant.settings import PROJECT_ROOT, STATE_DIR, Settings
from assistant.supervisor import Supervisor
from assistant.training import model_path

LABELS = {
    "speech": "the speech server",
    "actions": "the action server",
    "rasa": "the Rasa server",
    "care": "the care service",
}
"""The stack's processes, in start order, as the terminal names them."""
STOP_GRACE = 8.0
"""Seconds a stopping process gets before it is killed (all are gone within 10 s of a signal)."""


@dataclass
class Stack:
    """The processes of one running stack, with their ports and logs."""

    settings: Settings
    root: Path = PROJECT_ROOT
    log_dir: Path = STATE_DIR / "logs"
    tracker_db: Optional[Path] = None
    say: Callable[[str], None] = print
    supervisor: Supervisor = field(init=False)

    def __post_init__(self) -> None:
        self.supervisor = Supervisor(self._spawn, LABELS, say=self.say)
        self._lock = threading.RLock()
        self._stopping = False
        self._watcher: Optional[threading.Thread] = None

    @property
    def processes(self) -> dict[str, subprocess.Popen]:
        """The stack's processes by name."""
        return self.supervisor.processes

    @property
    def state_dir(self) -> Path:
        """Where the stack's generated secrets live (the parent of its logs)."""
        return self.log_dir.parent

    @property
    def action_token(self) -> str:
        """The secret Rasa sends the action server: the setting, or one generated into the state dir."""
        return load_or_create_secret(self.settings.action_token, self.state_dir / "action-token")

    @property
    def rasa_url(self) -> str:
        """Base URL of the Rasa server."""
        return f"http://127.0.0.1:{self.settings.rasa_port}"

    @property
    def speech_url(self) -> str:
        """The speech server, or ``off`` when its virtualenv is missing or switched off."""
        if not self.hears:
            return "off"
        return f"http://127.0.0.1:{self.settings.speech_port}"

    @property
    def hears(self) -> bool:
        """Whether the stack runs the speech server (its Python exists and is not ``off``)."""
        python = self.settings.speech_python
        return python != "off" and Path(python).exists()

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
            ASSISTANT_LISTEN_ADDRESS=self.settings.listen_address,
            ASSISTANT_ACTION_TOKEN=self.action_token,
            ASSISTANT_RASA_TOKEN=self.settings.rasa_token,
            ASSISTANT_SPEECH_URL=self.speech_url,
            RASA_TELEMETRY_ENABLED=os.environ.get("RASA_TELEMETRY_ENABLED", "false"),
        )
        return env

    def command(self, name: str) -> tuple[str, list[str]]:
        """The module and arguments that start ``name``."""
        if name == "actions":
            return "assistant.action_server", ["--port", str(self.settings.action_port)]
        if name == "rasa":
            credentials = credentials_for_rasa(
                self.root / "credentials.yml", self.state_dir / "credentials.yml", self.environment()
            )
            args = [
                "run", "--enable-api", "--interface", self.settings.listen_address,
                "--port", str(self.settings.rasa_port), "--model", str(model_path(self.root)),
                "--credentials", str(credentials), "--endpoints", "endpoints.stack.yml",
                "--cors", f"http://127.0.0.1:{self.settings.rasa_port}",
            ]
            if self.settings.rasa_token:
                args += ["--auth-token", self.settings.rasa_token]
            return "assistant.rasa_server", args
        if name == "care":
            return "assistant.careservice", []
        if name == "speech":
            return "assistant.hearing.server", ["--host", "127.0.0.1", "--port", str(self.settings.speech_port)]
        raise KeyError(name)

    def _spawn(self, name: str) -> subprocess.Popen:
        make_private_dir(self.log_dir)
        module, args = self.command(name)
        with open(self.log_dir / f"{name}.log", "ab") as log:
            os.chmod(log.name, PRIVATE_FILE_MODE)
            python = self.settings.speech_python if name == "speech" else sys.executable
            return subprocess.Popen(
                [python, "-m", module, *args],
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
        refusal = exposure_refusal(self.command("rasa")[1])
        if refusal:
            raise RuntimeError(refusal)
        with self._lock:
            if self.hears:
                self.supervisor.start("speech")
            else:
                self.say("Voice messages are off: the speech model is not installed (`make setup` installs it).")
            self.supervisor.start("actions")
            self.supervisor.start("rasa")
        self.wait_ready(timeout)
        with self._lock:
            self.supervisor.start("care")
        deadline = time.monotonic() + 60
        while not answers(f"{self.console_url}/login"):
            self.raise_if_dead()
            if time.monotonic() > deadline:
                raise TimeoutError(f"the console did not start in 60s; see {self.log_dir / 'care.log'}")
            time.sleep(0.3)

    def wait_ready(self, timeout: float) -> None:
        """Block until the action server and a loaded model answer, or raise."""
        deadline = time.monotonic() + timeout
        checks = {
            "actions": f"http://127.0.0.1:{self.settings.action_port}/health",
            "rasa": f"{self.rasa_url}/status" + (f"?token={self.settings.rasa_token}" if self.settings.rasa_token else ""),
        }
        if "speech" in self.processes:
            checks["speech"] = f"{self.speech_url}/health"
        pending = dict(checks)
        while pending:
            for name in list(pending):
                self.raise_if_dead()
                if answers(pending[name], need="model_file" if name == "rasa" else ""):
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

    def watch(self) -> None:
        """Restart any process that crashed (call every half second or so)."""
        with self._lock:
            if not self._stopping:
                self.supervisor.check()

    def watch_in_background(self, interval: float = 0.5) -> None:
        """Call :meth:`watch` from a daemon thread until :meth:`stop`."""

        def loop() -> None:
            while not self._stopping:
                self.watch()
                time.sleep(interval)

        self._watcher = threading.Thread(target=loop, name="stack-watch", daemon=True)
        self._watcher.start()

    def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop every process and its children: SIGTERM first, SIGKILL after ``grace`` seconds."""
        with self._lock:
            self._stopping = True
            processes = list(self.processes.values())
        for process in processes:
            if process.poll() is None:
                _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in processes:
            remaining = max(0.1, deadline - time.monotonic())
            try:
                process.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                pass
            # Whatever is left in its group (a process's own children) goes too.
            _signal_group(process, signal.SIGKILL)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if self._watcher is not None and self._watcher is not threading.current_thread():
            self._watcher.join(timeout=2)

    def pids(self) -> dict[str, int]:
        """Process ids by server name."""
        return {name: p.pid for name, p in self.processes.items()}


def seeded_settings(state: Path, **overrides: object) -> Settings:
    """Settings for a throwaway stack: a migrated SQLite file with the demo registry in ``state``,
    and free ports for every server (benchmarks and end-to-end tests)."""
    from dataclasses import replace

    from assistant.care.core.db import Database
    from assistant.care.registry.seed import load_demo_data
    from assistant.settings import load_settings

    url = f"sqlite:///{state / 'care.db'}"
    database = Database(url)
    database.upgrade()
    load_demo_data(database)
    database.dispose()
    return replace(
        load_settings(), database_url=url, rasa_port=free_port(), action_port=free_port(),
        console_port=free_port(), speech_port=free_port(), **overrides,
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


def answers(url: str, need: str = "") -> bool:
    """Whether ``url`` answers 200 now (with ``need`` in its body, if given)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            body = response.read().decode("utf-8", "replace")
            return response.status == 200 and (not need or need in body)
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False
