"""Spoken test sentences without a microphone: espeak-ng speaks, ffmpeg adds noise and encodes.

Clips are cached per text, voice, speed, noise and format in a directory the caller gives, so a
test session synthesises each one once.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

from assistant.hearing.client import speech_command
from assistant.settings import PROJECT_ROOT, load_settings
from assistant.stack import answers, free_port

ENCODINGS = {
    "ogg": ["-c:a", "libopus", "-b:a", "24k", "-f", "ogg"],  # what Telegram voice notes are
    "webm": ["-c:a", "libopus", "-f", "webm"],  # what Chromium's MediaRecorder makes
    "wav": ["-c:a", "pcm_s16le", "-ar", "16000", "-f", "wav"],
    "mp3": ["-c:a", "libmp3lame", "-q:a", "5", "-f", "mp3"],
}


@dataclass(frozen=True)
class Voice:
    """How espeak-ng says it: a voice, words per minute, pitch, and pink noise mixed in."""

    name: str = "en-gb"
    speed: int = 150
    pitch: int = 50
    noise: float = 0.0
    """Amplitude of pink noise (0: none; 0.05: a quiet room; 0.2: a loud street)."""


VOICES = (
    Voice("en-gb", 150, 50),
    Voice("en-us", 130, 40, noise=0.03),
    Voice("en-gb-x-rp", 165, 60, noise=0.06),
    Voice("en-us+f3", 140, 55, noise=0.02),
)
"""Several voices and speeds, some with background noise."""


def speak(text: str, folder: Path, voice: Voice = Voice(), fmt: str = "ogg") -> Path:
    """A clip of ``text`` spoken by ``voice``, encoded as ``fmt`` (ogg, webm, wav or mp3)."""
    key = hashlib.sha1(repr((text, voice, fmt)).encode()).hexdigest()[:16]
    target = folder / f"{key}.{fmt}"
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    raw = folder / f"{key}.raw.wav"
    subprocess.run(
        ["espeak-ng", "-v", voice.name, "-s", str(voice.speed), "-p", str(voice.pitch), "-w", str(raw), text],
        check=True, capture_output=True,
    )
    encode(raw, target, fmt, voice.noise)
    raw.unlink()
    return target


def encode(source: Path, target: Path, fmt: str, noise: float = 0.0, seconds: Optional[float] = None) -> Path:
    """``source`` re-encoded as ``fmt``, with pink noise (fixed seed) mixed in when ``noise`` > 0."""
    command = ["ffmpeg", "-loglevel", "error", "-y", "-i", str(source)]
    if noise > 0:
        command += ["-f", "lavfi", "-i", f"anoisesrc=color=pink:amplitude={noise}:seed=7",
                    "-filter_complex", "[0:a][1:a]amix=inputs=2:duration=first:normalize=0"]
    if seconds is not None:
        command += ["-t", str(seconds)]
    command += ENCODINGS[fmt] + [str(target)]
    subprocess.run(command, check=True, capture_output=True)
    return target


def silence(folder: Path, seconds: float, fmt: str = "ogg") -> Path:
    """A recording of nothing at all (a pocket, a muted microphone)."""
    return _generated(folder, f"silence-{seconds}.{fmt}", "anullsrc=r=48000:cl=mono", seconds, fmt)


def tone(folder: Path, seconds: float, fmt: str = "ogg") -> Path:
    """A long beep: audio with no words, ``seconds`` long (for the length limit)."""
    return _generated(folder, f"tone-{seconds}.{fmt}", "sine=frequency=440:sample_rate=16000", seconds, fmt)


def _generated(folder: Path, name: str, source: str, seconds: float, fmt: str) -> Path:
    """A clip of ffmpeg's generated ``source`` (made once per folder)."""
    target = folder / name
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", source, "-t", str(seconds),
             *ENCODINGS[fmt], str(target)],
            check=True, capture_output=True,
        )
    return target


def speech_python() -> str:
    """The speech virtualenv's Python (``make setup`` makes it)."""
    return load_settings().speech_python


@contextmanager
def speech_server(log: Path) -> Iterator[str]:
    """The real speech server on a free loopback port, for as long as the block runs; yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(log, "ab") as out:
        process = subprocess.Popen(
            speech_command(speech_python(), "--port", str(port)),
            cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "OMP_NUM_THREADS": "2"},
        )
    try:
        deadline = time.monotonic() + 60
        while not answers(f"{url}/health"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the speech server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def post(url: str, data: bytes) -> tuple[int, dict]:
    """POSTs a file to the speech server; the status and JSON answer."""
    request = urllib.request.Request(f"{url}/transcribe", data=data, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
