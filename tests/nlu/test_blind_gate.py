"""Quality gates on the blind sets, against the figures recorded in docs/nlu.md (`make nlu-report`).

- Intent accuracy on ../shared/data/blind/intents.yml must not fall more than one point below its
  recorded figure.
- On ../shared/data/blind/emergencies.yml, the share of emergencies given the number (either tier)
  must not fall, and the share of look-alikes raising the full alarm must not rise, by more than one
  line in 150 against the recorded figures.

The blind sets were written without seeing data/nlu/; they are read from the shared folder, never
copied or trained on. Classification is deterministic (fixed seeds; a logistic regression over
pretrained sentence vectors; rules), so a line is a real change.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from assistant.settings import PROJECT_ROOT
from benchmarks.nlu_scoring import (
    BLIND_EMERGENCIES,
    BLIND_INTENTS,
    read_emergency_set,
    read_nlu_yaml,
    recorded_emergency_gate,
    recorded_gate,
    score_emergencies,
    score_intents,
)

pytestmark = pytest.mark.rasa
MARGIN = 0.01
ONE_LINE = 1 / 150
DOC = PROJECT_ROOT / "docs" / "nlu.md"


def test_blind_intent_accuracy_holds_the_recorded_figure(parse: Any) -> None:
    assert BLIND_INTENTS.exists(), f"the shared blind set is missing: {BLIND_INTENTS}"
    recorded = recorded_gate(DOC)
    assert recorded is not None, "docs/nlu.md has no 'gate: blind accuracy' line: run `make nlu-report`"
    blind = read_nlu_yaml(BLIND_INTENTS)
    scores = score_intents([e.intent for e in blind], parse(e.text for e in blind))

    assert len(blind) >= 700
    assert scores.accuracy >= recorded - MARGIN, (
        f"blind intent accuracy {scores.accuracy:.3f} fell below the recorded {recorded:.3f} (margin {MARGIN}); "
        f"worst confusions: {scores.confusions[:8]}"
    )


def test_blind_emergencies_hold_the_recorded_figures(parse: Any) -> None:
    assert BLIND_EMERGENCIES.exists(), f"the shared blind set is missing: {BLIND_EMERGENCIES}"
    recorded = recorded_emergency_gate(DOC)
    assert recorded is not None, "docs/nlu.md has no 'gate: blind emergencies' line: run `make nlu-report`"
    caught, full_alarms = recorded
    lines = read_emergency_set()
    scores = score_emergencies(lines, parse(line.text for line in lines))

    assert scores.emergencies == 150 and scores.look_alikes == 150
    assert scores.recall >= caught - ONE_LINE, (
        f"blind emergencies given the number {scores.recall:.3f} fell below the recorded {caught:.3f}; "
        f"missed by style: {scores.missed_by_style}"
    )
    assert scores.false_alarm_share <= full_alarms + ONE_LINE, (
        f"look-alikes raising the full alarm {scores.false_alarm_share:.3f} rose above the recorded "
        f"{full_alarms:.3f}; by kind: {scores.alarmed_by_kind}"
    )
