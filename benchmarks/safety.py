"""Benchmark: the emergency safety net and the knowledge base, per message, in-process.

Run with ``.venv/bin/python -m benchmarks.safety`` (``--rounds N``, ``--json``). Every phrase of
``tests/nlu/emergency_phrases.yml`` and ``tests/nlu/non_emergency_phrases.yml`` goes through
:func:`~assistant.care.safety.safety.emergency_sign`, and every question of ``tests/care/consultation/knowledge_heldout.yml``
through :meth:`~assistant.care.consultation.knowledge.KnowledgeBase.answer`, ``rounds`` times each; each call is timed
on its own. Figures are in microseconds: p50, p95 and max (the max is mostly the machine's noise).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Callable, Iterable, Optional, Sequence

import yaml

from benchmarks.measure import machine, percentile
from assistant.care.consultation.knowledge import KnowledgeBase
from assistant.care.safety.safety import emergency_sign
from assistant.settings import PROJECT_ROOT

TESTS = PROJECT_ROOT / "tests"
DEFAULT_ROUNDS = 20


def safety_phrases() -> list[str]:
    """Every emergency and non-emergency phrase of the safety net's test sets."""
    emergencies = yaml.safe_load((TESTS / "nlu" / "emergency_phrases.yml").read_text())
    everyday = yaml.safe_load((TESTS / "nlu" / "non_emergency_phrases.yml").read_text())["phrases"]
    return [text for texts in emergencies.values() for text in texts] + everyday


def knowledge_questions() -> list[str]:
    """Every held-out question of the knowledge base, covered or not."""
    batches = yaml.safe_load((TESTS / "care" / "consultation" / "knowledge_heldout.yml").read_text())["batches"]
    return [q for batch in batches for qs in batch["covered"].values() for q in qs] + [
        q for batch in batches for q in batch["uncovered"]
    ]


def time_calls(call: Callable[[str], object], texts: Sequence[str], rounds: int) -> dict[str, float]:
    """Time ``call`` on each text, ``rounds`` times over; p50, p95 and max in microseconds."""
    for text in texts:  # warm up: compiled patterns, spelling caches
        call(text)
    timings: list[float] = []
    clock = time.perf_counter_ns
    for _ in range(rounds):
        for text in texts:
            start = clock()
            call(text)
            timings.append((clock() - start) / 1000)
    return {
        "calls": len(timings),
        "p50_us": round(percentile(timings, 0.50), 1),
        "p95_us": round(percentile(timings, 0.95), 1),
        "max_us": round(max(timings), 1),
    }


def bench_safety_net(rounds: int = DEFAULT_ROUNDS, texts: Optional[Iterable[str]] = None) -> dict[str, float]:
    """Per-message cost of :func:`emergency_sign` over both phrase sets."""
    return time_calls(emergency_sign, list(texts if texts is not None else safety_phrases()), rounds)


def bench_knowledge(
    rounds: int = DEFAULT_ROUNDS, kb: Optional[KnowledgeBase] = None, texts: Optional[Iterable[str]] = None
) -> dict[str, float]:
    """Per-question cost of :meth:`KnowledgeBase.answer` over the held-out questions (load not included)."""
    started = time.perf_counter()
    kb = kb or KnowledgeBase.load()
    load_ms = (time.perf_counter() - started) * 1000
    figures = time_calls(kb.answer, list(texts if texts is not None else knowledge_questions()), rounds)
    return {**figures, "load_ms": round(load_ms, 1)}


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Print the figures of both benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS, help="passes over each phrase set")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    results = {
        "machine": machine(),
        "load_average_before": round(load_before, 2),
        "safety_net": bench_safety_net(args.rounds),
        "knowledge_answer": bench_knowledge(args.rounds),
        "load_average_after": round(os.getloadavg()[0], 2),
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"machine: {results['machine']} (load average {load_before:.2f} before, "
          f"{results['load_average_after']:.2f} after)")
    for name, label in (("safety_net", "emergency_sign"), ("knowledge_answer", "KnowledgeBase.answer")):
        f = results[name]
        extra = f", load {f['load_ms']} ms" if "load_ms" in f else ""
        print(f"{label}: {f['calls']} calls, p50 {f['p50_us']} µs, p95 {f['p95_us']} µs, max {f['max_us']} µs{extra}")


if __name__ == "__main__":
    main()
