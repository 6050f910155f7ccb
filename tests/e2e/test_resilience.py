"""Locked doors and a stack that outlives a crash, on the real running stack.

No port listens beyond loopback; a killed action server or care service is started again within
10 s while the rest keeps running, and an emergency written meanwhile still gets the number at
once and reaches the coordinators.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import time
from typing import Callable

from sqlalchemy import select

from assistant.care.core.db import Database
from assistant.care.core.models import Escalation
from assistant.stack import answers

from .conftest import RunningStack, log_tail, texts
from .processes import in_groups, is_running, listening


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``check`` until true; returns the seconds it took."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what} did not happen within {timeout:g} s")
        time.sleep(0.2)
    return time.monotonic() - start


def emergencies_in(database_url: str, conversation: str) -> list[Escalation]:
    db = Database(database_url)
    try:
        with db.reading() as session:
            rows = list(session.scalars(select(Escalation).where(
                Escalation.conversation_id == conversation, Escalation.kind == "emergency")))
            session.expunge_all()
            return rows
    finally:
        db.dispose()


def test_no_port_of_the_stack_listens_beyond_loopback(running_stack: RunningStack) -> None:
    stack = running_stack.stack
    pids = in_groups({p.pid for p in stack.processes.values()})
    sockets = listening(pids)

    ports = {port for _, port in sockets}
    settings = stack.settings
    assert {settings.rasa_port, settings.action_port, settings.console_port, settings.speech_port} <= ports, sockets
    exposed = [(ip, port) for ip, port in sockets if not ipaddress.ip_address(ip).is_loopback]
    assert exposed == [], f"listening beyond loopback: {exposed}"


def test_a_killed_action_server_is_back_within_10s_and_an_emergency_meanwhile_gets_the_number_and_a_coordinator(
    running_stack: RunningStack, sender: str
) -> None:
    stack = running_stack.stack
    before = {name: p.pid for name, p in stack.processes.items()}
    health = f"http://127.0.0.1:{stack.settings.action_port}/health"
    killed_at = time.monotonic()

    os.kill(before["actions"], signal.SIGKILL)
    replies = running_stack.say(sender, "I have fallen and I can't get up")

    number = stack.settings.emergency_number
    assert f"Please call {number} now" in texts(replies), texts(replies) + log_tail(running_stack, "rasa")
    wait_until(lambda: stack.processes.get("actions") is not None and stack.processes["actions"].pid != before["actions"]
               and answers(health), 10 - (time.monotonic() - killed_at), "the action server's restart")
    assert {n: p.pid for n, p in stack.processes.items() if n != "actions"} == \
        {n: pid for n, pid in before.items() if n != "actions"}, "Rasa and the care service kept running"
    assert all(is_running(before[name]) for name in ("rasa", "care"))

    wait_until(lambda: bool(emergencies_in(running_stack.database_url, sender)), 60,
               "the coordinators learning of the emergency")
    [escalation] = emergencies_in(running_stack.database_url, sender)
    assert escalation.priority == 1 and "fallen" in escalation.summary
    assert "recorded late" in escalation.summary, "the action could not have recorded it: the server was down"

    again = texts(running_stack.say(sender, "I still can't get up, I've fallen"))
    assert "I have alerted a care coordinator" in again, again + log_tail(running_stack, "actions")


def test_a_killed_care_service_is_back_within_10s_and_the_chat_goes_on_meanwhile(
    running_stack: RunningStack, sender: str
) -> None:
    stack = running_stack.stack
    before = {name: p.pid for name, p in stack.processes.items()}
    killed_at = time.monotonic()

    os.kill(before["care"], signal.SIGKILL)
    replies = texts(running_stack.say(sender, "I have fallen and I can't get up"))

    assert "Please call" in replies and "I have alerted a care coordinator" in replies, replies
    wait_until(lambda: stack.processes.get("care") is not None and stack.processes["care"].pid != before["care"]
               and answers(f"{stack.console_url}/login"), 10 - (time.monotonic() - killed_at),
               "the care service's restart (with its console)")
    assert is_running(before["rasa"]) and is_running(before["actions"])
    assert "already running" not in log_tail(running_stack, "care"), "the new care service took the dead one's lock"
