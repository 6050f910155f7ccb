"""The console benchmark (benchmarks.console) on a tiny size: the figures are there and sane.

No timing thresholds: this only checks that the bench measures what it says it measures.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

from benchmarks.console import Options, escalation_rows, report, run


def test_rows_are_unique_and_mixed() -> None:
    rows = escalation_rows(300, 100, 12, datetime.now(timezone.utc))
    statuses = Counter(row["status"] for row in rows)
    assert len({row["reference"] for row in rows}) == 400
    assert statuses["resolved"] == 100 and statuses["open"] + statuses["claimed"] == 300
    assert statuses["claimed"] > 0
    open_rows = [row for row in rows if row["status"] != "resolved"]
    assert sum(row["kind"] == "emergency" for row in open_rows) == 12
    assert {row["priority"] for row in open_rows} == {1, 2, 3, 4}
    assert all(row["created_at"] <= datetime.now(timezone.utc) for row in rows)


def test_tiny_run_measures_every_part() -> None:
    results = run(Options(
        open_count=200, small=20, resolved=50, backlog_emergencies=5, requests=5, warmup=1, emergencies=3,
        full_page_emergencies=0,
    ))
    for section in ("queue_page", "api_page", "last_page"):
        for name in ("large", "small"):
            figures = results[section][name]
            assert figures["count"] >= 5
            assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["max_ms"]
            assert figures["bytes"] > 0
    for name in ("large", "small"):
        emergency = results["emergency"][name]
        assert emergency["opened"] == emergency["arrived"] == 3 and emergency["missed"] == 0
        assert 0 < emergency["latency"]["p50_ms"] <= emergency["latency"]["max_ms"]
        assert emergency["open_call"]["count"] == 3
    assert results["databases"]["large"]["open"] == 200
    assert "emergency_first_page_full" not in results
    assert "GET / queue page 1" in report(results)
