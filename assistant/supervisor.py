"""Keeping child processes alive: restart a crashed one with backoff, give up on one that keeps crashing.

The stack's three processes are independent: when the action server dies, Rasa still answers an
emergency with the number, and the care service still sends reminders. So a crash restarts only the
process that crashed, after 1 s, then 2, 4, ... at most 30 s while it keeps crashing; after
``max_crashes`` crashes within ``window`` seconds it stays stopped and the terminal says so.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Optional

log = logging.getLogger("assistant.supervisor")

Spawn = Callable[[str], subprocess.Popen]
"""Starts the named child and returns its process."""


@dataclass
class _Child:
    name: str
    label: str
    process: Optional[subprocess.Popen] = None
    crashes: deque[float] = field(default_factory=deque)
    restart_at: Optional[float] = None
    given_up: bool = False


def describe_exit(code: int) -> str:
    """An exit code in words: ``exit code 1`` or ``killed by SIGKILL``."""
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class Supervisor:
    """Watches named children; :meth:`check` (called every half second or so) restarts crashed ones.

    Args:
        spawn: Starts a child by name.
        labels: Each child's name and how to call it in the terminal ("the action server").
        say: Where plain-language news goes (the terminal).
        clock: Monotonic seconds (tests move it).
        max_crashes: Crashes within ``window`` after which a child stays stopped.
        window: Seconds over which crashes are counted.
        first_delay: Seconds before the first restart; doubled after every further crash.
        max_delay: The longest wait before a restart.
    """

    def __init__(
        self,
        spawn: Spawn,
        labels: dict[str, str],
        *,
        say: Callable[[str], None] = print,
        clock: Callable[[], float] = time.monotonic,
        max_crashes: int = 5,
        window: float = 300.0,
        first_delay: float = 1.0,
        max_delay: float = 30.0,
    ) -> None:
        self._spawn = spawn
        self._children = {name: _Child(name, label) for name, label in labels.items()}
        self._say = say
        self._clock = clock
        self.max_crashes = max_crashes
        self.window = window
        self.first_delay = first_delay
        self.max_delay = max_delay

    def adopt(self, name: str, process: subprocess.Popen) -> None:
        """Watch ``process`` as the running ``name``."""
        self._children[name].process = process

    def start(self, name: str) -> subprocess.Popen:
        """Start ``name`` now and watch it."""
        process = self._spawn(name)
        self.adopt(name, process)
        return process

    @property
    def processes(self) -> dict[str, subprocess.Popen]:
        """The children that are running now (or exited and not yet noticed)."""
        return {name: c.process for name, c in self._children.items() if c.process is not None}

    def given_up(self) -> list[str]:
        """Names of the children left stopped after crashing too often."""
        return [name for name, child in self._children.items() if child.given_up]

    def check(self) -> None:
        """Notice crashed children, and restart those whose wait is over."""
        now = self._clock()
        for child in self._children.values():
            if child.process is not None and child.process.poll() is not None:
                self._crashed(child, child.process.returncode, now)
            if child.restart_at is not None and now >= child.restart_at:
                child.restart_at = None
                self._restart(child)

    def _crashed(self, child: _Child, code: int, now: float) -> None:
        child.process = None
        child.crashes.append(now)
        while child.crashes and child.crashes[0] < now - self.window:
            child.crashes.popleft()
        count = len(child.crashes)
        why = describe_exit(code)
        if count >= self.max_crashes:
            child.given_up = True
            self._say(
                f"{child.label.capitalize()} stopped ({why}) and has crashed {count} times in "
                f"{self.window / 60:g} minutes, so it stays stopped. The rest keeps running. Its log "
                f"says why ({child.name}.log); restart the assistant when it is mended."
            )
            log.error("%s crashed %d times in %gs (%s); not restarting it", child.name, count, self.window, why)
            return
        delay = min(self.max_delay, self.first_delay * 2 ** (count - 1))
        child.restart_at = now + delay
        self._say(f"{child.label.capitalize()} stopped unexpectedly ({why}); starting it again in {delay:g} s.")
        log.warning("%s stopped (%s); restart %d in %gs", child.name, why, count, delay)

    def _restart(self, child: _Child) -> None:
        try:
            child.process = self._spawn(child.name)
        except OSError as error:
            log.error("could not start %s again: %s", child.name, error)
            self._crashed(child, 1, self._clock())
            return
        self._say(f"{child.label.capitalize()} is starting again.")
