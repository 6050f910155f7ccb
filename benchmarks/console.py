"""Benchmark: the coordinators' console with a large queue (issue 7).

``python -m benchmarks.console [--open 10000] [--small 100] [--resolved 5000] [--database-url URL]``

Targets: the queue page renders the first page of 10,000 open escalations in under 100 ms p95,
and a new emergency reaches an open console within 1 s.

Two fresh databases are built side by side (SQLite files in a temporary directory, or throwaway
PostgreSQL databases next to ``--database-url``, dropped afterwards), migrated with
``Database.upgrade()``: one with ``--open`` open escalations (the large queue), one with ``--small``
(the small queue), both with the same ``--resolved`` resolved ones and the same number of open
emergencies (``--backlog-emergencies``), so only the size of the open queue differs. Rows go in with
bulk inserts; kinds, priorities 1-4, claimed ones (20%) and ages spread over the last days are drawn
from a seeded generator. Each database gets a coordinator account, created with a cheap argon2
hasher because login speed is not measured (the stored hash is still argon2id and verified by the
console's own hasher).

Each database is served by the real console in its own process, as ``assistant console`` serves it
(Sanic, one worker, on a free port on 127.0.0.1). The bench logs in over HTTP like a browser (CSRF
token from ``GET /login``, the login cookie) and measures, with the two consoles interleaved request by
request so both see the same load:

* ``GET /`` (the queue page, first page of 50), ``GET /api/escalations`` (the same page as JSON) and
  the queue's last page (``GET /?page=N``): warm-up, then requests one at a time on a kept-alive
  connection; p50, p95 and max in ms.
* **emergency latency**: each console's server-sent event stream (``GET /events?since=now``) is read
  in a thread; the bench opens a new emergency with ``EscalationService.open`` through its own
  database connection (as the chat's action server would) and times until its reference arrives
  in the stream, then resolves it (as a coordinator would, so the queue does not grow).
* **first page full of emergencies**: on the small queue, enough older open emergencies are added
  to fill the first page, and a few more emergencies are opened: does the stream still report them?
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence

import requests

from benchmarks.measure import machine, percentile
from benchmarks.reminders import fresh_database
from assistant.stack import free_port

DEFAULT_OPEN = 10_000
DEFAULT_SMALL = 100
DEFAULT_RESOLVED = 5_000
DEFAULT_BACKLOG_EMERGENCIES = 20
DEFAULT_REQUESTS = 100
DEFAULT_WARMUP = 5
DEFAULT_EMERGENCIES = 20
PAGE_SIZE = 50
USERNAME = "bench"
PASSWORD = "bench password 2026"
CHUNK = 5_000
"""Rows per bulk INSERT."""

# Kinds of the open backlog other than emergencies, with weights and summaries a coordinator reads.
BACKLOG_KINDS: dict[str, tuple[int, tuple[str, ...]]] = {
    "missed_medication": (14, (
        "Blood pressure pill at 08:00 not confirmed; relatives told at 08:30, no answer yet.",
        "Evening insulin reminder not acknowledged after 30 minutes.",
        "Heart tablets at noon not confirmed; daughter not reachable.",
    )),
    "complaint": (8, (
        "Cleaner arrived 90 minutes late and left before finishing the kitchen.",
        "Lunch delivery was cold and the soup had spilled.",
        "Hairdresser cancelled twice this month without telling anyone.",
    )),
    "wellbeing": (10, (
        "Said 'not so good today' at the morning check-in and did not answer the follow-up.",
        "No answer to the daily check-in at 10:00 or the reminder at 10:30.",
        "Mentioned feeling lonely since the weekend; asked if someone could call.",
    )),
    "failed_delivery": (4, (
        "Laundry return could not be delivered: nobody opened the door.",
        "Meal delivery bounced: wrong door code on file.",
    )),
    "talk_to_human": (20, (
        "Asked to speak to a person about changing the cleaning day.",
        "Wants someone to explain the bill for last month's meals.",
        "Confused by the reminder buttons; asked for a human.",
    )),
    "consultation": (16, (
        "Question about power of attorney for her son; the knowledge base had no confident answer.",
        "Asks whether the new tablets can be taken with grapefruit juice.",
        "Landlord wants to raise the rent by 20%: what are her rights?",
    )),
    "unmatched_booking": (10, (
        "No verified plumber free in Hillcrest before Friday for a leaking tap.",
        "Nobody offers foot care in Riverside next week; wants a home visit.",
    )),
    "provider_review": (3, ("Provider's score fell below 3.0 after two complaints; check and decide.",)),
    "service_request": (15, (
        "Would like a chef visit for her 80th birthday lunch, 8 guests.",
        "Asks for a regular window-cleaning service once a month.",
        "Wants a weekly shopping helper on Tuesdays.",
    )),
}
EMERGENCY_SUMMARIES = (
    "Said 'I have fallen and I cannot get up' at 14:02; emergency number shown.",
    "Reported chest pain and shortness of breath; asked to call 112.",
    "Wrote 'help, there is smoke in the kitchen'.",
)
COORDINATORS = ("alice", "bob", "carol", "dan")
OUTCOMES = ("Called the daughter; all fine.", "Booked another provider.", "Answered by phone.")


# ---- data -------------------------------------------------------------------------------------


def escalation_rows(
    open_count: int, resolved_count: int, backlog_emergencies: int, now: datetime, seed: int = 7
) -> list[dict[str, Any]]:
    """Rows for a bulk insert: ``open_count`` unresolved escalations (20% claimed) and resolved ones.

    Open ones are up to 3 days old, resolved ones up to 30; ``backlog_emergencies`` of the open ones
    are emergencies (priority 1), the rest follow :data:`BACKLOG_KINDS` with priorities 2-4 (a tenth
    of them raised or lowered by one, as coordinators do). References are unique.
    """
    from assistant.care.bookings.bookings import new_reference
    from assistant.care.escalations.escalations import PREFIX
    from assistant.care.core.vocabulary import DEFAULT_ESCALATION_PRIORITY

    rng = random.Random(seed)
    kinds = list(BACKLOG_KINDS)
    weights = [BACKLOG_KINDS[k][0] for k in kinds]
    references: set[str] = set()

    def reference() -> str:
        while True:
            candidate = new_reference(PREFIX)
            if candidate not in references:
                references.add(candidate)
                return candidate

    rows: list[dict[str, Any]] = []
    for i in range(open_count + resolved_count):
        resolved = i >= open_count
        if not resolved and i < backlog_emergencies:
            kind, summary, priority = "emergency", rng.choice(EMERGENCY_SUMMARIES), 1
        else:
            kind = rng.choices(kinds, weights)[0]
            summary = rng.choice(BACKLOG_KINDS[kind][1])
            priority = DEFAULT_ESCALATION_PRIORITY[kind]
            if rng.random() < 0.1:
                priority = min(4, max(2, priority + rng.choice((-1, 1))))
        age = timedelta(seconds=rng.uniform(60, (30 if resolved else 3) * 86400))
        created = now - age
        claimed = resolved or rng.random() < 0.2
        who = rng.choice(COORDINATORS) if claimed else None
        claimed_at = created + min(age / 2, timedelta(minutes=rng.uniform(1, 120))) if claimed else None
        rows.append({
            "reference": reference(), "kind": kind, "priority": priority,
            "status": "resolved" if resolved else ("claimed" if claimed else "open"),
            "conversation_id": f"bench-{i:06d}", "person_id": None, "summary": summary,
            "created_at": created, "claimed_by": who, "claimed_at": claimed_at,
            "resolved_at": (claimed_at + (now - claimed_at) / 2) if resolved and claimed_at else None,
            "outcome": rng.choice(OUTCOMES) if resolved else None,
            "handoff_by": None, "handoff_at": None,
        })
    rng.shuffle(rows)  # insertion order (ids) unrelated to the queue order
    return rows


def populate(url: str, open_count: int, resolved_count: int, backlog_emergencies: int) -> dict[str, Any]:
    """Bulk insert the escalations and the coordinator account into a migrated database.

    On PostgreSQL the table is analysed afterwards, as autovacuum would soon do: right after a bulk
    load without statistics the planner sorts every open row for the first page instead of reading
    the queue index.
    """
    from argon2 import PasswordHasher
    from sqlalchemy import insert, text

    from assistant.care.coordinators.coordinators import CoordinatorService
    from assistant.care.core.db import Database
    from assistant.care.core.models import Escalation

    started = time.perf_counter()
    rows = escalation_rows(open_count, resolved_count, backlog_emergencies, datetime.now(timezone.utc))
    db = Database(url)
    try:
        with db.session() as session:
            for start in range(0, len(rows), CHUNK):
                session.execute(insert(Escalation), rows[start:start + CHUNK])
        # Cheap argon2id: the console verifies it like any stored hash; login speed is not measured.
        cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        CoordinatorService(db, hasher=cheap).create(USERNAME, "Bench Coordinator", PASSWORD)
        if db.engine.dialect.name == "postgresql":  # as autovacuum would after such a load
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("ANALYZE escalations"))
    finally:
        db.dispose()
    return {"open": open_count, "resolved": resolved_count, "backlog_emergencies": backlog_emergencies,
            "build_s": round(time.perf_counter() - started, 2)}


def add_old_emergencies(url: str, count: int) -> None:
    """Add ``count`` open emergencies, 10-60 minutes old (fills the queue's first page)."""
    from sqlalchemy import insert

    from assistant.care.core.db import Database
    from assistant.care.core.models import Escalation

    now = datetime.now(timezone.utc)
    rows = escalation_rows(count, 0, count, now - timedelta(minutes=10), seed=11)
    for row in rows:
        row["reference"] = "X" + row["reference"][1:]  # never collides with the E- references
        row["created_at"] = min(row["created_at"], now - timedelta(minutes=10))
    db = Database(url)
    try:
        with db.session() as session:
            session.execute(insert(Escalation), rows)
    finally:
        db.dispose()


# ---- the console in its own process -----------------------------------------------------------


@dataclass
class ConsoleProcess:
    """The real console (``python -m assistant.cli console``) serving one database."""

    url: str
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL after 10 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@contextmanager
def serve_console(database_url: str, state: Path, name: str, timeout: float = 60.0) -> Iterator[ConsoleProcess]:
    """Serve the console for ``database_url`` on a free port until the block ends."""
    port = free_port()
    log = state / f"console-{name}.log"
    env = dict(
        os.environ, ASSISTANT_DATABASE_URL=database_url, ASSISTANT_CONSOLE_PORT=str(port),
        ASSISTANT_CONSOLE_SECRET=secrets.token_urlsafe(32), ASSISTANT_RASA_URL="http://127.0.0.1:9",
    )
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "console"], env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    console = ConsoleProcess(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the console exited ({process.returncode}); see {log}")
            try:
                if requests.get(console.url + "/login", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"the console did not answer in {timeout:.0f} s; see {log}")
            time.sleep(0.1)
        yield console
    finally:
        console.stop()


def login(url: str, username: str = USERNAME, password: str = PASSWORD) -> requests.Session:
    """Log in like a browser: CSRF token and login cookie from ``GET /login``, then the form."""
    http = requests.Session()
    form = http.get(url + "/login", timeout=10)
    match = re.search(r'name="csrf" value="([^"]+)"', form.text)
    if match is None:
        raise RuntimeError("no CSRF field on /login")
    response = http.post(url + "/login", data={
        "username": username, "password": password, "csrf": match.group(1), "next": "/",
    }, allow_redirects=False, timeout=30)
    if response.status_code != 303:
        raise RuntimeError(f"login failed: {response.status_code} {response.text[:200]}")
    return http


# ---- measurements -----------------------------------------------------------------------------


def summary(values_ms: Sequence[float]) -> dict[str, Any]:
    """Count, p50, p95 and max of timings in ms."""
    return {
        "count": len(values_ms),
        "p50_ms": round(percentile(list(values_ms), 0.50), 2),
        "p95_ms": round(percentile(list(values_ms), 0.95), 2),
        "max_ms": round(max(values_ms), 2),
    }


def check_queue_page(response: requests.Response, expected_rows: int) -> None:
    """Raise unless this is a queue page with ``expected_rows`` rows."""
    rows = response.text.count("data-reference=")
    if response.status_code != 200 or rows != expected_rows:
        raise RuntimeError(f"unexpected queue page: {response.status_code}, {rows} rows, not {expected_rows}")


def check_api_page(response: requests.Response, expected_rows: int) -> None:
    """Raise unless this is a JSON page of ``expected_rows`` escalations."""
    if response.status_code != 200 or len(response.json()["items"]) != expected_rows:
        raise RuntimeError(f"unexpected API page: {response.status_code} {response.text[:200]}")


def time_requests(
    clients: dict[str, tuple[requests.Session, str]], path_of: dict[str, str], expected: dict[str, int],
    check: Callable[[requests.Response, int], None], requests_count: int, warmup: int,
) -> dict[str, dict[str, Any]]:
    """GET ``path_of[name]`` on each console, one request at a time, consoles interleaved.

    Args:
        clients: Per console name, a logged-in session and its base URL.
        path_of: Per console name, the path to request.
        expected: Per console name, how many rows the page must have.
        check: ``check(response, rows)`` raises on a wrong answer.
        requests_count: Timed requests per console.
        warmup: Untimed requests per console first.
    """
    names = list(clients)
    timings: dict[str, list[float]] = {name: [] for name in names}
    sizes: dict[str, int] = {}
    for i in range(warmup + requests_count):
        order = names if i % 2 == 0 else names[::-1]  # neither console always goes first
        for name in order:
            http, url = clients[name]
            started = time.perf_counter()
            response = http.get(url + path_of[name], timeout=30, allow_redirects=False)
            elapsed = (time.perf_counter() - started) * 1000
            check(response, expected[name])
            sizes[name] = len(response.content)
            if i >= warmup:
                timings[name].append(elapsed)
    return {name: {**summary(timings[name]), "path": path_of[name], "bytes": sizes[name]} for name in names}


class EventStream:
    """Read a console's ``/events`` stream in a thread and note when each escalation arrives."""

    def __init__(self, http: requests.Session, url: str) -> None:
        since = datetime.now(timezone.utc).isoformat()
        self.response = http.get(url + "/events", params={"since": since}, stream=True, timeout=(10, 60))
        if self.response.status_code != 200:
            raise RuntimeError(f"/events answered {self.response.status_code}")
        self.arrived: dict[str, float] = {}
        self.condition = threading.Condition()
        self.error: Optional[BaseException] = None
        self.thread = threading.Thread(target=self._read, name="bench-events", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        event = ""
        try:
            for line in self.response.iter_lines(chunk_size=None, decode_unicode=True):
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "escalation":
                    at = time.perf_counter()
                    reference = json.loads(line[5:])["reference"]
                    with self.condition:
                        self.arrived.setdefault(reference, at)
                        self.condition.notify_all()
        except BaseException as error:  # the stream is closed at the end (or broke)
            self.error = error

    def wait_for(self, reference: str, timeout: float) -> Optional[float]:
        """The ``perf_counter`` time at which ``reference`` arrived, or None after ``timeout`` s."""
        deadline = time.perf_counter() + timeout
        with self.condition:
            while reference not in self.arrived:
                left = deadline - time.perf_counter()
                if left <= 0:
                    return None
                self.condition.wait(left)
            return self.arrived[reference]

    def close(self) -> None:
        """Close the stream (shutting the socket down first: a plain close waits for the next event)."""
        connection = getattr(self.response.raw, "connection", None)
        sock = getattr(connection, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.thread.join(5)
        self.response.close()


def time_emergencies(
    streams: dict[str, tuple[EventStream, str]], count: int, timeout: float = 5.0, seed: int = 3,
    resolve: bool = True,
) -> dict[str, dict[str, Any]]:
    """Open ``count`` emergencies per console (interleaved) and time each until it is in the stream.

    Each emergency is opened with :meth:`EscalationService.open` through the bench's own database
    connection, after a random pause of 0.2-0.9 s (so the moment does not lock onto the console's
    polling), and resolved once it arrived (or timed out).
    """
    from assistant.care.core.db import Database
    from assistant.care.escalations.escalations import EscalationService

    rng = random.Random(seed)
    databases = {name: Database(database_url) for name, (_, database_url) in streams.items()}
    services = {name: EscalationService(db) for name, db in databases.items()}
    latencies: dict[str, list[float]] = {name: [] for name in streams}
    open_ms: dict[str, list[float]] = {name: [] for name in streams}
    missed: dict[str, int] = {name: 0 for name in streams}
    try:
        names = list(streams)
        for i in range(count):
            for name in (names if i % 2 == 0 else names[::-1]):
                time.sleep(rng.uniform(0.2, 0.9))
                started = time.perf_counter()
                view = services[name].open(
                    "emergency", f"bench-emergency-{name}-{i}",
                    "Said 'I have fallen in the bathroom and cannot get up'; emergency number shown.",
                )
                open_ms[name].append((time.perf_counter() - started) * 1000)
                arrived = streams[name][0].wait_for(view.reference, timeout)
                if arrived is None:
                    missed[name] += 1
                else:
                    latencies[name].append((arrived - started) * 1000)
                if resolve:
                    services[name].resolve(view.reference, USERNAME, "Bench: checked, ambulance not needed.")
    finally:
        for db in databases.values():
            db.dispose()
    return {
        name: {
            "opened": count, "arrived": len(latencies[name]), "missed": missed[name], "timeout_s": timeout,
            **({"latency": summary(latencies[name])} if latencies[name] else {}),
            "open_call": summary(open_ms[name]),
            "latencies_ms": [round(v, 1) for v in latencies[name]],
            "open_calls_ms": [round(v, 1) for v in open_ms[name]],
        }
        for name in streams
    }


# ---- the whole run ----------------------------------------------------------------------------


@dataclass
class Options:
    """What to build and how much to measure."""

    open_count: int = DEFAULT_OPEN
    small: int = DEFAULT_SMALL
    resolved: int = DEFAULT_RESOLVED
    backlog_emergencies: int = DEFAULT_BACKLOG_EMERGENCIES
    requests: int = DEFAULT_REQUESTS
    warmup: int = DEFAULT_WARMUP
    emergencies: int = DEFAULT_EMERGENCIES
    full_page_emergencies: int = 3
    database_url: Optional[str] = None


def run(options: Options) -> dict[str, Any]:
    """Build both databases, serve both consoles and measure; return every figure."""
    sizes = {"large": options.open_count, "small": options.small}
    load_before = os.getloadavg()
    results: dict[str, Any] = {
        "machine": machine(), "nproc": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "engine": "postgresql" if (options.database_url or "").startswith("postgresql") else "sqlite",
        "options": {k: v for k, v in vars(options).items() if k != "database_url"},
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_console_") as tmp, ExitStack() as stack:
        state = Path(tmp)
        urls: dict[str, str] = {}
        builds: dict[str, Any] = {}
        for name, open_count in sizes.items():
            urls[name] = stack.enter_context(fresh_database(state, options.database_url, f"console_{name}"))
            emergencies = min(options.backlog_emergencies, open_count // 5)
            builds[name] = populate(urls[name], open_count, options.resolved, emergencies)
        results["databases"] = builds
        consoles = {name: stack.enter_context(serve_console(urls[name], state, name)) for name in sizes}
        clients = {name: (login(console.url), console.url) for name, console in consoles.items()}
        first_rows = {name: min(PAGE_SIZE, n) for name, n in sizes.items()}
        last_page = {name: max(1, -(-n // PAGE_SIZE)) for name, n in sizes.items()}
        last_rows = {name: n - (last_page[name] - 1) * PAGE_SIZE if n else 0 for name, n in sizes.items()}
        results["queue_page"] = time_requests(
            clients, {name: "/" for name in sizes}, first_rows, check_queue_page, options.requests, options.warmup)
        results["api_page"] = time_requests(
            clients, {name: "/api/escalations" for name in sizes}, first_rows, check_api_page,
            options.requests, options.warmup)
        results["last_page"] = time_requests(
            clients, {name: f"/?page={last_page[name]}" for name in sizes}, last_rows, check_queue_page,
            max(5, options.requests // 5), min(2, options.warmup))
        streams = {name: (EventStream(*clients[name]), urls[name]) for name in sizes}
        try:
            time.sleep(1.0)  # the stream's first poll marks what was already there as seen
            results["emergency"] = time_emergencies(streams, options.emergencies)
        finally:
            for stream, _ in streams.values():
                stream.close()
        # The first page full of older emergencies: is a new one still reported?
        if options.full_page_emergencies:
            add_old_emergencies(urls["small"], PAGE_SIZE + 10)
            small = {"small": (EventStream(*clients["small"]), urls["small"])}
            try:
                time.sleep(1.0)
                crowded = time_emergencies(small, options.full_page_emergencies, timeout=3.0, resolve=False)
            finally:
                small["small"][0].close()
            results["emergency_first_page_full"] = {
                "older_open_emergencies": PAGE_SIZE + 10 + min(options.backlog_emergencies, options.small // 5),
                **crowded["small"],
            }
        results["server_logs_tail"] = {
            name: console.log.read_text(errors="replace")[-500:] for name, console in consoles.items()
        }
    results["duration_s"] = round(time.perf_counter() - started, 1)
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return results


def report(results: dict[str, Any]) -> str:
    """A readable table of the figures."""
    opts = results["options"]
    large, small = f"{opts['open_count']:,} open", f"{opts['small']:,} open"
    lines = [
        f"machine: {results['machine']} (nproc {results['nproc']})",
        f"engine: {results['engine']}; load average before {results['load_average_before']}, "
        f"after {results['load_average_after']}; {results['duration_s']} s in total",
        f"databases: {json.dumps(results['databases'])}",
        "",
        f"{'measure':<52} {large:>22} {small:>22} {'ratio p50/p95':>15}",
    ]

    def row(label: str, section: str, key: Optional[str] = None) -> None:
        a, b = results[section]["large"], results[section]["small"]
        if key:
            a, b = a[key], b[key]
        cell = lambda f: f"{f['p50_ms']:.1f} / {f['p95_ms']:.1f} ({f['max_ms']:.0f})"  # noqa: E731
        ratios = f"{a['p50_ms'] / b['p50_ms']:.2f} / {a['p95_ms'] / b['p95_ms']:.2f}"
        lines.append(f"{label:<52} {cell(a):>22} {cell(b):>22} {ratios:>15}")

    n = results["queue_page"]["large"]["count"]
    row(f"GET / queue page 1, p50 / p95 (max) ms, {n} req", "queue_page")
    row("GET /api/escalations page 1, ms", "api_page")
    row("GET /?page=last, ms", "last_page")
    emergency = results["emergency"]
    if all("latency" in emergency[name] for name in ("large", "small")):
        row(f"new emergency -> /events, ms ({emergency['large']['opened']} each)", "emergency", "latency")
    row("  of which EscalationService.open (commit), ms", "emergency", "open_call")
    lines.append(
        f"{'emergencies arrived':<52} {emergency['large']['arrived']:>22} {emergency['small']['arrived']:>22}")
    crowded = results.get("emergency_first_page_full")
    if crowded:
        lines.append(
            f"first page full ({crowded['older_open_emergencies']} older open emergencies): "
            f"{crowded['arrived']}/{crowded['opened']} new emergencies reached /events "
            f"within {crowded['timeout_s']} s")
    lines.append(f"page sizes: queue {results['queue_page']['large']['bytes']:,} B, "
                 f"API {results['api_page']['large']['bytes']:,} B")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Run the benchmark and print the table (and write JSON with ``--json PATH``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=DEFAULT_OPEN, dest="open_count",
                        help="open escalations, large queue")
    parser.add_argument("--small", type=int, default=DEFAULT_SMALL, help="open escalations, small queue")
    parser.add_argument("--resolved", type=int, default=DEFAULT_RESOLVED, help="resolved escalations in both")
    parser.add_argument("--backlog-emergencies", type=int, default=DEFAULT_BACKLOG_EMERGENCIES,
                        help="open emergencies already waiting in each queue")
    parser.add_argument("--requests", type=int, default=DEFAULT_REQUESTS, help="timed requests per page and queue")
    parser.add_argument("--warmup", type=int, default=DEFAULT_WARMUP, help="untimed requests first")
    parser.add_argument("--emergencies", type=int, default=DEFAULT_EMERGENCIES, help="new emergencies per queue")
    parser.add_argument("--full-page-emergencies", type=int, default=3,
                        help="emergencies opened once the first page is full of older ones (0: skip)")
    parser.add_argument("--database-url", help="PostgreSQL server URL; throwaway databases are made beside it")
    parser.add_argument("--json", metavar="PATH", help="also write every figure as JSON to PATH ('-': stdout)")
    args = parser.parse_args(argv)
    options = Options(
        open_count=args.open_count, small=args.small, resolved=args.resolved,
        backlog_emergencies=args.backlog_emergencies, requests=args.requests, warmup=args.warmup,
        emergencies=args.emergencies, full_page_emergencies=args.full_page_emergencies,
        database_url=args.database_url,
    )
    results = run(options)
    print(report(results))
    if args.json == "-":
        print(json.dumps(results, indent=2))
    elif args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
