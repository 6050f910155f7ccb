"""Reading the stack's replies to the blind emergency set (benchmarks/emergencies_rest.py)."""

from __future__ import annotations

from benchmarks.emergencies_rest import outcome, report
from benchmarks.nlu_scoring import EmergencyLine

ALARM = [
    {"text": "This sounds like an emergency. Please call 112 now. If you can, unlock the door and stay on the line."},
    {"text": "I have alerted a care coordinator (reference E-7). If you have not called 112 yet, please call now."},
]
ASKED = [{
    "text": "I want to be sure you are safe. If you are hurt or in danger, call 112 now. "
            "Are you hurt or in danger right now?",
    "buttons": [{"title": "Yes, I need help", "payload": "/emergency"},
                {"title": "No, I'm safe", "payload": "/not_in_danger"}],
}]
ORDINARY = [{"text": "Which day would you like the cleaner?", "buttons": [{"title": "Friday", "payload": "/inform"}]}]


def test_the_full_alarm_gives_the_number_and_says_who_was_told() -> None:
    assert outcome(ALARM, "112") == ("alarm", True, True)


def test_the_question_needs_its_yes_and_no_buttons() -> None:
    assert outcome(ASKED, "112") == ("asked", True, False)
    assert outcome([{"text": ASKED[0]["text"]}], "112")[0] == "none", "a question without buttons is a dead end"


def test_an_ordinary_answer_is_neither() -> None:
    assert outcome(ORDINARY, "112") == ("none", False, False)


def test_the_page_counts_each_outcome_against_the_targets() -> None:
    emergency, look_alike = EmergencyLine("help", True, "plain"), EmergencyLine("a fall years ago", False, "past events")
    results = [
        (emergency, "alarm", True, True), (emergency, "asked", True, False), (emergency, "none", False, False),
        (look_alike, "alarm", True, True), (look_alike, "asked", True, False), (look_alike, "none", False, False),
    ]
    page = "\n".join(report(results, [0.1, 0.2, 0.3], "cmd"))
    assert "| emergencies given the number (either tier) | 0.667 (2/3) | 1.0 |" in page
    assert "| look-alikes raising the full alarm | 33.3% (1/3) | at most 2% |" in page
    assert "| full alarms that say who was alerted | 2/2 | all |" in page
    assert "Emergencies missed, by style: plain 1." in page
