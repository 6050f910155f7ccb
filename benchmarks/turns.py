"""Benchmark: REST turn vs /model/parse latency on one model, training time, resident memory.

Run with ``make bench`` (or ``python -m benchmarks.turns [--turns N] [--train]``). Parse calls and full turns are interleaved
so both see the same machine load; figures are medians and 95th percentiles.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Optional

TURN_TEXT = "what have I ordered?"


def post_json(url: str, payload: Any, headers: Optional[dict[str, str]] = None) -> Any:
    """POST ``payload`` as JSON and return the decoded JSON answer (a minute at most)."""
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read().decode())


def percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` of the sorted values fall (nearest rank)."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB."""
    total_kb = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total_kb += int(line.split()[1])
            with open(f"/proc/{current}/task/{current}/children") as children:
                pending.extend(int(c) for c in children.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total_kb / 1024


def machine() -> str:
    """One line describing this machine."""
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return f"{os.cpu_count()} cores, {cpu}, {memory_gb:.0f} GiB RAM, {platform.system()} {platform.release()}, Python {platform.python_version()}"


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
