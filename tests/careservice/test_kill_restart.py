"""The care service killed in the middle of a morning's wave of reminders, then started again.

The real ``python -m assistant.careservice`` process delivers to a fake Rasa on 127.0.0.1 that
appends each reminder to its conversation before it answers (slowly, as a busy Rasa does). The
process is killed with SIGKILL while requests are in flight, and started again: every due
reminder reaches its conversation once, none lost, none twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Callable

from sqlalchemy import func, select, update

from assistant.care import CareServices
from assistant.care.core.clock import utcnow
from assistant.care.core.db import Database
from assistant.care.core.models import Reminder, ReminderDelivery
from tests.care.helpers import register

from .conftest import FakeRasa

ROOT = Path(__file__).resolve().parents[2]
SENIORS = 240
WORKERS = 4


def care_service(db: Database, rasa_url: str, log: Path) -> subprocess.Popen:
    """Start ``python -m assistant.careservice`` with a few workers and a quick tick."""
    env = {**os.environ, "ASSISTANT_CARE_DELIVERY_WORKERS": str(WORKERS)}
    return subprocess.Popen(
        [sys.executable, "-m", "assistant.careservice", "--database-url", db.url, "--rasa-url", rasa_url,
         "--tick-seconds", "0.2", "--log-level", "WARNING", "--no-console"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(log, "ab"),
    )


def wait_for(condition: Callable[[], bool], seconds: float, what: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, f"the care service died while waiting for {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def statuses(db: Database) -> Counter[str]:
    with db.reading() as session:
        return Counter(dict(session.execute(
            select(ReminderDelivery.status, func.count()).group_by(ReminderDelivery.status)).all()))


def in_doubt(db: Database) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(ReminderDelivery).where(
            ReminderDelivery.status == "pending", ReminderDelivery.claimed_at.is_not(None))) or 0


def test_killing_the_care_service_mid_wave_loses_nothing_and_repeats_nothing(
    care: CareServices, db: Database, rasa: FakeRasa, tmp_path: Path
) -> None:
    conversations = ["conv-edith"] + [f"conv-{n:03d}" for n in range(1, SENIORS)]
    for conversation in conversations[1:]:
        register(care, conversation, name=f"Senior {conversation}")
    for n, conversation in enumerate(conversations):
        kind = "medication" if n % 3 else "other"
        care.reminders.create(conversation, kind, "Blood pressure pill", "every day at 8")
    with db.session() as session:  # all of them fell due a moment ago, in real time
        session.execute(update(Reminder).values(next_due_at=utcnow() - timedelta(seconds=5)))
    rasa.delay = 0.05  # a busy Rasa: each append takes a while to answer
    log = tmp_path / "care.log"

    first = care_service(db, rasa.url, log)
    try:
        wait_for(lambda: len(rasa.calls) >= SENIORS // 3, 60, "a third of the reminders", first)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    unsure = in_doubt(db)
    assert unsure > 0, "the kill left no send in doubt: the test did not exercise what it is for"
    assert statuses(db)["pending"] > SENIORS // 3, "the kill came too late to test anything"

    second = care_service(db, rasa.url, log)
    try:
        wait_for(lambda: statuses(db)["sent"] == SENIORS, 90, "every reminder sent", second)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)

    per_conversation = Counter({c: len(rasa.reminders(c)) for c in conversations})
    assert per_conversation == Counter({c: 1 for c in conversations}), "a reminder was lost or sent twice"
    assert statuses(db) == Counter({"sent": SENIORS})
    assert rasa.tracker_reads >= unsure, "every send left in doubt was checked in its conversation first"
