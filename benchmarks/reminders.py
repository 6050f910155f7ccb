"""Benchmark: reminders at scale (issue 4).

``python -m benchmarks.reminders [--reminders 10000] [--stored 100000] [--database-url URL]``

Two measurements, each on a fresh database (a SQLite file in a temporary directory, or a
throwaway PostgreSQL database created next to ``--database-url`` and dropped afterwards):

* **start-up**: ``--stored`` active daily reminders of as many consenting seniors are bulk
  inserted, then :meth:`CareScheduler.start` (lock, catch-up, job set-up) is timed in-process
  several times, and the real ``python -m assistant.careservice`` process is timed from launch to
  its "running" line. A last start finds ``--overdue`` reminders that fell due while it was
  stopped and must catch up on them (sent to a fake Rasa).
* **delivery**: the real stack (:class:`~assistant.stack.Stack`: action server, Rasa, care
  service) runs on the fresh database; ``--reminders`` seniors each have a conversation (seeded
  through Rasa's API: a session and a first message, ten hours earlier, so each reminder starts a
  new session as on a real morning) and a daily reminder due at the same instant (the start of a
  minute); the care service appends them to the conversations in batches (the care channel, no
  dialogue turn). Measured: lag between due time and ``sent_at`` per
  delivery, duplicates (deliveries per ``(reminder, due_at)`` in our database, and reminder bot
  messages per conversation in Rasa's tracker store), CPU seconds of every process, and Rasa's own
  append latency and capacity measured beforehand by a probe. With ``--fake-rasa`` the care
  service delivers to a trivial HTTP server instead, which shows the care service's own ceiling.
* **telegram** (``--telegram``): the same through Rasa's Telegram channel to a fake Bot API on
  127.0.0.1 that holds Telegram's limit (about 30 messages a second per bot: more are answered
  429 with ``retry_after``); the seniors' conversations are Telegram chats. Measured: when the
  last reminder arrived, how many 429s came, chats reached once, twice or never.

The delivery modes end with one line ``reminders=N delivered=D duplicates=X late_max_s=S
cpu_ms_per_reminder=C`` (delivered: conversations holding their reminder, or chats that got it;
late_max_s: the latest ``sent_at``, or the latest arrival at the fake Bot API, after the due time).
The care service reads ``ASSISTANT_CARE_DELIVERY_WORKERS`` (``--workers`` sets it).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from datetime import time as dtime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import requests

from benchmarks.measure import machine, percentile
from assistant.settings import load_settings

TZ = "Europe/London"
CHUNK = 5000
"""Rows per bulk INSERT statement."""


# ---- fresh databases and bulk data -------------------------------------------------------------


@contextmanager
def fresh_database(state: Path, base_url: Optional[str], name: str) -> Iterator[str]:
    """Yield the URL of a new, migrated database (SQLite in ``state`` or a throwaway PostgreSQL one)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from assistant.care.core.db import Database

    if not base_url or base_url.startswith("sqlite"):
        url = f"sqlite:///{state / (name + '.db')}"
        database = Database(url)
        database.upgrade()
        database.dispose()
        yield url
        return
    db_name = f"bench_{name}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base_url, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{db_name}"'))
    url = make_url(base_url).set(database=db_name).render_as_string(hide_password=False)
    try:
        database = Database(url)
        database.upgrade()
        database.dispose()
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()


def add_seniors(db: Any, count: int, prefix: str, telegram: bool = False) -> list[int]:
    """Bulk insert ``count`` consenting seniors (conversation ``{prefix}-000001`` ..., or Telegram chats);
    return their ids."""
    from sqlalchemy import insert, select

    from assistant.care.core.models import Person, SeniorProfile

    now = datetime.now(timezone.utc)
    persons = [
        {"role": "senior", "display_name": f"Senior {i}", "conversation_id": conversation_of(prefix, i, telegram),
         "channel": "telegram" if telegram else "rest", "created_at": now}
        for i in range(1, count + 1)
    ]
    with db.engine.begin() as connection:
        for start in range(0, count, CHUNK):
            connection.execute(insert(Person.__table__), persons[start:start + CHUNK])
        ids = list(connection.scalars(
            select(Person.id).where(Person.channel == "telegram" if telegram
                                    else Person.conversation_id.like(f"{prefix}-%")).order_by(Person.id)
        ))
        profiles = [
            {"person_id": pid, "full_name": f"Senior {pid}", "address": "1 Bench Road", "district": "Riverside",
             "phone": None, "dietary_needs": "[]", "language": "en", "timezone": TZ, "voice_replies": False,
             "consent_care_data": True, "consent_care_data_at": now, "consent_health_data": False,
             "consent_health_data_at": None, "updated_at": now}
            for pid in ids
        ]
        for start in range(0, len(profiles), CHUNK):
            connection.execute(insert(SeniorProfile.__table__), profiles[start:start + CHUNK])
    return ids


def add_daily_reminders(db: Any, senior_ids: Sequence[int], times: Sequence[dtime], now: datetime) -> None:
    """Bulk insert one active daily medication reminder per senior at the local time ``times[i]``."""
    from sqlalchemy import insert

    from assistant.care.core.models import Reminder
    from assistant.care.reminders.schedules import Schedule

    schedules: dict[dtime, tuple[str, datetime]] = {}
    rows = []
    for senior_id, at in zip(senior_ids, times):
        if at not in schedules:
            schedule = Schedule("weekly", TZ, weekdays=tuple(range(7)), times=(at,))
            due = schedule.next_after(now - timedelta(microseconds=1))
            assert due is not None
            schedules[at] = (schedule.to_json(), due)
        schedule_json, due = schedules[at]
        rows.append({
            "senior_id": senior_id, "created_by_id": senior_id, "kind": "medication", "title": "Blood pressure pill",
            "dose": "1 tablet", "location": None, "schedule": schedule_json, "timezone": TZ, "next_due_at": due,
            "escalate_after_minutes": 30, "grace_minutes": 60, "active": True, "created_at": now,
            "cancelled_at": None,
        })
    with db.engine.begin() as connection:
        for start in range(0, len(rows), CHUNK):
            connection.execute(insert(Reminder.__table__), rows[start:start + CHUNK])


# ---- a fake Rasa (for the start-up catch-up and --fake-rasa) ----------------------------------


class FakeRasaServer:
    """A trivial stand-in for Rasa's care channel (and ``tracker/events``, ``trigger_intent``): answers at once,
    every reminder delivered, and counts the reminders per conversation."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                path = urlsplit(self.path).path
                segments = path.split("/")
                if path == "/webhooks/care/reminders":  # a batch: every reminder delivered
                    reminders = json.loads(body)["reminders"]
                    with owner.lock:
                        for reminder in reminders:
                            owner.calls[reminder["conversation_id"]] += 1
                    self._answer(json.dumps({"results": [
                        {"conversation_id": r["conversation_id"], "ok": True, "error": None} for r in reminders
                    ]}).encode())
                    return
                if segments[3:] in (["trigger_intent"], ["tracker", "events"]):
                    with owner.lock:
                        owner.calls[unquote(segments[2])] += 1
                self._answer(b'{"tracker": {}, "messages": []}')

            def do_GET(self) -> None:  # noqa: N802
                self._answer(b'{"model_file": "fake"}')

            def _answer(self, payload: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


# ---- an experiment: Rasa with a cached action-response validator -------------------------------

CACHED_SCHEMA_SITECUSTOMIZE = '''"""Benchmark experiment only: cache jsonschema validators by schema.

Rasa 3.6 validates every action server response with ``jsonschema.validate``, which checks the
(large) schema against its meta-schema and builds a new validator on every call.
"""
import json

try:
    import jsonschema
    from jsonschema.exceptions import best_match
except ImportError:
    pass
else:
    _plain = jsonschema.validate
    _validators = {}

    def validate(instance, schema, cls=None, *args, **kwargs):
        if cls is not None or args or kwargs:
            return _plain(instance, schema, cls, *args, **kwargs)
        key = json.dumps(schema, sort_keys=True, default=str)
        validator = _validators.get(key)
        if validator is None:
            validator_cls = jsonschema.validators.validator_for(schema)
            validator_cls.check_schema(schema)
            validator = _validators[key] = validator_cls(schema)
        error = best_match(validator.iter_errors(instance))
        if error is not None:
            raise error

    jsonschema.validate = validate
'''


@contextmanager
def cached_action_schema(state: Path) -> Iterator[None]:
    """Run child processes with :data:`CACHED_SCHEMA_SITECUSTOMIZE` on their path (an experiment)."""
    folder = state / "experiment"
    folder.mkdir(exist_ok=True)
    (folder / "sitecustomize.py").write_text(CACHED_SCHEMA_SITECUSTOMIZE)
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(folder), before) if p)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = before


# ---- process CPU ------------------------------------------------------------------------------


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
            with open(f"/proc/{current}/task/{current}/children") as children:
                pending.extend(int(c) for c in children.read().split())
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
    return total / tick


# ---- start-up ---------------------------------------------------------------------------------


def measure_startup(url: str, stored: int, overdue: int, repeats: int, state: Path) -> dict[str, Any]:
    """Store ``stored`` reminders, then time the scheduler's start-up in-process and as a process."""
    from sqlalchemy import update

    from assistant.care.core.db import Database
    from assistant.care.core.models import Reminder
    from assistant.careservice.delivery import RasaDelivery
    from assistant.careservice.scheduler import CareScheduler

    results: dict[str, Any] = {"stored": stored}
    db = Database(url)
    started = time.perf_counter()
    ids = add_seniors(db, stored, "stored")
    now = datetime.now(timezone.utc)
    local = now.astimezone(ZoneInfo(TZ))
    # Spread over the day but at least 30 minutes ahead: nothing falls due during the runs.
    times = [(local + timedelta(minutes=30 + (i * 1380) // stored)).time().replace(second=0, microsecond=0)
             for i in range(stored)]
    add_daily_reminders(db, ids, times, now)
    results["insert_seconds"] = time.perf_counter() - started
    db.dispose()

    rasa = FakeRasaServer()
    try:
        in_process: list[float] = []
        for _ in range(repeats):
            database = Database(url)  # a new engine: connects like a starting process
            scheduler = CareScheduler(database, RasaDelivery(rasa.url, timeout=5), tick_seconds=15)
            t0 = time.perf_counter()
            scheduler.start()
            in_process.append(time.perf_counter() - t0)
            scheduler.stop()
            database.dispose()
        results["in_process_seconds"] = in_process

        as_process: list[float] = []
        for _ in range(repeats):
            as_process.append(_time_care_process(url, rasa.url, state))
        results["process_seconds"] = as_process

        if overdue:
            database = Database(url)
            due = datetime.now(timezone.utc) - timedelta(minutes=5)
            with database.session() as session:
                chosen = ids[:overdue]
                for start in range(0, len(chosen), 900):
                    session.execute(update(Reminder).where(Reminder.senior_id.in_(chosen[start:start + 900]))
                                    .values(next_due_at=due))
            scheduler = CareScheduler(database, RasaDelivery(rasa.url, timeout=5), tick_seconds=15)
            before = sum(rasa.calls.values())
            t0 = time.perf_counter()
            scheduler.start()
            results["catch_up_seconds"] = time.perf_counter() - t0
            results["catch_up_sent"] = sum(rasa.calls.values()) - before
            results["overdue"] = overdue
            scheduler.stop()
            database.dispose()
    finally:
        rasa.close()
    return results


def _time_care_process(url: str, rasa_url: str, state: Path) -> float:
    """Seconds from launching ``python -m assistant.careservice`` until it says it is running."""
    t0 = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant.careservice", "--database-url", url, "--rasa-url", rasa_url,
         "--tick-seconds", "15", "--log-level", "WARNING", "--no-console"],
        stdout=subprocess.PIPE, stderr=open(state / "care-startup.log", "ab"), text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        took = time.perf_counter() - t0
        if "running" not in line:
            raise RuntimeError(f"the care service did not start: {line!r}; see {state / 'care-startup.log'}")
        return took
    finally:
        process.send_signal(2)
        process.wait(timeout=30)


# ---- delivery through the real stack ---------------------------------------------------------

TELEGRAM_CHAT_BASE = 7_000_000_000
"""Chat ids of the Telegram mode's seniors: ``TELEGRAM_CHAT_BASE + i``."""


def conversation_of(prefix: str, i: int, telegram: bool) -> str:
    """The conversation id of bench senior ``i`` (a Telegram chat id in the Telegram mode)."""
    return str(TELEGRAM_CHAT_BASE + i) if telegram else f"{prefix}-{i:06d}"


SEED_HOURS_AGO = 10.0
"""The seeded conversations were last active the evening before: the morning's reminders start new sessions."""


def seed_events(channel: Optional[str], hours_ago: float = SEED_HOURS_AGO) -> list[dict[str, Any]]:
    """A conversation's beginning ``hours_ago``: a session, "hello" on ``channel`` and the answer."""
    at = time.time() - hours_ago * 3600
    events: list[dict[str, Any]] = [
        {"event": "action", "name": "action_session_start"},
        {"event": "session_started"},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "hello", "input_channel": channel,
         "parse_data": {"intent": {"name": "greet", "confidence": 1.0}, "entities": []}},
        {"event": "action", "name": "utter_greet"},
        {"event": "bot", "text": "Hello! How can I help you today?"},
        {"event": "action", "name": "action_listen"},
    ]
    return [{**event, "timestamp": at + n * 0.001} for n, event in enumerate(events)]


def probe_events(n: int) -> list[dict[str, Any]]:
    """A reminder's events, as the care service appends them (a probe's, with no delivery id)."""
    return [
        {"event": "action", "name": "action_deliver_reminder", "policy": "care_service", "confidence": 1.0},
        {"event": "bot", "text": f"It's 08:00. Reminder: probe {n}.",
         "data": {"buttons": [{"title": "Done", "payload": "/reminder_done"}]}},
        {"event": "slot", "name": "last_delivery_kind", "value": "other"},
        {"event": "action", "name": "action_listen"},
    ]


def append(session: requests.Session, base: str, conversation_id: str, events: list[dict[str, Any]],
           side_effects: bool = False) -> float:
    """Append ``events`` to a conversation through Rasa's API; returns seconds."""
    params = {"include_events": "NONE"}
    if side_effects:
        params.update(output_channel="latest", execute_side_effects="true")
    t0 = time.perf_counter()
    response = session.post(f"{base}/conversations/{conversation_id}/tracker/events", params=params,
                            json=events, timeout=120)
    response.raise_for_status()
    return time.perf_counter() - t0


def in_parallel(work: Any, items: Sequence[Any], workers: int) -> list[Any]:
    """``work(session, item)`` for each item on ``workers`` threads, each with its own HTTP session."""
    local = threading.local()

    def one(item: Any) -> Any:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        return work(local.session, item)

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, items))


def seed_conversations(base: str, conversations: Sequence[str], channel: Optional[str]) -> float:
    """Give every conversation its beginning (as real seniors have); returns seconds."""
    t0 = time.perf_counter()
    in_parallel(lambda session, c: append(session, base, c, seed_events(channel)), conversations, 16)
    return time.perf_counter() - t0


def probe_rasa(base: str, sequential: int, concurrent: int, workers: int) -> dict[str, Any]:
    """Rasa's own append latency (one at a time) and throughput (``workers`` at once), on seeded conversations."""
    names = [f"probe-{i}" for i in range(sequential + concurrent)]
    seed_conversations(base, names, None)
    with requests.Session() as session:
        seq = [append(session, base, names[i], probe_events(i), True) for i in range(sequential)]
    t0 = time.perf_counter()
    par = in_parallel(lambda session, i: append(session, base, names[sequential + i], probe_events(i), True),
                      range(concurrent), workers)
    wall = time.perf_counter() - t0
    return {
        "sequential_calls": sequential, "sequential_p50_ms": statistics.median(seq) * 1000,
        "sequential_p95_ms": percentile(seq, 0.95) * 1000, "sequential_per_second": sequential / sum(seq),
        "concurrent_calls": concurrent, "concurrent_workers": workers,
        "concurrent_per_second": concurrent / wall, "concurrent_p50_ms": statistics.median(par) * 1000,
        "concurrent_p95_ms": percentile(par, 0.95) * 1000,
    }


@contextmanager
def telegram_environment(state: Path, rasa_port: int) -> Iterator[Any]:
    """A fake Bot API holding Telegram's limit, and the environment that points the stack at it."""
    from benchmarks.telegram import SECRET, TOKEN, FakeBotApi, restore_environment

    api = FakeBotApi(max_per_second=30).start()
    names = {
        "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": api.base_url,
        "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{rasa_port}/webhooks/telegram/webhook",
        "TELEGRAM_SECRET_TOKEN": SECRET, "TELEGRAM_VOICE_ENGINE": "off",
        "TELEGRAM_STATE_DIR": str(state / "telegram"),
    }
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(names)  # the Stack passes os.environ to its children
    try:
        yield api
    finally:
        restore_environment(saved)
        api.stop()


def measure_delivery(
    url: str, count: int, state: Path, *, tick: float, max_wait: float, fake: bool, probe: bool,
    telegram: bool = False,
) -> dict[str, Any]:
    """Deliver ``count`` reminders due at the same instant; return lags, duplicates and CPU."""
    from sqlalchemy import func, select

    from assistant.care.core.db import Database
    from assistant.care.core.models import ReminderDelivery
    from assistant.stack import Stack, free_port

    results: dict[str, Any] = {"reminders": count, "tick_seconds": tick, "fake_rasa": fake, "telegram": telegram,
                               "workers": os.environ.get("ASSISTANT_CARE_DELIVERY_WORKERS", "(default)")}
    db = Database(url)
    senior_ids = add_seniors(db, count, "bench", telegram=telegram)
    conversations = [conversation_of("bench", i, telegram) for i in range(1, count + 1)]
    stack: Optional[Stack] = None
    fake_rasa: Optional[FakeRasaServer] = None
    care: Optional[subprocess.Popen] = None
    pids: dict[str, int] = {}
    settings = replace(load_settings(), database_url=url, rasa_port=free_port(), action_port=free_port(),
                       care_tick_seconds=int(tick))
    bot_api = telegram_environment(state, settings.rasa_port) if telegram else nullcontext()
    try:
        with bot_api as api:
            started = time.perf_counter()
            if fake:
                fake_rasa = FakeRasaServer()
                base = fake_rasa.url
                care = subprocess.Popen(
                    [sys.executable, "-m", "assistant.careservice", "--database-url", url, "--rasa-url", base,
                     "--tick-seconds", f"{tick:g}", "--no-console"],
                    stdout=open(state / "care.log", "ab"), stderr=subprocess.STDOUT,
                )
                pids["care"] = care.pid
            else:
                stack = Stack(settings, log_dir=state / "logs", tracker_db=state / "trackers.db")
                stack.start(timeout=600)
                base = stack.rasa_url
                pids = stack.pids()
            results["stack_start_seconds"] = time.perf_counter() - started
            if not fake:
                results["seed_seconds"] = seed_conversations(base, conversations, "telegram" if telegram else None)
            if probe and not fake:
                results["probe"] = probe_rasa(base, sequential=60, concurrent=240, workers=16)

            now = datetime.now(timezone.utc)
            due = (now + timedelta(seconds=25)).replace(second=0, microsecond=0) + timedelta(minutes=1)
            local_due = due.astimezone(ZoneInfo(TZ)).time()
            add_daily_reminders(db, senior_ids, [local_due] * count, now)
            results["due_at"] = due.isoformat()
            time.sleep(max(0.0, (due - datetime.now(timezone.utc)).total_seconds() - 2))
            cpu_before = {name: tree_cpu_seconds(pid) for name, pid in pids.items()}
            progress: list[tuple[float, int]] = []
            final = ("sent", "failed", "missed")
            while True:
                time.sleep(1.0)
                with db.session() as session:
                    counts = dict(session.execute(
                        select(ReminderDelivery.status, func.count()).group_by(ReminderDelivery.status)
                    ).all())
                elapsed = (datetime.now(timezone.utc) - due).total_seconds()
                done = sum(counts.get(s, 0) for s in final)
                progress.append((round(elapsed, 1), counts.get("sent", 0)))
                if done >= count or elapsed > max_wait:
                    break
                if stack is not None:
                    stack.raise_if_dead()
            cpu_after = {name: tree_cpu_seconds(pid) for name, pid in pids.items()}
            results["cpu_seconds"] = {name: cpu_after[name] - cpu_before[name] for name in pids}
            results["statuses"] = counts
            time.sleep(2.0)  # let a last request still in flight land in the trackers
            if api is not None:
                results.update(telegram_arrivals(api, conversations, due))

        with db.session() as session:
            rows = session.execute(select(
                ReminderDelivery.reminder_id, ReminderDelivery.due_at, ReminderDelivery.sent_at,
                ReminderDelivery.attempts, ReminderDelivery.status,
            )).all()
        per_due = Counter((r.reminder_id, r.due_at) for r in rows)
        per_reminder = Counter(r.reminder_id for r in rows)
        lags = sorted((r.sent_at - r.due_at).total_seconds() for r in rows if r.sent_at is not None)
        results.update(
            deliveries=len(rows),
            sent=len(lags),
            reminders_without_delivery=count - len(per_reminder),
            duplicate_delivery_rows=sum(n - 1 for n in per_due.values() if n > 1),
            reminders_with_several_deliveries=sum(1 for n in per_reminder.values() if n > 1),
            retried=sum(1 for r in rows if r.attempts > 1),
            lag_p50=statistics.median(lags) if lags else None,
            lag_p95=percentile(lags, 0.95) if lags else None,
            lag_max=lags[-1] if lags else None,
            lag_min=lags[0] if lags else None,
            within_60s=sum(1 for lag in lags if lag <= 60.0),
            progress=progress,
        )
        if len(lags) > 1 and lags[-1] > lags[0]:
            results["send_rate_per_second"] = (len(lags) - 1) / (lags[-1] - lags[0])
        care_log = state / ("care.log" if fake else "logs/care.log")
        lines = care_log.read_text(errors="replace").splitlines()
        results["care_log_ticks_skipped"] = sum(1 for line in lines if "maximum number of running instances" in line)
        problems = [line.strip() for line in lines if " ERROR " in line or line.startswith("sqlalchemy.exc")
                    or (" WARNING " in line and "maximum number of running instances" not in line)]
        results["care_log_problems"] = len(problems)
        results["care_log_problem_lines"] = problems[:20]
        if fake_rasa is not None:
            with fake_rasa.lock:
                calls = Counter({k: v for k, v in fake_rasa.calls.items() if k.startswith("bench-")})
            results["conversations_reached"] = len(calls)
            results["conversations_with_several_reminders"] = sum(1 for n in calls.values() if n > 1)
        else:
            results.update(tracker_duplicates(state / "trackers.db", conversations))
    finally:
        if stack is not None:
            stack.stop()
        if care is not None:
            care.send_signal(2)
            care.wait(timeout=60)
        if fake_rasa is not None:
            fake_rasa.close()
        db.dispose()
    results["summary"] = summary_line(results)
    return results


def telegram_arrivals(api: Any, conversations: Sequence[str], due: datetime) -> dict[str, Any]:
    """When the reminders reached the fake Bot API, per chat, and how many 429s it answered."""
    wanted = set(conversations)
    per_chat: Counter[str] = Counter()
    last = 0.0
    for call in api.called("sendMessage"):
        chat = str(call.params.get("chat_id"))
        if chat in wanted and "Reminder:" in str(call.params.get("text")):
            per_chat[chat] += 1
            last = max(last, call.wall)
    return {
        "telegram_chats_reached": len(per_chat),
        "telegram_chats_reached_several_times": sum(1 for n in per_chat.values() if n > 1),
        "telegram_duplicates": sum(n - 1 for n in per_chat.values()),
        "telegram_last_arrival_s": last - due.timestamp() if per_chat else None,
        "telegram_429s": api.too_many,
    }


def tracker_duplicates(tracker_db: Path, conversations: Sequence[str]) -> dict[str, Any]:
    """Count the reminder bot messages (those with a delivery id) per bench conversation in Rasa's trackers."""
    wanted = set(conversations)
    with sqlite3.connect(str(tracker_db), timeout=30) as connection:
        rows = connection.execute(
            "SELECT sender_id, count(*) FROM events WHERE type_name = 'bot' AND data LIKE '%\"delivery_id\"%' "
            "GROUP BY sender_id"
        ).fetchall()
    bots = {sender: n for sender, n in rows if sender in wanted}
    return {
        "tracker_conversations_with_reminder": len(bots),
        "tracker_conversations_with_several_reminders": sum(1 for n in bots.values() if n > 1),
        "tracker_duplicates": sum(n - 1 for n in bots.values()),
        "tracker_bot_messages": sum(bots.values()),
    }


def summary_line(delivery: dict[str, Any]) -> str:
    """``reminders=N delivered=D duplicates=X late_max_s=S cpu_ms_per_reminder=C``."""
    count = delivery["reminders"]
    if delivery.get("telegram"):
        delivered = delivery.get("telegram_chats_reached", 0)
        duplicates = delivery.get("telegram_duplicates", 0)
        late = delivery.get("telegram_last_arrival_s")
    elif delivery.get("fake_rasa"):
        delivered = delivery.get("conversations_reached", 0)
        duplicates = delivery.get("conversations_with_several_reminders", 0)
        late = delivery.get("lag_max")
    else:
        delivered = delivery.get("tracker_conversations_with_reminder", 0)
        duplicates = delivery.get("tracker_duplicates", 0)
        late = delivery.get("lag_max")
    duplicates += delivery.get("duplicate_delivery_rows", 0)
    cpu_ms = sum(delivery.get("cpu_seconds", {}).values()) * 1000 / max(count, 1)
    late_text = f"{late:.1f}" if late is not None else "none"
    return (f"reminders={count} delivered={delivered} duplicates={duplicates} late_max_s={late_text} "
            f"cpu_ms_per_reminder={cpu_ms:.2f}")


# ---- report -----------------------------------------------------------------------------------


def report(results: dict[str, Any]) -> str:
    """The figures as Markdown."""
    lines = [f"Machine: {results['machine']}", f"Load average before/after: "
             f"{results['load_before']:.2f} / {results.get('load_after', 0):.2f}", ""]
    startup = results.get("startup")
    if startup:
        ins, proc = startup["in_process_seconds"], startup["process_seconds"]
        lines += [
            f"Start-up with {startup['stored']:,} stored reminders (bulk insert {startup['insert_seconds']:.1f} s):",
            "",
            "| measure | p50 | max | runs |", "|---|---|---|---|",
            f"| `CareScheduler.start()` (lock, catch-up, jobs) | {statistics.median(ins):.2f} s | {max(ins):.2f} s | {len(ins)} |",
            f"| `python -m assistant.careservice` launch to running | {statistics.median(proc):.2f} s | {max(proc):.2f} s | {len(proc)} |",
        ]
        if "catch_up_seconds" in startup:
            lines.append(f"| start with {startup['overdue']:,} overdue (catch-up sends {startup['catch_up_sent']:,}) "
                         f"| {startup['catch_up_seconds']:.2f} s | | 1 |")
        lines.append("")
    delivery = results.get("delivery")
    if delivery:
        probe = delivery.get("probe")
        if probe:
            lines += [
                "Rasa append probe (`tracker/events` with a reminder's events, sent as a side effect; seeded conversations):",
                f"one at a time p50 {probe['sequential_p50_ms']:.0f} ms / p95 {probe['sequential_p95_ms']:.0f} ms "
                f"({probe['sequential_per_second']:.1f}/s); {probe['concurrent_workers']} at once "
                f"{probe['concurrent_per_second']:.1f}/s (p50 {probe['concurrent_p50_ms']:.0f} ms, "
                f"p95 {probe['concurrent_p95_ms']:.0f} ms)", "",
            ]
        target = "fake Rasa" if delivery["fake_rasa"] else "the real stack"
        if delivery.get("telegram"):
            target += ", Telegram channel to a fake Bot API holding 30 messages/s"
        if delivery.get("experiment_cached_schema"):
            target += " (EXPERIMENT: Rasa with a cached action-response validator)"
        lines += [
            f"Delivery of {delivery['reminders']:,} reminders due at the same instant through {target} "
            f"(tick {delivery['tick_seconds']:g} s, workers {delivery['workers']}):", "",
            "| measure | value |", "|---|---|",
        ]
        if delivery["sent"]:
            lines += [
                f"| lag due → sent p50 / p95 / max | {delivery['lag_p50']:.1f} s / {delivery['lag_p95']:.1f} s / "
                f"{delivery['lag_max']:.1f} s |",
                f"| sent within 60 s | {delivery['within_60s']:,} / {delivery['reminders']:,} |",
                f"| send rate (first to last sent) | {delivery.get('send_rate_per_second', 0):.1f}/s |",
            ]
        lines += [
            f"| statuses | {delivery['statuses']} |",
            f"| duplicate delivery rows / reminders with several deliveries | "
            f"{delivery['duplicate_delivery_rows']} / {delivery['reminders_with_several_deliveries']} |",
            f"| deliveries retried | {delivery['retried']} |",
        ]
        if "tracker_conversations_with_reminder" in delivery:
            lines.append(
                f"| trackers: conversations holding their reminder / holding it twice or more | "
                f"{delivery['tracker_conversations_with_reminder']:,} / "
                f"{delivery['tracker_conversations_with_several_reminders']} |")
        if "telegram_chats_reached" in delivery:
            last = delivery["telegram_last_arrival_s"]
            lines += [
                f"| Telegram: chats reached / reached twice or more | {delivery['telegram_chats_reached']:,} / "
                f"{delivery['telegram_chats_reached_several_times']} |",
                f"| Telegram: last reminder arrived after the due time | "
                f"{'none arrived' if last is None else f'{last:.1f} s'} |",
                f"| Telegram: 429 answers (waited out and sent again) | {delivery['telegram_429s']} |",
            ]
        if "conversations_reached" in delivery:
            lines.append(f"| fake Rasa: conversations reached / reached twice or more | "
                         f"{delivery['conversations_reached']:,} / {delivery['conversations_with_several_reminders']} |")
        cpu = ", ".join(f"{k} {v:.1f} s" for k, v in sorted(delivery["cpu_seconds"].items()))
        lines.append(f"| CPU seconds during delivery | {cpu} |")
        if "seed_seconds" in delivery:
            lines.append(f"| seeding the conversations beforehand | {delivery['seed_seconds']:.0f} s |")
        lines += ["", delivery["summary"]]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m benchmarks.reminders``."""
    settings = load_settings()
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reminders", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reminders", type=int, default=10_000, help="reminders due at the same instant")
    parser.add_argument("--stored", type=int, default=100_000, help="stored reminders for the start-up")
    parser.add_argument("--overdue", type=int, default=1_000, help="overdue reminders for the catch-up start")
    parser.add_argument("--repeats", type=int, default=5, help="start-ups to time")
    parser.add_argument("--database-url", default="",
                        help="PostgreSQL server URL to create throwaway databases on (default: SQLite files)")
    parser.add_argument("--workers", type=int, default=0, help="ASSISTANT_CARE_DELIVERY_WORKERS for the care service")
    parser.add_argument("--tick-seconds", type=float, default=float(settings.care_tick_seconds),
                        help="the care service's polling interval")
    parser.add_argument("--max-wait", type=float, default=1800.0, help="seconds after the due time to give up")
    parser.add_argument("--fake-rasa", action="store_true", help="deliver to a trivial fake Rasa, not the stack")
    parser.add_argument("--telegram", action="store_true",
                        help="deliver through Rasa's Telegram channel to a fake Bot API holding Telegram's limit")
    parser.add_argument("--no-probe", action="store_true", help="skip the Rasa append probe")
    parser.add_argument("--experiment-cached-schema", action="store_true",
                        help="experiment: run Rasa with a cached action-response schema validator "
                             "(not the shipped configuration)")
    parser.add_argument("--skip-startup", action="store_true")
    parser.add_argument("--skip-delivery", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``python -m benchmarks.reminders``."""
    args = build_parser().parse_args(argv)
    if args.workers:
        os.environ["ASSISTANT_CARE_DELIVERY_WORKERS"] = str(args.workers)
    results: dict[str, Any] = {"machine": machine(), "load_before": os.getloadavg()[0],
                               "command": " ".join(["python -m benchmarks.reminders", *(argv or sys.argv[1:])]),
                               "database": "PostgreSQL" if args.database_url else "SQLite"}
    with tempfile.TemporaryDirectory(prefix="bench-reminders-") as state_dir:
        state = Path(state_dir)
        if not args.skip_startup:
            with fresh_database(state, args.database_url, "startup") as url:
                results["startup"] = measure_startup(url, args.stored, args.overdue, args.repeats, state)
        if not args.skip_delivery:
            experiment = cached_action_schema(state) if args.experiment_cached_schema else nullcontext()
            with fresh_database(state, args.database_url, "delivery") as url, experiment:
                results["delivery"] = measure_delivery(
                    url, args.reminders, state, tick=args.tick_seconds, max_wait=args.max_wait,
                    fake=args.fake_rasa, probe=not args.no_probe, telegram=args.telegram,
                )
                results["delivery"]["experiment_cached_schema"] = args.experiment_cached_schema
    results["load_after"] = os.getloadavg()[0]
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
