"""Failed log-ins counted per client address, so one address cannot try passwords on many accounts.

Each account already locks after 5 failures (:mod:`assistant.care.coordinators.coordinators`); this stops an
address that sprays guesses over many usernames. Kept in memory: a restart forgets it, which only
ever lets someone try again.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from typing import Callable, Deque, Final

MAX_FAILURES: Final = 30
WINDOW_SECONDS: Final = 15 * 60
MAX_ADDRESSES: Final = 10_000


class FailedLogins:
    """A sliding window of failed log-ins per address.

    Args:
        max_failures: Failures within the window after which the address must wait.
        window_seconds: How far back failures count.
        clock: Monotonic seconds (tests pass their own).
    """

    def __init__(
        self, max_failures: int = MAX_FAILURES, window_seconds: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max = max_failures
        self._window = window_seconds
        self._clock = clock
        self._failures: "OrderedDict[str, Deque[float]]" = OrderedDict()
        self._lock = threading.Lock()

    def blocked(self, address: str) -> bool:
        """Whether ``address`` has failed too often lately."""
        with self._lock:
            return len(self._recent(address)) >= self._max

    def failed(self, address: str) -> None:
        """Count one failed log-in from ``address``."""
        with self._lock:
            recent = self._recent(address)
            recent.append(self._clock())
            self._failures[address] = recent
            self._failures.move_to_end(address)
            while len(self._failures) > MAX_ADDRESSES:
                self._failures.popitem(last=False)

    def _recent(self, address: str) -> Deque[float]:
        recent = self._failures.get(address) or deque()
        cutoff = self._clock() - self._window
        while recent and recent[0] <= cutoff:
            recent.popleft()
        return recent
