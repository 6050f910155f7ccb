"""Tests for spoken replies (``assistant.voice``).

gTTS's real request code runs: its HTTPS requests to translate.google.com are
redirected at ``requests``' transport adapter to a fake Google server on 127.0.0.1,
which answers like Google's batchexecute endpoint with a canned MP3, or with 429, 503
or too slowly. ffmpeg and espeak-ng run for real (``make system-deps`` installs them).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator, List, Optional
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import requests.adapters

from assistant.voice import (
    ENGINE_ESPEAK,
    ENGINE_GTTS,
    CircuitBreaker,
    NothingToSay,
    Speech,
    VoiceError,
    gtts_language,
    normalise_text,
)

@pytest.fixture(autouse=True)
def offline_voice_tools() -> None:
    """Fail (never skip) without the programs the offline voice needs."""
    if not (shutil.which("ffmpeg") and shutil.which("ffprobe") and shutil.which("espeak-ng")):
        pytest.fail("ffmpeg and espeak-ng are missing: `make test` installs them (make system-deps)")

GOOGLE_HOST = "translate.google.com"


class FakeGoogle:
    """Google's text-to-speech endpoint, as gTTS talks to it."""

    def __init__(self, mp3: bytes) -> None:
        self.mp3 = mp3
        self.mode = "ok"  # ok | 429 | 503 | slow
        self.requests: List[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                fake.requests.append({"path": self.path, "body": body})
                if fake.mode in ("429", "503"):
                    self.send_response(int(fake.mode))
                    self.end_headers()
                    return
                if fake.mode == "slow":
                    time.sleep(1.0)
                audio = base64.b64encode(fake.mp3).decode()
                payload = ')]}\'\n\n123\n[["wrb.fr","jQ1olc","[\\"' + audio + '\\"]",null,null,null,"generic"]]\n'
                data = payload.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def spoken(self) -> List[tuple]:
        """(text, language) of every request, decoded from gTTS's RPC body."""
        result = []
        for request in self.requests:
            rpc = json.loads(parse_qs(request["body"])["f.req"][0])
            text, language = json.loads(rpc[0][0][1])[:2]
            result.append((text, language))
        return result


@pytest.fixture(scope="session")
def mp3(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Half a second of tone as MP3, like what Google sends."""
    return subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=0.5",
         "-ac", "1", "-c:a", "libmp3lame", "-b:a", "32k", "-f", "mp3", "pipe:1"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip


@pytest.fixture
def google(mp3: bytes, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGoogle]:
    """Routes gTTS's HTTPS requests for translate.google.com to the fake server."""
    fake = FakeGoogle(mp3)
    fake.thread.start()
    original_send = requests.adapters.HTTPAdapter.send

    def send(self: requests.adapters.HTTPAdapter, request: requests.PreparedRequest, **kwargs: Any) -> Any:
        url = urlsplit(request.url)
        if url.hostname != GOOGLE_HOST:
            raise requests.exceptions.ConnectionError(f"no network in tests: {request.url}")
        request = request.copy()
        request.url = f"http://127.0.0.1:{fake.port}{url.path}?{url.query}"
        kwargs["proxies"] = {}
        return original_send(self, request, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_speech(tmp_path: Path, clock: Optional[Clock] = None, **options: Any) -> Speech:
    breaker = CircuitBreaker(window_seconds=300, clock=clock or Clock())
    return Speech(tmp_path / "voice-cache", gtts_timeout=0.3, breaker=breaker, **options)


def assert_ogg_opus(audio: bytes, tmp_path: Path) -> None:
    assert audio[:4] == b"OggS"
    path = tmp_path / "probe.ogg"
    path.write_bytes(audio)
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,channels", "-of", "json", str(path)],
        capture_output=True, check=True, text=True,
    )  # fmt: skip
    [stream] = json.loads(probe.stdout)["streams"]
    assert stream == {"codec_name": "opus", "channels": 1}


# ---------------------------------------------------------------------- gTTS


def test_google_speech_becomes_ogg_opus_and_is_cached(google: FakeGoogle, tmp_path: Path) -> None:
    speech = make_speech(tmp_path)
    first = speech.synthesize("Time for your   tablets.", "en-GB")
    assert (first.engine, first.language, first.cached) == (ENGINE_GTTS, "en", False)
    assert_ogg_opus(first.audio, tmp_path)
    assert google.spoken() == [("Time for your tablets.", "en")]
    assert google.requests[0]["path"].startswith("/_/TranslateWebserverUi/data/batchexecute")
    cache = speech.cache_path(ENGINE_GTTS, "en", "Time for your tablets.")
    assert cache is not None and cache.read_bytes() == first.audio

    again = speech.synthesize("Time for your tablets.", "en")
    assert again.cached and again.audio == first.audio and again.engine == ENGINE_GTTS
    assert len(google.requests) == 1  # the cache answered

    other = speech.synthesize("Time for your tablets.", "de")  # another language is another note
    assert not other.cached and google.spoken()[-1] == ("Time for your tablets.", "de")


@pytest.mark.parametrize("failure", ["429", "503", "slow", "unreachable"])
def test_google_failing_falls_back_to_espeak_and_opens_the_breaker(
    google: FakeGoogle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    if failure == "unreachable":
        with socket.socket() as probe:  # a port nobody listens on
            probe.bind(("127.0.0.1", 0))
            google.port = probe.getsockname()[1]
    else:
        google.mode = failure
    clock = Clock()
    speech = make_speech(tmp_path, clock)

    started = time.perf_counter()
    spoken = speech.synthesize("Your cleaner comes tomorrow at nine.", "en")
    assert time.perf_counter() - started < 4.0  # the engine below shows the 0.3 s timeout worked
    assert spoken.engine == ENGINE_ESPEAK and not spoken.cached
    assert_ogg_opus(spoken.audio, tmp_path)
    assert speech.breaker.is_open
    asked = len(google.requests)
    assert asked == (0 if failure == "unreachable" else 1)

    # While the breaker is open Google is not asked again, not even for new texts.
    clock.now += 299
    assert speech.synthesize("Your lunch is on its way.", "en").engine == ENGINE_ESPEAK
    assert speech.synthesize("Your cleaner comes tomorrow at nine.", "en").cached
    assert len(google.requests) == asked

    # After the window one call is tried; it works again, so the breaker closes.
    clock.now += 2
    google.mode = "ok"
    if failure == "unreachable":
        google.port = google.server.server_address[1]
    recovered = speech.synthesize("Your lunch is on its way.", "en")
    assert recovered.engine == ENGINE_GTTS and not speech.breaker.is_open
    assert len(google.requests) == asked + 1


def test_offline_speech_never_calls_google(google: FakeGoogle, tmp_path: Path) -> None:
    speech = make_speech(tmp_path, online=False)
    spoken = speech.synthesize("Hello Mary. " * 17, "en")  # about 200 characters
    assert spoken.engine == ENGINE_ESPEAK
    assert_ogg_opus(spoken.audio, tmp_path)
    assert google.requests == [] and not speech.breaker.is_open


def test_a_language_google_does_not_know_is_spoken_offline(google: FakeGoogle, tmp_path: Path) -> None:
    speech = make_speech(tmp_path)
    spoken = speech.synthesize("Hello.", "xx-unknown")
    assert (spoken.engine, spoken.language) == (ENGINE_ESPEAK, "en")
    assert google.requests == [] and not speech.breaker.is_open
    assert speech.synthesize("Olá.", "pt-BR").engine == ENGINE_GTTS
    assert google.spoken()[-1] == ("Olá.", "pt")


def test_nothing_to_say_and_no_engine_at_all(tmp_path: Path) -> None:
    speech = make_speech(tmp_path, online=False)
    with pytest.raises(NothingToSay):
        speech.synthesize("👍 …", "en")
    broken = make_speech(tmp_path, online=False, espeak="espeak-ng-missing")
    with pytest.raises(VoiceError, match="not installed"):
        broken.synthesize("Hello.", "en")


# ---------------------------------------------------------------------- pieces


def test_breaker_lets_one_trial_through_after_its_window() -> None:
    clock = Clock()
    breaker = CircuitBreaker(window_seconds=300, clock=clock)
    assert breaker.allow() and not breaker.is_open
    breaker.record_failure()
    assert breaker.is_open and not breaker.allow()
    clock.now += 300
    assert breaker.allow()  # the half-open trial
    assert not breaker.allow()  # only one at a time
    breaker.record_failure()
    assert not breaker.allow()
    clock.now += 300
    assert breaker.allow()
    breaker.record_success()
    assert breaker.allow() and breaker.allow()


def test_texts_and_languages_are_normalised() -> None:
    assert normalise_text("  Hello\n\nMary  ") == "Hello Mary"
    long = normalise_text("word " * 400, max_chars=100)
    assert len(long) <= 100 and long.endswith("…")
    assert gtts_language("EN-gb") == "en" and gtts_language("zh-tw") == "zh-TW"
    assert gtts_language("pt-PT") == "pt-PT" and gtts_language("xx") is None


def test_the_cache_keeps_the_newest_notes_and_none_older_than_a_day(tmp_path: Path) -> None:
    speech = make_speech(tmp_path, online=False, max_cache_files=2)
    for text in ("One.", "Two.", "Three."):
        speech.synthesize(text, "en")
        time.sleep(0.01)
    assert speech.prune_cache() == 1
    assert sorted(p.name for p in (tmp_path / "voice-cache").glob("*/*.ogg")) == sorted(
        speech.cache_path("espeak", "en", text).name for text in ("Two.", "Three."))  # type: ignore[union-attr]

    two = speech.cache_path("espeak", "en", "Two.")
    assert two is not None and speech.synthesize("Two.", "en").cached
    day_old = time.time() - 24 * 3600 - 60
    os.utime(two, (day_old, day_old))  # written a day ago: spoken words are not kept longer
    assert not speech.synthesize("Two.", "en").cached
    three = speech.cache_path("espeak", "en", "Three.")
    assert three is not None
    os.utime(three, (day_old, day_old))
    assert speech.prune_cache() == 1 and not three.exists()