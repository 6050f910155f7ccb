"""The supervisor restarts a crashed child with growing pauses and gives up on one that keeps crashing."""

from __future__ import annotations

from typing import Optional

from assistant.supervisor import Supervisor, describe_exit


class FakeProcess:
    """A child whose exit the test decides."""

    def __init__(self) -> None:
        self.returncode: Optional[int] = None

    def poll(self) -> Optional[int]:
        return self.returncode


class Harness:
    def __init__(self) -> None:
        self.now = 1000.0
        self.started: list[tuple[str, float]] = []
        self.said: list[str] = []
        self.current: dict[str, FakeProcess] = {}
        self.supervisor = Supervisor(
            self.spawn, {"actions": "the action server", "care": "the care service"},
            say=self.said.append, clock=lambda: self.now,
        )

    def spawn(self, name: str) -> FakeProcess:  # type: ignore[override]
        process = FakeProcess()
        self.current[name] = process
        self.started.append((name, self.now))
        return process

    def crash(self, name: str, code: int = -9) -> None:
        self.current[name].returncode = code

    def run_for(self, seconds: float, step: float = 0.5) -> None:
        end = self.now + seconds
        while self.now < end:
            self.supervisor.check()
            self.now += step
        self.supervisor.check()


def test_a_crashed_child_is_restarted_after_a_second_and_the_others_keep_running() -> None:
    h = Harness()
    h.supervisor.start("actions")
    h.supervisor.start("care")
    care = h.current["care"]

    h.crash("actions")
    h.run_for(0.5)
    assert [name for name, _ in h.started] == ["actions", "care"], "not restarted before its pause"
    h.run_for(1.0)

    assert [name for name, _ in h.started] == ["actions", "care", "actions"]
    assert h.current["care"] is care and care.poll() is None
    assert "The action server stopped unexpectedly (killed by SIGKILL); starting it again in 1 s." in h.said
    assert "The action server is starting again." in h.said


def test_pauses_double_up_to_thirty_seconds_and_the_fifth_crash_in_five_minutes_stops_it() -> None:
    h = Harness()
    h.supervisor.max_crashes = 7
    h.supervisor.start("actions")
    restarts: list[float] = []
    for _ in range(6):
        crashed_at = h.now
        h.crash("actions", 1)
        before = len(h.started)
        while len(h.started) == before:
            h.run_for(0.5)
        restarts.append(h.started[-1][1] - crashed_at)
    assert [round(r) for r in restarts] == [1, 2, 4, 8, 16, 30]


def test_five_crashes_within_five_minutes_leave_the_child_stopped_and_say_so() -> None:
    h = Harness()
    h.supervisor.start("actions")
    for _ in range(5):
        h.crash("actions", 1)
        h.run_for(20)
    h.run_for(120)

    assert len(h.started) == 5, "started once and restarted four times, then left stopped"
    assert h.supervisor.given_up() == ["actions"]
    assert any("has crashed 5 times in 5 minutes, so it stays stopped" in line for line in h.said)


def test_crashes_spread_over_more_than_five_minutes_keep_being_restarted() -> None:
    h = Harness()
    h.supervisor.start("actions")
    for _ in range(8):
        h.crash("actions", 1)
        h.run_for(90)
    assert len(h.started) == 9 and not h.supervisor.given_up()


def test_exit_codes_in_words() -> None:
    assert describe_exit(-9) == "killed by SIGKILL"
    assert describe_exit(-15) == "killed by SIGTERM"
    assert describe_exit(1) == "exit code 1"
