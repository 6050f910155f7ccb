"""Emergencies the action server never recorded are found in Rasa's tracker store and recorded once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Optional

from sqlalchemy import select

from assistant.care import CareServices
from assistant.care.safety.emergencies import EmergencyService
from assistant.care.core.models import Escalation, Notification
from assistant.careservice.emergency_sweep import EmergencySweep
from tests.care.helpers import FakeClock, register


def write_tracker(path: Path, sender: str, text: str, message_id: Optional[str], at: float, intent: str = "emergency") -> None:
    """Save a conversation with one user message through Rasa's own SQL tracker store."""
    asyncio.run(save_turn(path, sender, text, message_id, at, intent))


async def save_turn(path: Path, sender: str, text: str, message_id: Optional[str], at: float, intent: str = "emergency") -> None:
    """:func:`write_tracker` from inside an event loop."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))
    tracker = DialogueStateTracker.from_events(sender, [
        ActionExecuted("action_listen", timestamp=at - 1),
        UserUttered(text, intent={"name": intent, "confidence": 1.0}, parse_data={"emergency_sign": "fall"},
                    message_id=message_id, timestamp=at),
    ])
    await store.save(tracker)
    store.engine.dispose()


def emergencies(care: CareServices) -> list[Escalation]:
    with care.db.reading() as session:
        rows = session.scalars(select(Escalation).where(Escalation.kind == "emergency")).all()
        session.expunge_all()
        return list(rows)


def test_an_emergency_nobody_recorded_is_recorded_once_with_the_family_alerted(
    tmp_path: Path, care: CareServices, clock: FakeClock
) -> None:
    register(care, "conv-edith")
    care.people.link_relative("conv-edith", "conv-anne", "Anne Smith", "daughter")
    trackers = tmp_path / "trackers.db"
    written = clock.now.timestamp()
    write_tracker(trackers, "conv-edith", "I've fallen and can't get up", "msg-0001", written)
    write_tracker(trackers, "conv-other", "what's for lunch", "msg-0002", written, intent="order_meal")
    sweep = EmergencySweep(f"sqlite:///{trackers}", EmergencyService(care.db, clock=clock), clock=clock)

    clock.advance(seconds=3)
    assert sweep.run() == 0, "within the grace period the action may still record it"
    clock.advance(seconds=30)
    assert sweep.run() == 1
    assert sweep.run() == 0

    [escalation] = emergencies(care)
    assert escalation.priority == 1 and escalation.conversation_id == "conv-edith"
    assert escalation.source_message_id == "msg-0001"
    assert "fallen" in escalation.summary and "recorded late" in escalation.summary
    with care.db.reading() as session:
        alerts = session.scalars(select(Notification).where(Notification.kind == "emergency")).all()
        assert [a.entities["reference"] for a in alerts] == [escalation.reference]
    sweep.close()


def test_a_message_the_action_recorded_is_not_recorded_again(tmp_path: Path, care: CareServices, clock: FakeClock) -> None:
    trackers = tmp_path / "trackers.db"
    write_tracker(trackers, "conv-x", "chest pain", "msg-0009", clock.now.timestamp())
    recorded = care.emergencies.raise_alert("conv-x", "chest pain", "chest pain", message_id="msg-0009")
    sweep = EmergencySweep(f"sqlite:///{trackers}", EmergencyService(care.db, clock=clock), clock=clock)

    clock.advance(minutes=1)
    assert sweep.run() == 0
    assert [e.reference for e in emergencies(care)] == [recorded.reference]
    again = care.emergencies.raise_alert("conv-x", "chest pain", message_id="msg-0009")
    assert again.reference == recorded.reference and not again.new
    sweep.close()


def test_new_messages_are_found_on_later_runs_and_a_missing_store_is_waited_for(
    tmp_path: Path, care: CareServices, clock: FakeClock
) -> None:
    trackers = tmp_path / "trackers.db"
    sweep = EmergencySweep(f"sqlite:///{trackers}", EmergencyService(care.db, clock=clock), clock=clock,
                           grace=timedelta(seconds=5))
    assert sweep.run() == 0 and not trackers.exists(), "Rasa creates its own store"

    write_tracker(trackers, "conv-a", "help, there is a fire", "msg-a", clock.now.timestamp())
    clock.advance(seconds=10)
    assert sweep.run() == 1
    write_tracker(trackers, "conv-b", "I can't breathe", "msg-b", clock.now.timestamp())
    clock.advance(seconds=10)
    assert sweep.run() == 1
    assert sorted(e.conversation_id or "" for e in emergencies(care)) == ["conv-a", "conv-b"]
    sweep.close()


def test_after_its_first_look_the_sweep_reads_only_events_newer_than_it_has_seen(
    tmp_path: Path, care: CareServices, clock: FakeClock
) -> None:
    trackers = tmp_path / "trackers.db"
    write_tracker(trackers, "conv-a", "what's for lunch", "msg-1", clock.now.timestamp(), intent="order_meal")
    sweep = EmergencySweep(f"sqlite:///{trackers}", EmergencyService(care.db, clock=clock), clock=clock)

    assert sweep.run() == 0
    assert sweep._after_id is not None, "no full scan of the tracker store on every tick"
    write_tracker(trackers, "conv-b", "I've had a fall", "msg-2", clock.now.timestamp())
    clock.advance(seconds=30)
    assert sweep.run() == 1
    sweep.close()


def test_a_danger_question_nobody_recorded_is_recorded_so_silence_still_raises_the_alarm(
    tmp_path: Path, care: CareServices, clock: FakeClock
) -> None:
    register(care, "conv-edith")
    trackers = tmp_path / "trackers.db"
    write_tracker(trackers, "conv-edith", "I went over on my ankle yesterday", "msg-0009", clock.now.timestamp(),
                  intent="possible_emergency")
    sweep = EmergencySweep(f"sqlite:///{trackers}", EmergencyService(care.db, clock=clock), clock=clock,
                           danger_checks=care.danger_checks)
    clock.advance(seconds=30)
    assert sweep.run() == 1
    assert sweep.run() == 0
    check = care.danger_checks.open_for("conv-edith")
    assert check is not None and "ankle" in check.text
    assert emergencies(care) == [], "a question, not yet an alarm"
    clock.advance(minutes=2)
    assert care.danger_checks.raise_overdue() == 1
    [escalation] = emergencies(care)
    assert "ankle" in escalation.summary


def test_a_danger_question_the_action_recorded_is_left_alone(tmp_path: Path, care: CareServices, clock: FakeClock) -> None:
    trackers = tmp_path / "trackers.db"
    write_tracker(trackers, "conv-edith", "not feeling myself", "msg-0010", clock.now.timestamp(), intent="possible_emergency")
    care.danger_checks.ask("conv-edith", "not feeling myself", None, message_id="msg-0010")
    sweep = EmergencySweep(f"sqlite:///{trackers}", EmergencyService(care.db, clock=clock), clock=clock,
                           danger_checks=care.danger_checks)
    clock.advance(seconds=30)
    assert sweep.run() == 0


def test_what_a_user_chose_after_did_you_mean_is_noted_for_the_review_list(
    tmp_path: Path, care: CareServices, clock: FakeClock
) -> None:
    trackers = tmp_path / "trackers.db"
    asked = clock.now.timestamp()
    write_tracker(trackers, "conv-edith", "can u sort my tea", "msg-0020", asked, intent="nlu_fallback")
    row = care.review_list.record("conv-edith", "can u sort my tea", [("order_meal", 0.3)], message_id="msg-0020")
    assert row is not None
    sweep = EmergencySweep(f"sqlite:///{trackers}", EmergencyService(care.db, clock=clock), clock=clock,
                           review_list=care.review_list)
    clock.advance(seconds=20)
    sweep.run()
    assert care.review_list.search("new")[0][0].chosen_intent is None, "no answer yet"
    _add_user_message(trackers, "conv-edith", "/order_meal", "order_meal", asked + 15)
    sweep.run()
    assert care.review_list.search("new")[0][0].chosen_intent == "order_meal"


def _add_user_message(path: Path, sender: str, text: str, intent: str, at: float) -> None:
    """Append one more user message to a conversation saved by :func:`write_tracker`."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered

    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(path))
    tracker = asyncio.run(store.retrieve(sender))
    assert tracker is not None
    tracker.update(UserUttered(text, intent={"name": intent, "confidence": 1.0}, message_id="msg-next", timestamp=at))
    asyncio.run(store.save(tracker))
    store.engine.dispose()
