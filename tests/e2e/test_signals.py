"""SIGTERM to `make run`'s process group (as a service manager sends it), or SIGHUP to `assistant run`
alone (a closed terminal), stops the whole stack within 10 s: no process left, every port free."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from assistant.settings import PROJECT_ROOT
from assistant.stack import answers, free_port
from assistant.training import model_path

from .processes import descendants, is_running, port_is_free


def assistant_run_pid(tree: set[int]) -> int:
    """The `assistant run` process among ``tree`` (make's child running assistant.cli)."""
    for pid in tree:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:
            continue
        if b"assistant.cli" in command and b"run" in command:
            return pid
    raise AssertionError(f"no `assistant run` among {tree}")


@pytest.mark.parametrize("target, sig", [("make's process group", signal.SIGTERM), ("assistant run", signal.SIGHUP)])
def test_a_stop_signal_stops_every_process_and_frees_every_port(tmp_path: Path, target: str, sig: signal.Signals) -> None:
    if not model_path().exists():
        pytest.fail("no trained model: `make test` trains it first")
    ports = {"rasa": free_port(), "actions": free_port(), "console": free_port()}
    env = {
        **os.environ,
        "ASSISTANT_STATE_DIR": str(tmp_path / "state"),
        "ASSISTANT_DATABASE_URL": f"sqlite:///{tmp_path / 'state' / 'care.db'}",
        "ASSISTANT_TRACKER_DB": str(tmp_path / "state" / "trackers.db"),
        "ASSISTANT_RASA_PORT": str(ports["rasa"]),
        "ASSISTANT_ACTION_PORT": str(ports["actions"]),
        "ASSISTANT_CONSOLE_PORT": str(ports["console"]),
    }
    for name in ("TELEGRAM_BOT_TOKEN", "ASSISTANT_ACTION_TOKEN", "ASSISTANT_RASA_TOKEN", "MAKEFLAGS", "MFLAGS"):
        env.pop(name, None)
    output = open(tmp_path / "make-run.log", "wb")
    make = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=PROJECT_ROOT, env=env,
                            stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 420
        while not (answers(f"http://127.0.0.1:{ports['console']}/login")
                   and answers(f"http://127.0.0.1:{ports['rasa']}/webhooks/webchat/")):
            assert make.poll() is None, (tmp_path / "make-run.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the stack did not start: " + (tmp_path / "make-run.log").read_text()[-3000:]
            time.sleep(1)
        tree = descendants(make.pid)
        assert len(tree) >= 5, f"make, assistant run and its three servers: {tree}"
        state = tmp_path / "state"
        assert oct(state.stat().st_mode & 0o777) == "0o700"
        private = [state / "care.db", state / "action-token", state / "trackers.db"]
        assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in private), \
            {p.name: oct(p.stat().st_mode & 0o777) for p in private}

        if target == "assistant run":
            os.kill(assistant_run_pid(tree), sig)
        else:
            os.killpg(make.pid, sig)
        stopped_at = time.monotonic()
        while any(is_running(pid) for pid in tree) and time.monotonic() - stopped_at < 10:
            make.poll()
            time.sleep(0.2)

        left = sorted(pid for pid in tree if is_running(pid))
        assert left == [], f"still running 10 s after SIGTERM: {left}\n" + (tmp_path / "make-run.log").read_text()[-3000:]
        assert all(port_is_free(port) for port in ports.values()), ports
        assert "Stopping" in (tmp_path / "make-run.log").read_text()
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
        make.wait(timeout=10)
        output.close()
