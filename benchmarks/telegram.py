"""Benchmark: a Telegram webhook turn against the same turn over REST, and spoken replies.

Run with ``.venv/bin/python -m benchmarks.telegram`` (``--turns N``). It starts the
real stack (action server, Rasa, care service) on a fresh SQLite in a temporary directory,
with the Telegram channel in webhook mode against a small fake Bot API server on
127.0.0.1 that lives in this module (production code does not import the tests).

* **Telegram turn**: from posting a real update JSON to ``/webhooks/telegram/webhook``
  until the last ``sendMessage`` of the reply reaches the fake server (clocked by the
  fake server, in this process).
* **REST turn**: the same message to ``/webhooks/rest/webhook`` until the reply arrives.

Both use the same message on registered users, interleaved in one run (alternating
which goes first) so they see the same machine load. Several chats take turns so
that the channel's per-chat pace (about one message a second per chat, as Telegram
asks) is never what is measured; a senior does not type faster than that anyway.

Voice: :class:`assistant.voice.Speech` offline (espeak-ng and ffmpeg), uncached
synthesis of different 200-character texts, and the cached reply (the same text again).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, List, Optional

from benchmarks.measure import machine, percentile, post_json

TOKEN = "123456:BENCH-token_for-the-fake-server"
SECRET = "bench-telegram-secret_0123456789"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Helper", "username": "helper_bench_bot"}
REGISTRATION = ("hello", "Mary Jones", "12 Mill Lane", "Riverside", "no", "yes")
TURN_TEXT = "what have I ordered?"
CHATS = 4
CHAT_SPACING_SECONDS = 1.05  # the channel sends about one message a second per chat
VOICE_TEXT_CHARS = 200
VOICE_ROUNDS = 10

TARGET_RATIO = 1.3
TARGET_CACHED_MS = 5.0
TARGET_UNCACHED_MS = 1000.0


# ---------------------------------------------------------------------- the fake Bot API


@dataclass
class ApiCall:
    """One Bot API request the fake server received, with when (``time.perf_counter``)."""

    method: str
    params: Dict[str, Any]
    at: float = field(default_factory=time.perf_counter)
    wall: float = field(default_factory=time.time)


class FakeBotApi:
    """A minimal Telegram Bot API on 127.0.0.1: records calls and answers like Telegram.

    With ``max_per_second`` it holds Telegram's flood limit ("no more than 30 messages per second
    or so") as a token bucket: up to that many at once, refilled at that many a second; a
    ``sendMessage`` finding it empty is refused with 429 and ``retry_after`` (counted in
    :attr:`too_many`, not recorded as a call).
    """

    def __init__(self, token: str = TOKEN, max_per_second: Optional[int] = None) -> None:
        """Creates the server; :meth:`start` serves it in a daemon thread."""
        self.token = token
        self.max_per_second = max_per_second
        self.too_many = 0
        self._tokens = float(max_per_second or 0)
        self._refilled = time.monotonic()
        self.calls: List[ApiCall] = []
        self._lock = threading.Lock()
        self._message_ids = itertools.count(1000)
        self._server: Optional[ThreadingHTTPServer] = None

    @property
    def base_url(self) -> str:
        """The bot's ``base_url`` (python-telegram-bot appends the token)."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/bot"

    def start(self) -> "FakeBotApi":
        """Serves on a free loopback port."""
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, answer = api.handle(self.path, self.headers.get("Content-Type") or "", body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="fake-bot-api", daemon=True).start()
        return self

    def stop(self) -> None:
        """Stops serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def handle(self, path: str, content_type: str, body: bytes) -> tuple:
        """Records one call and returns (status, JSON answer)."""
        parts = path.strip("/").split("/")
        if len(parts) != 2 or parts[0] != f"bot{self.token}":
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        method = parts[1]
        params = _decode(content_type, body)
        with self._lock:
            if method == "sendMessage" and self._flooded():
                self.too_many += 1
                return 429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                             "parameters": {"retry_after": 1}}
            self.calls.append(ApiCall(method, params))
        if method == "getMe":
            return 200, {"ok": True, "result": BOT_USER}
        if method in ("sendMessage", "editMessageText"):
            chat_id = int(params.get("chat_id") or 0)
            message = {
                "message_id": int(params.get("message_id") or next(self._message_ids)),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "Mary"},
                "from": BOT_USER,
                "text": str(params.get("text") or ""),
            }
            return 200, {"ok": True, "result": message}
        return 200, {"ok": True, "result": True}

    def _flooded(self) -> bool:
        """Whether one more ``sendMessage`` now would break the limit (else it takes a token)."""
        if self.max_per_second is None:
            return False
        now = time.monotonic()
        self._tokens = min(float(self.max_per_second), self._tokens + (now - self._refilled) * self.max_per_second)
        self._refilled = now
        if self._tokens < 1.0:
            return True
        self._tokens -= 1.0
        return False

    def sent_to(self, chat_id: int, since: float = 0.0) -> List[ApiCall]:
        """``sendMessage`` calls to ``chat_id`` received after ``since``."""
        with self._lock:
            calls = list(self.calls)
        return [
            c for c in calls if c.method == "sendMessage" and c.at >= since and str(c.params.get("chat_id")) == str(chat_id)
        ]

    def called(self, method: str) -> List[ApiCall]:
        """Every call of ``method``."""
        with self._lock:
            return [c for c in self.calls if c.method == method]


def _decode(content_type: str, body: bytes) -> Dict[str, Any]:
    if not body:
        return {}
    if content_type.startswith("application/json"):
        return json.loads(body)
    params: Dict[str, Any] = {}
    for key, values in urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True).items():
        value: Any = values[-1]
        if value[:1] in "[{":
            try:
                value = json.loads(value)
            except ValueError:
                pass
        params[key] = value
    return params


# ---------------------------------------------------------------------- talking to the stack


_ids = itertools.count(int(time.time()) % 1_000_000 * 100)


def update_json(chat_id: int, text: str) -> Dict[str, Any]:
    """A real-shaped Telegram ``message`` update."""
    message: Dict[str, Any] = {
        "message_id": next(_ids),
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private", "first_name": "Mary"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "Mary", "language_code": "en"},
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": next(_ids), "message": message}


@dataclass
class Turns:
    """Sends turns over both channels and times them."""

    rasa_url: str
    api: FakeBotApi
    last_telegram: Dict[int, float] = field(default_factory=dict)
    paced_seconds: float = 0.0

    def rest(self, sender: str, text: str) -> tuple:
        """(milliseconds, reply text) of one REST turn."""
        t0 = time.perf_counter()
        reply = post_json(f"{self.rasa_url}/webhooks/rest/webhook", {"sender": sender, "message": text})
        elapsed = (time.perf_counter() - t0) * 1000
        return elapsed, "\n".join(m.get("text") or "" for m in reply)

    def telegram(self, chat_id: int, text: str) -> tuple:
        """(ms to the first sendMessage, ms to the last, ms until the webhook answered, reply text)."""
        wait = self.last_telegram.get(chat_id, 0.0) + CHAT_SPACING_SECONDS - time.perf_counter()
        if wait > 0:
            self.paced_seconds += wait
            time.sleep(wait)
        t0 = time.perf_counter()
        self.last_telegram[chat_id] = t0
        post_json(f"{self.rasa_url}/webhooks/telegram/webhook", update_json(chat_id, text), {SECRET_HEADER: SECRET})
        answered = (time.perf_counter() - t0) * 1000
        # The webhook answers once the reply has been sent, so every sendMessage is in.
        calls = self.api.sent_to(chat_id, since=t0)
        if not calls:
            raise RuntimeError(f"no sendMessage to {chat_id} for {text!r}")
        first, last = (calls[0].at - t0) * 1000, (calls[-1].at - t0) * 1000
        return first, last, answered, "\n".join(str(c.params.get("text")) for c in calls)


# ---------------------------------------------------------------------- measuring


def measure_turns(turns: int, warmup: int = 5) -> Dict[str, Any]:
    """Starts a stack with Telegram (webhook) on the fake server and times turns both ways."""
    from assistant.stack import Stack, seeded_settings

    results: Dict[str, Any] = {}
    api = FakeBotApi().start()
    saved_environment: Dict[str, Optional[str]] = {}
    with tempfile.TemporaryDirectory() as state_dir:
        state = Path(state_dir)
        settings = seeded_settings(state)
        telegram = {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{settings.rasa_port}/webhooks/telegram/webhook",
            "TELEGRAM_SECRET_TOKEN": SECRET,
            "TELEGRAM_VOICE_ENGINE": "off",
            "TELEGRAM_STATE_DIR": str(state / "telegram"),
        }
        saved_environment = {name: os.environ.get(name) for name in telegram}
        os.environ.update(telegram)  # the Stack passes os.environ to its children
        stack = Stack(settings, log_dir=state / "logs", tracker_db=state / "trackers.db")
        try:
            started = time.perf_counter()
            stack.start(timeout=600)
            results["startup_seconds"] = time.perf_counter() - started
            restore_environment(saved_environment)
            deadline = time.monotonic() + 30
            while not api.called("setWebhook"):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the channel never called setWebhook; see {stack.log_dir}")
                time.sleep(0.1)

            run = Turns(stack.rasa_url, api)
            base = int(time.time()) % 100_000 * 1000
            chats = [base + 1 + k for k in range(CHATS)]
            senders = [f"bench-rest-{chat}" for chat in chats]
            for text in REGISTRATION:
                for chat, sender in zip(chats, senders):
                    run.rest(sender, text)
                    run.telegram(chat, text)
            expected = ""
            for index in range(warmup):
                _, expected = run.rest(senders[index % CHATS], TURN_TEXT)
                run.telegram(chats[index % CHATS], TURN_TEXT)
            results["reply"] = expected

            run.paced_seconds = 0.0
            rest_ms: List[float] = []
            first_ms: List[float] = []
            last_ms: List[float] = []
            webhook_ms: List[float] = []
            for index in range(turns):
                chat, sender = chats[index % CHATS], senders[index % CHATS]
                order = ("rest", "telegram") if index % 2 == 0 else ("telegram", "rest")
                for kind in order:
                    if kind == "rest":
                        elapsed, text = run.rest(sender, TURN_TEXT)
                        rest_ms.append(elapsed)
                    else:
                        first, last, answered, text = run.telegram(chat, TURN_TEXT)
                        first_ms.append(first)
                        last_ms.append(last)
                        webhook_ms.append(answered)
                    if text != expected:  # the same turn both ways, answered alike
                        raise RuntimeError(f"unexpected {kind} reply during the benchmark: {text!r}")
            results["paced_seconds"] = run.paced_seconds
        finally:
            restore_environment(saved_environment)
            stack.stop()
            api.stop()
    results.update(
        turns=turns,
        chats=CHATS,
        rest_p50=statistics.median(rest_ms),
        rest_p95=percentile(rest_ms, 0.95),
        telegram_first_p50=statistics.median(first_ms),
        telegram_first_p95=percentile(first_ms, 0.95),
        telegram_last_p50=statistics.median(last_ms),
        telegram_last_p95=percentile(last_ms, 0.95),
        telegram_webhook_p50=statistics.median(webhook_ms),
        telegram_webhook_p95=percentile(webhook_ms, 0.95),
    )
    results["ratio_p50"] = results["telegram_last_p50"] / results["rest_p50"]
    results["ratio_p95"] = results["telegram_last_p95"] / results["rest_p95"]
    return results


def restore_environment(saved: Dict[str, Optional[str]]) -> None:
    """Put back environment variables as ``saved`` (``None``: unset)."""
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def voice_text(index: int, chars: int = VOICE_TEXT_CHARS) -> str:
    """A reply-like English text of exactly ``chars`` characters, different for each index."""
    text = (
        f"Good morning, Mary. This is reminder number {index}. Please take your blood pressure "
        "pills with a glass of water, and press Done when you have taken them. Your lunch will "
        "arrive at noon today, with soup and bread."
    )
    while len(text) < chars:
        text += " Thank you."
    return text[:chars]


def measure_voice(rounds: int = VOICE_ROUNDS) -> Dict[str, Any]:
    """Median times of offline synthesis of 200 characters, uncached and cached."""
    from assistant.voice import ENGINE_ESPEAK, Speech

    with tempfile.TemporaryDirectory() as cache_dir:
        speech = Speech(Path(cache_dir), online=False)
        speech.synthesize("Warming up the offline voice.", "en")  # lists espeak's voices once
        uncached_ms: List[float] = []
        cached_ms: List[float] = []
        for index in range(rounds):
            text = voice_text(index)
            t0 = time.perf_counter()
            spoken = speech.synthesize(text, "en")
            uncached_ms.append((time.perf_counter() - t0) * 1000)
            if spoken.cached or spoken.engine != ENGINE_ESPEAK:
                raise RuntimeError(f"expected a fresh espeak-ng note, got {spoken.engine}, cached={spoken.cached}")
            t0 = time.perf_counter()
            again = speech.synthesize(text, "en")
            cached_ms.append((time.perf_counter() - t0) * 1000)
            if not again.cached:
                raise RuntimeError("the second synthesis of the same text was not cached")
        audio_kb = len(spoken.audio) / 1024
    return {
        "voice_rounds": rounds,
        "voice_chars": len(voice_text(0)),
        "voice_uncached_p50": statistics.median(uncached_ms),
        "voice_uncached_max": max(uncached_ms),
        "voice_cached_p50": statistics.median(cached_ms),
        "voice_cached_max": max(cached_ms),
        "voice_note_kb": audio_kb,
    }


def run(turns: int) -> Dict[str, Any]:
    """Every figure of this benchmark."""
    results: Dict[str, Any] = {"machine": machine(), "load_before": os.getloadavg()[0]}
    results.update(measure_turns(turns))
    results.update(measure_voice())
    results["load_after"] = os.getloadavg()[0]
    return results


def _verdict(value: float, target: float) -> str:
    return "met" if value < target else "**missed**"


def report(results: Dict[str, Any]) -> str:
    """The figures as a Markdown table, with the targets of issue 5."""
    r = results
    return "\n".join(
        [
            f"Machine: {r['machine']}",
            f"Load average (1 min) before/after: {r['load_before']:.2f} / {r['load_after']:.2f}",
            "",
            "| measure | value | target | |",
            "|---|---|---|---|",
            f"| REST turn `{TURN_TEXT}`, p50 / p95 ({r['turns']} turns) | {r['rest_p50']:.1f} / {r['rest_p95']:.1f} ms | | |",
            f"| Telegram webhook update → first `sendMessage` at the fake server, p50 / p95 | {r['telegram_first_p50']:.1f} / {r['telegram_first_p95']:.1f} ms | | |",
            f"| Telegram webhook update → last `sendMessage` (whole reply), p50 / p95 | {r['telegram_last_p50']:.1f} / {r['telegram_last_p95']:.1f} ms | | |",
            f"| Telegram webhook POST until its 200 (reply already sent), p50 / p95 | {r['telegram_webhook_p50']:.1f} / {r['telegram_webhook_p95']:.1f} ms | | |",
            f"| Telegram ÷ REST, p50 | {r['ratio_p50']:.2f}× | < {TARGET_RATIO}× | {_verdict(r['ratio_p50'], TARGET_RATIO)} |",
            f"| Telegram ÷ REST, p95 | {r['ratio_p95']:.2f}× | | |",
            f"| voice, cached reply (same text again), median of {r['voice_rounds']} | {r['voice_cached_p50']:.2f} ms (max {r['voice_cached_max']:.2f}) | < {TARGET_CACHED_MS:.0f} ms | {_verdict(r['voice_cached_p50'], TARGET_CACHED_MS)} |",
            f"| voice, uncached offline (espeak-ng + ffmpeg → OGG/Opus), {r['voice_chars']} characters, median of {r['voice_rounds']} | {r['voice_uncached_p50']:.0f} ms (max {r['voice_uncached_max']:.0f}) | < {TARGET_UNCACHED_MS:.0f} ms | {_verdict(r['voice_uncached_p50'], TARGET_UNCACHED_MS)} |",
        ]
    )


def main(argv: Optional[List[str]] = None) -> int:
    """Runs the benchmark and prints the table and the raw figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.telegram", description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=60, help="measured turns per channel (default 60)")
    args = parser.parse_args(argv)
    results = run(args.turns)
    print(report(results))
    print("\n" + json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
