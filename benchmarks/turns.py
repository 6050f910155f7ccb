"""Benchmark: REST turn vs /model/parse latency on one model, training time, resident memory.

Run with ``make bench`` (or ``python -m benchmarks.turns [--turns N] [--train]``). Parse calls and full turns are interleaved
so both see the same machine load; figures are medians and 95th percentiles.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

from benchmarks.measure import machine, percentile, post_json, tree_rss_mb

TURN_TEXT = "what have I ordered?"


def run(turns: int, with_training: bool) -> dict[str, Any]:
    """Start a stack on a fresh SQLite, measure, stop it; returns the figures."""
    from assistant.stack import Stack, seeded_settings
    from assistant.training import train

    results: dict[str, Any] = {"machine": machine(), "load_before": os.getloadavg()[0]}
    if with_training:
        started = time.perf_counter()
        train(force=True)
        results["train_seconds"] = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as state_dir:
        state = Path(state_dir)
        settings = seeded_settings(state)
        stack = Stack(settings, log_dir=state / "logs", tracker_db=state / "trackers.db")
        started = time.perf_counter()
        stack.start(timeout=600)
        results["startup_seconds"] = time.perf_counter() - started
        try:
            base = stack.rasa_url
            sender = "bench-user-0001"
            for text in ("hello", "Mary Jones", "12 Mill Lane", "Riverside", "no", "yes"):
                post_json(f"{base}/webhooks/rest/webhook", {"sender": sender, "message": text})
            for _ in range(5):  # warm-up
                post_json(f"{base}/model/parse", {"text": TURN_TEXT})
                post_json(f"{base}/webhooks/rest/webhook", {"sender": sender, "message": TURN_TEXT})
            parse_ms: list[float] = []
            turn_ms: list[float] = []
            for _ in range(turns):
                t0 = time.perf_counter()
                post_json(f"{base}/model/parse", {"text": TURN_TEXT})
                parse_ms.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                reply = post_json(f"{base}/webhooks/rest/webhook", {"sender": sender, "message": TURN_TEXT})
                turn_ms.append((time.perf_counter() - t0) * 1000)
                if not reply or "nothing booked" not in reply[0].get("text", ""):
                    raise RuntimeError(f"unexpected reply during the benchmark: {reply}")
            rss = {name: tree_rss_mb(pid) for name, pid in stack.pids().items()}
        finally:
            stack.stop()
    results.update(
        turns=turns,
        parse_p50=statistics.median(parse_ms),
        parse_p95=percentile(parse_ms, 0.95),
        turn_p50=statistics.median(turn_ms),
        turn_p95=percentile(turn_ms, 0.95),
        rss_mb=rss,
        rss_total_mb=sum(rss.values()),
        load_after=os.getloadavg()[0],
    )
    results["turn_to_parse_p50_ratio"] = results["turn_p50"] / results["parse_p50"]
    return results


def report(results: dict[str, Any]) -> str:
    """The figures as a Markdown table."""
    lines = [
        f"Machine: {results['machine']}",
        f"Load average before/after: {results['load_before']:.2f} / {results['load_after']:.2f}",
        "",
        "| measure | value |",
        "|---|---|",
        f"| `/model/parse` p50 / p95 ({results['turns']} calls) | {results['parse_p50']:.1f} ms / {results['parse_p95']:.1f} ms |",
        f"| full REST turn with a database action, p50 / p95 ({results['turns']} turns) | {results['turn_p50']:.1f} ms / {results['turn_p95']:.1f} ms |",
        f"| full turn p50 ÷ parse p50 | {results['turn_to_parse_p50_ratio']:.2f}× |",
        f"| stack start-up (both servers ready, model loaded) | {results['startup_seconds']:.1f} s |",
    ]
    for name, mb in sorted(results["rss_mb"].items()):
        lines.append(f"| resident memory: {name} server | {mb:.0f} MB |")
    lines.append(f"| resident memory: whole stack | {results['rss_total_mb']:.0f} MB |")
    if "train_seconds" in results:
        lines.append(f"| `rasa train` (full, forced) | {results['train_seconds']:.0f} s |")
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point for ``python -m benchmarks.turns``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=60, help="REST turns and parses to time")
    parser.add_argument("--train", action="store_true", help="also time a full training run")
    args = parser.parse_args(argv)
    results = run(args.turns, args.train)
    print(report(results))
    print("\n" + json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
