"""The `assistant coordinator` commands a care coordinator uses until the console lands."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from assistant.care import CareServices
from assistant.care.core.models import Notification
from assistant.care.registry.seed import load_demo_data
from assistant.care.homeservices.service_words import TimeWindow
from assistant.cli import main


@pytest.fixture
def care(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CareServices:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("ASSISTANT_DATABASE_URL", url)
    services = CareServices.from_url(url)
    services.db.upgrade()
    load_demo_data(services.db)
    services.people.register_senior("mary-1", "rest", "Mary Jones", "12 Mill Lane", "Riverside", [], True)
    return services


def test_the_queue_lists_escalations_most_urgent_first(care: CareServices, capsys: pytest.CaptureFixture[str]) -> None:
    care.escalations.open("talk_to_human", "mary-1", "wants a person")
    care.escalations.open("emergency", "mary-1", "fallen in the kitchen")
    assert main(["coordinator", "queue"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "P1" in lines[0] and "fallen in the kitchen" in lines[0]
    assert "P3" in lines[1]


def test_answering_a_ticket_queues_it_for_the_users_chat(care: CareServices, capsys: pytest.CaptureFixture[str]) -> None:
    ticket = care.escalations.open("consultation", "mary-1", "can I claim pension credit?")
    assert main(["coordinator", "answer", ticket.reference, "Yes,", "if", "your", "income", "is", "low.", "--by", "Sam"]) == 0
    assert "answered" in capsys.readouterr().out
    with care.db.reading() as session:
        [note] = session.scalars(select(Notification)).all()
        assert note.entities["text"] == "Yes, if your income is low." and note.entities["consultant"] == "Sam"
    assert main(["coordinator", "answer", ticket.reference, "again", "--by", "Sam"]) == 1
    assert "already resolved" in capsys.readouterr().err


def test_marking_a_visit_done_asks_the_senior_for_a_rating(care: CareServices, capsys: pytest.CaptureFixture[str]) -> None:
    start = datetime.now(timezone.utc) + timedelta(days=3)
    window = TimeWindow(start.replace(hour=8, minute=0, second=0, microsecond=0), start.replace(hour=16, minute=0, second=0, microsecond=0))
    if window.starts_at.weekday() >= 5:
        window = TimeWindow(window.starts_at + timedelta(days=2), window.ends_at + timedelta(days=2))
    option = care.home_services.find_options("mary-1", "cleaning", window)[0]
    booking = care.home_services.book("mary-1", option.offering_id, option.starts_at)
    for status in ("assigned", "in_progress", "done"):
        assert main(["coordinator", "booking-status", booking.reference, status, "--by", "Sam"]) == 0
    with care.db.reading() as session:
        intents = [n.intent for n in session.scalars(select(Notification).order_by(Notification.id))]
    assert intents[-1] == "EXTERNAL_review_request"
    assert main(["coordinator", "booking-status", booking.reference, "assigned", "--by", "Sam"]) == 1


def test_a_second_stop_signal_does_not_cut_the_stopping_short() -> None:
    """make passes SIGTERM on to its children, so `assistant run` can get it twice in a row."""
    import os
    import signal
    import time

    from assistant import cli

    saved = {sig: signal.getsignal(sig) for sig in cli.STOP_SIGNALS}
    try:
        cli._stop_on_signals()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.1)  # let the handler run
        os.kill(os.getpid(), signal.SIGTERM)  # the second one, while stopping: ignored
        assert all(signal.getsignal(sig) == signal.SIG_IGN for sig in cli.STOP_SIGNALS)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
