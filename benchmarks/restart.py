"""How fast a killed part of the stack is back, and how fast the whole stack stops: ``python -m benchmarks.restart``.

Starts the real stack on a throwaway seeded SQLite, supervised as ``assistant run`` does; kills the
action server and the care service with SIGKILL (twice each, so the second restart shows the
doubled pause), sends "I have fallen" while the action server is down, and times each return
(the server answering again) and the final stop.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from assistant.stack import Stack, answers, seeded_settings


def _emergency_while_down(stack: Stack) -> tuple[float, bool]:
    body = json.dumps({"sender": f"bench-{time.time_ns()}", "message": "I have fallen and I can't get up"}).encode()
    request = urllib.request.Request(stack.rasa_url + "/webhooks/rest/webhook", data=body,
                                     headers={"Content-Type": "application/json"})
    start = time.monotonic()
    with urllib.request.urlopen(request, timeout=30) as response:
        said = response.read().decode()
    return (time.monotonic() - start) * 1000, stack.settings.emergency_number in said


def main() -> int:
    """Run the measurement and print one line per event."""
    state = Path(tempfile.mkdtemp(prefix="bench-restart-"))
    settings = seeded_settings(state, care_tick_seconds=1)
    stack = Stack(settings, log_dir=state / "logs", tracker_db=state / "trackers.db", say=lambda line: None)
    started = time.monotonic()
    stack.start()
    print(f"stack started in {time.monotonic() - started:.1f} s", flush=True)
    stack.watch_in_background(0.1)
    checks = {"actions": f"http://127.0.0.1:{settings.action_port}/health", "care": f"{stack.console_url}/login"}
    back: dict[str, list[float]] = {"actions": [], "care": []}
    try:
        for name in ("actions", "care", "actions", "care"):
            old = stack.processes[name].pid
            os.kill(old, signal.SIGKILL)
            killed = time.monotonic()
            if name == "actions":
                ms, number = _emergency_while_down(stack)
                print(f"  emergency answered while the action server is down: {ms:.0f} ms, number given: {number}")
            while not (stack.processes.get(name) and stack.processes[name].pid != old and answers(checks[name])):
                time.sleep(0.05)
            back[name].append(time.monotonic() - killed)
            print(f"{name} back {back[name][-1]:.2f} s after SIGKILL (restart {len(back[name])})", flush=True)
            time.sleep(3)
    finally:
        stopping = time.monotonic()
        stack.stop()
        print(f"whole stack stopped in {time.monotonic() - stopping:.2f} s")
    print(f"median return: actions {statistics.median(back['actions']):.2f} s, care {statistics.median(back['care']):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
