"""Spoken replies: text and a language in, an OGG/Opus voice note out.

Framework-free (no Rasa, no Telegram). :class:`Speech` asks Google's text-to-speech
through gTTS first and converts its MP3 to OGG/Opus with ``ffmpeg``, the format
Telegram plays as a voice message. When Google cannot be reached (no network, 429,
5xx, a timeout of a few seconds) it speaks offline with ``espeak-ng`` (Debian's
package) instead, and opens a circuit breaker so a dead service is not asked again on
every message for a while. Results are cached on disk by engine, language and text,
so common replies are synthesised once; a cached note is kept a day at most (a reply may
name a person, and the cache is outside the database a person's deletion reaches).

Blocking by design (HTTP and subprocesses): call it from a worker thread in async code.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, FrozenSet, Optional, Tuple

from assistant.settings import STATE_DIR

logger = logging.getLogger(__name__)

DEFAULT_CACHE_DIR = STATE_DIR / "voice-cache"
DEFAULT_GTTS_TIMEOUT = 3.0
DEFAULT_BREAKER_SECONDS = 300.0
DEFAULT_MAX_CHARS = 1000
DEFAULT_MAX_CACHE_FILES = 5000
DEFAULT_MAX_CACHE_AGE_SECONDS = 24 * 3600
"""A cached voice note is spoken words of a reply (which may name a person): kept a day at most."""
DEFAULT_ESPEAK_SPEED = 150  # words per minute; espeak's default of 175 is fast for seniors
SUBPROCESS_TIMEOUT = 30.0
OGG_MAGIC = b"OggS"

ENGINE_GTTS = "gtts"
ENGINE_ESPEAK = "espeak"


class VoiceError(Exception):
    """No voice could be made for a text (both engines failed, or nothing to say)."""


class NothingToSay(VoiceError):
    """The text has no letters or digits to speak."""


@dataclass(frozen=True)
class Spoken:
    """One synthesised voice note."""

    audio: bytes
    engine: str
    language: str
    cached: bool


class CircuitBreaker:
    """Stops calling a failing service for ``window_seconds`` after a failure.

    Closed: calls are allowed. A failure opens it until the window has passed; then
    one call is let through (half-open): success closes it, failure opens it again.
    Thread-safe.
    """

    def __init__(
        self, window_seconds: float = DEFAULT_BREAKER_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Creates a closed breaker."""
        self.window_seconds = window_seconds
        self._clock = clock
        self._open_until: Optional[float] = None
        self._trial_running = False
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        """Whether calls are being refused right now."""
        with self._lock:
            return self._open_until is not None and self._clock() < self._open_until

    def allow(self) -> bool:
        """Whether to call the service now (claims the one half-open trial if due)."""
        with self._lock:
            if self._open_until is None:
                return True
            if self._clock() < self._open_until or self._trial_running:
                return False
            self._trial_running = True
            return True

    def record_success(self) -> None:
        """Closes the breaker."""
        with self._lock:
            self._open_until = None
            self._trial_running = False

    def record_failure(self) -> None:
        """Opens the breaker for a full window."""
        with self._lock:
            self._open_until = self._clock() + self.window_seconds
            self._trial_running = False


def normalise_text(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """The text as it is spoken and cached: one line, NFC, at most ``max_chars``."""
    text = " ".join(unicodedata.normalize("NFC", text or "").split())
    if len(text) > max_chars:
        cut = text[:max_chars]
        text = (cut[: cut.rindex(" ")] if " " in cut else cut).rstrip(" ,;:") + "…"
    return text


def has_words(text: str) -> bool:
    """Whether ``text`` contains a letter or a digit."""
    return any(char.isalnum() for char in text or "")


def _gtts_languages() -> FrozenSet[str]:
    from gtts.lang import tts_langs

    return frozenset(tts_langs())


def gtts_language(language: str) -> Optional[str]:
    """gTTS's code for an IETF language tag (``en-GB`` → ``en``), or ``None``."""
    known = _gtts_languages()
    lowered = {code.lower(): code for code in known}
    tag = (language or "").strip().replace("_", "-").lower()
    if tag in lowered:
        return lowered[tag]
    base = tag.split("-")[0]
    return lowered.get(base)


class Speech:
    """Turns text into an OGG/Opus voice note: gTTS online, espeak-ng offline, cached."""

    def __init__(
        self,
        cache_dir: Optional[Path] = DEFAULT_CACHE_DIR,
        *,
        online: bool = True,
        gtts_timeout: float = DEFAULT_GTTS_TIMEOUT,
        breaker: Optional[CircuitBreaker] = None,
        ffmpeg: str = "ffmpeg",
        espeak: str = "espeak-ng",
        espeak_speed: int = DEFAULT_ESPEAK_SPEED,
        bitrate: str = "32k",
        max_chars: int = DEFAULT_MAX_CHARS,
        max_cache_files: int = DEFAULT_MAX_CACHE_FILES,
        max_cache_age_seconds: float = DEFAULT_MAX_CACHE_AGE_SECONDS,
    ) -> None:
        """Creates a synthesiser; ``online=False`` never calls Google; ``cache_dir=None`` disables the cache."""
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.online = online
        self.gtts_timeout = gtts_timeout
        self.breaker = breaker or CircuitBreaker()
        self.ffmpeg = ffmpeg
        self.espeak = espeak
        self.espeak_speed = espeak_speed
        self.bitrate = bitrate
        self.max_chars = max_chars
        self.max_cache_files = max_cache_files
        self.max_cache_age_seconds = max_cache_age_seconds
        self._espeak_voices: Optional[FrozenSet[str]] = None
        self._writes = 0
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ public

    def synthesize(self, text: str, language: str = "en") -> Spoken:
        """A voice note for ``text`` in ``language``; raises :class:`VoiceError`.

        Order: gTTS's cached result, gTTS (unless offline, unsupported or the breaker
        is open), espeak-ng's cached result, espeak-ng.
        """
        text = normalise_text(text, self.max_chars)
        if not has_words(text):
            raise NothingToSay("there is nothing to say aloud")
        language = (language or "en").strip() or "en"

        google_language = gtts_language(language) if self.online else None
        if google_language is not None:
            cached = self._cache_read(ENGINE_GTTS, google_language, text)
            if cached is not None:
                return Spoken(cached, ENGINE_GTTS, google_language, cached=True)
            if self.breaker.allow():
                try:
                    audio = self._gtts(text, google_language)
                except Exception as error:  # noqa: BLE001 - any failure means "use the offline voice"
                    self.breaker.record_failure()
                    logger.warning(
                        "Google text-to-speech failed (%s); speaking offline for the next %.0f s",
                        _describe(error),
                        self.breaker.window_seconds,
                    )
                else:
                    self.breaker.record_success()
                    self._cache_write(ENGINE_GTTS, google_language, text, audio)
                    return Spoken(audio, ENGINE_GTTS, google_language, cached=False)

        voice = self._espeak_voice(language)
        cached = self._cache_read(ENGINE_ESPEAK, voice, text)
        if cached is not None:
            return Spoken(cached, ENGINE_ESPEAK, voice, cached=True)
        audio = self._espeak_ogg(text, voice)
        self._cache_write(ENGINE_ESPEAK, voice, text, audio)
        return Spoken(audio, ENGINE_ESPEAK, voice, cached=False)

    def cache_path(self, engine: str, language: str, text: str) -> Optional[Path]:
        """Where the voice note for (engine, language, normalised text) is cached."""
        if self.cache_dir is None:
            return None
        key = hashlib.sha256(f"{engine}\n{language}\n{text}".encode("utf-8")).hexdigest()
        return self.cache_dir / key[:2] / f"{key}.ogg"

    # ------------------------------------------------------------------ engines

    def _gtts(self, text: str, language: str) -> bytes:
        from gtts import gTTS

        mp3 = io.BytesIO()
        # lang_check=False: we checked the language against gTTS's own list already.
        gTTS(text, lang=language, lang_check=False, timeout=self.gtts_timeout).write_to_fp(mp3)
        if not mp3.getvalue():
            raise VoiceError("Google returned no audio")
        return self._to_ogg_opus(mp3.getvalue(), "mp3")

    def _espeak_ogg(self, text: str, voice: str) -> bytes:
        command = [self.espeak, "-v", voice, "-s", str(self.espeak_speed), "--stdin", "--stdout"]
        wav = self._run(command, text.encode("utf-8"), "espeak-ng")
        return self._to_ogg_opus(wav, "wav")

    def _to_ogg_opus(self, audio: bytes, input_format: str) -> bytes:
        command = [
            self.ffmpeg, "-hide_banner", "-loglevel", "error",
            "-f", input_format, "-i", "pipe:0",
            "-vn", "-ac", "1", "-ar", "48000",
            "-c:a", "libopus", "-b:a", self.bitrate, "-application", "voip",
            "-f", "ogg", "pipe:1",
        ]  # fmt: skip
        ogg = self._run(command, audio, "ffmpeg")
        if not ogg.startswith(OGG_MAGIC):
            raise VoiceError("ffmpeg did not produce an OGG file")
        return ogg

    def _run(self, command: list, data: bytes, what: str) -> bytes:
        if shutil.which(command[0]) is None:
            raise VoiceError(f"{command[0]} is not installed (Debian: apt-get install {what})")
        try:
            result = subprocess.run(
                command, input=data, capture_output=True, timeout=SUBPROCESS_TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired as error:
            raise VoiceError(f"{what} took longer than {SUBPROCESS_TIMEOUT:.0f} s") from error
        if result.returncode != 0 or not result.stdout:
            detail = result.stderr.decode("utf-8", "replace").strip()[:300]
            raise VoiceError(f"{what} failed (exit code {result.returncode}): {detail}")
        return result.stdout

    def _espeak_voice(self, language: str) -> str:
        """espeak-ng's voice for a language tag (``pt-BR`` → ``pt-br`` or ``pt``; else ``en``)."""
        if self._espeak_voices is None:
            self._espeak_voices = self._list_espeak_voices()
        tag = language.strip().replace("_", "-").lower()
        for candidate in (tag, tag.split("-")[0]):
            if candidate in self._espeak_voices:
                return candidate
        return "en"

    def _list_espeak_voices(self) -> FrozenSet[str]:
        try:
            listing = self._run([self.espeak, "--voices"], b"", "espeak-ng").decode("utf-8", "replace")
        except VoiceError as error:
            logger.warning("cannot list espeak-ng voices: %s", error)
            return frozenset({"en"})
        voices = set()
        for line in listing.splitlines()[1:]:
            columns = line.split()
            if len(columns) >= 2:
                voices.add(columns[1].lower())
        return frozenset(voices or {"en"})

    # ------------------------------------------------------------------ cache

    def _cache_read(self, engine: str, language: str, text: str) -> Optional[bytes]:
        path = self.cache_path(engine, language, text)
        if path is None:
            return None
        try:
            if time.time() - path.stat().st_mtime > self.max_cache_age_seconds:
                path.unlink()  # older than a day: made again, never kept longer
                return None
            audio = path.read_bytes()
        except OSError:
            return None
        if not audio.startswith(OGG_MAGIC):
            return None
        return audio

    def _cache_write(self, engine: str, language: str, text: str, audio: bytes) -> None:
        path = self.cache_path(engine, language, text)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as handle:
                handle.write(audio)
            os.replace(handle.name, path)
        except OSError as error:
            logger.warning("cannot cache a voice note in %s: %s", path.parent, error)
            return
        with self._lock:
            self._writes += 1
            prune = self._writes % 100 == 0
        if prune:
            self.prune_cache()

    def prune_cache(self) -> int:
        """Deletes notes older than ``max_cache_age_seconds``, then the oldest beyond ``max_cache_files``;
        returns how many."""
        if self.cache_dir is None or not self.cache_dir.exists():
            return 0
        files: list[Tuple[float, Path]] = []
        for path in self.cache_dir.glob("*/*.ogg"):
            try:
                files.append((path.stat().st_mtime, path))
            except OSError:
                continue
        files.sort()
        oldest_kept = time.time() - self.max_cache_age_seconds
        expired = sum(1 for written, _ in files if written < oldest_kept)
        doomed = files[:max(expired, len(files) - self.max_cache_files)]
        for _, path in doomed:
            try:
                path.unlink()
            except OSError:
                pass
        return len(doomed)


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}"[:200] if text else type(error).__name__
