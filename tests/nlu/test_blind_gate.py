"""Quality gate: the trained model's intent accuracy on the blind set must not fall more than one point
below the figure recorded in docs/nlu.md (written by `make nlu-report`).

The blind set (../shared/data/blind/intents.yml) was written without seeing data/nlu/; it is read
from the shared folder, never copied or trained on. Intent classification is deterministic (fixed
seeds; a logistic regression over pretrained sentence vectors), so one point is a real drop.
"""

from __future__ import annotations

import asyncio

import pytest

from assistant.settings import PROJECT_ROOT
from assistant.training import model_path
from benchmarks.nlu_scoring import BLIND_INTENTS, read_nlu_yaml, recorded_gate, score_intents

pytestmark = pytest.mark.rasa
MARGIN = 0.01


def test_blind_intent_accuracy_holds_the_recorded_figure() -> None:
    from rasa.core.agent import Agent

    from benchmarks.nlu import quiet_rasa

    assert BLIND_INTENTS.exists(), f"the shared blind set is missing: {BLIND_INTENTS}"
    recorded = recorded_gate(PROJECT_ROOT / "docs" / "nlu.md")
    assert recorded is not None, "docs/nlu.md has no 'gate: blind accuracy' line: run `make nlu-report`"
    assert model_path().exists(), "no trained model: `make test` trains it first"
    quiet_rasa()
    agent = Agent.load(str(model_path()))
    blind = read_nlu_yaml(BLIND_INTENTS)

    async def parse_all() -> list[str]:
        return [((await agent.parse_message(e.text)).get("intent") or {}).get("name") or "" for e in blind]

    scores = score_intents([e.intent for e in blind], asyncio.run(parse_all()))

    assert len(blind) >= 700
    assert scores.accuracy >= recorded - MARGIN, (
        f"blind intent accuracy {scores.accuracy:.3f} fell below the recorded {recorded:.3f} (margin {MARGIN}); "
        f"worst confusions: {scores.confusions[:8]}"
    )
