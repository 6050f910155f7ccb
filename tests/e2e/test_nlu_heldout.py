"""Intent accuracy on paraphrases the model never saw (tests/nlu/heldout.yml), through /model/parse."""

from __future__ import annotations

from collections import Counter

import pytest
import yaml

from assistant.settings import PROJECT_ROOT

from .conftest import RunningStack

pytestmark = pytest.mark.stack

HELD_OUT: dict[str, list[str]] = yaml.safe_load((PROJECT_ROOT / "tests" / "nlu" / "heldout.yml").read_text())
MIN_ACCURACY = 0.85


def predicted(stack: RunningStack, text: str) -> str:
    return stack.post("/model/parse", {"text": text})["intent"]["name"]


def test_held_out_intent_accuracy(running_stack: RunningStack) -> None:
    misses: list[str] = []
    per_intent: Counter[str] = Counter()
    total = 0
    for intent, examples in HELD_OUT.items():
        for text in examples:
            total += 1
            got = predicted(running_stack, text)
            if got == intent:
                per_intent[intent] += 1
            else:
                misses.append(f"{text!r}: expected {intent}, got {got}")
    accuracy = (total - len(misses)) / total
    print(f"held-out top-1 intent accuracy: {accuracy:.3f} ({total - len(misses)}/{total})")
    assert accuracy >= MIN_ACCURACY, "\n".join(misses)


def test_every_held_out_emergency_is_recognised(running_stack: RunningStack) -> None:
    missed = [t for t in HELD_OUT["emergency"] if predicted(running_stack, t) != "emergency"]
    assert missed == []
