"""Scoring the blind emergency set: styles read from the file's comments, alarms counted per kind."""

from __future__ import annotations

from pathlib import Path

from benchmarks.nlu_scoring import read_emergency_set, score_emergencies

SAMPLE = '''# a sample in the blind set's layout
emergencies:
  # style: plain (2)
  - "I've fallen and can't get up."
  - "Smoke everywhere, help"
  # style: misspelled (1)
  - "chst pain bad"
non_emergencies:
  # kind: past events (1)
  - "I had a fall two years ago."
  # kind: purchases (1)
  - "Where can I buy a smoke alarm?"
'''


def test_lines_carry_their_style_and_kind(tmp_path: Path) -> None:
    path = tmp_path / "emergencies.yml"
    path.write_text(SAMPLE, encoding="utf-8")
    lines = read_emergency_set(path)
    assert [(line.emergency, line.style) for line in lines] == [
        (True, "plain"), (True, "plain"), (True, "misspelled"), (False, "past events"), (False, "purchases")]


def test_missed_emergencies_and_false_alarms_are_counted_where_they_happen(tmp_path: Path) -> None:
    path = tmp_path / "emergencies.yml"
    path.write_text(SAMPLE, encoding="utf-8")
    lines = read_emergency_set(path)
    scores = score_emergencies(lines, ["emergency", "emergency", "consult_health", "greet", "emergency"])
    assert (scores.caught, scores.emergencies, scores.false_alarms, scores.look_alikes) == (2, 3, 1, 2)
    assert round(scores.recall, 3) == 0.667 and scores.false_alarm_share == 0.5
    assert scores.missed_by_style == {"misspelled": 1}
    assert scores.alarmed_by_kind == {"purchases": 1}


def test_a_possible_emergency_counts_as_caught_and_a_question_is_not_a_full_alarm(tmp_path: Path) -> None:
    path = tmp_path / "emergencies.yml"
    path.write_text(SAMPLE, encoding="utf-8")
    lines = read_emergency_set(path)
    scores = score_emergencies(lines, ["emergency", "possible_emergency", "possible_emergency", "possible_emergency", "greet"])
    assert (scores.caught, scores.definite, scores.false_alarms, scores.questions) == (3, 1, 0, 1)
    assert scores.recall == 1.0 and scores.question_share == 0.5 and scores.false_alarm_share == 0.0
    assert scores.asked_by_kind == {"past events": 1}
